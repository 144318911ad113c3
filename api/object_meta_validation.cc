// ObjectMeta validation; see api/object_meta_validation.h.
#include "api/object_meta_validation.h"

#include "api/value_rules.h"

namespace meshgate::api {

void validateObjectMeta(const ObjectMeta& meta, const FieldPath& path, ErrorList& errors) {
  const FieldPath name = path.child("name");
  if (validateRequired(meta.name, name, errors)) validateDnsSubdomain(meta.name, name, errors);
}

}  // namespace meshgate::api
