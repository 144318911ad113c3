// Validation of the metadata rules both kinds share: metadata.name must be a DNS subdomain.
// Called first by the MeshService and ApiRoute validators so its errors lead the list.
#pragma once

#include "api/field_error.h"
#include "api/field_path.h"
#include "api/object_meta.h"

namespace meshgate::api {

// `path` is normally FieldPath("metadata").
void validateObjectMeta(const ObjectMeta& meta, const FieldPath& path, ErrorList& errors);

}  // namespace meshgate::api
