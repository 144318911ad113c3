// ObjectMeta codec; see api/object_meta_codec.h.
#include "api/object_meta_codec.h"

#include "api/json_object_codec.h"

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                OwnerReference& out) {
  ObjectReader r(j, path, errors);
  r.read("apiVersion", out.apiVersion);
  r.read("kind", out.kind);
  r.read("name", out.name);
  r.read("uid", out.uid);
  r.read("controller", out.controller);
  r.read("blockOwnerDeletion", out.blockOwnerDeletion);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                ObjectMeta& out) {
  ObjectReader r(j, path, errors);
  r.read("name", out.name);
  r.read("namespace", out.namespace_);
  r.read("uid", out.uid);
  r.read("generation", out.generation);
  r.read("resourceVersion", out.resourceVersion);
  r.read("creationTimestamp", out.creationTimestamp);
  r.read("labels", out.labels);
  r.read("annotations", out.annotations);
  r.read("ownerReferences", out.ownerReferences);
  r.read("deletionTimestamp", out.deletionTimestamp);
}

void to_json(nlohmann::json& j, const OwnerReference& in) {
  j = ObjectWriter()
          .always("apiVersion", in.apiVersion)
          .always("kind", in.kind)
          .always("name", in.name)
          .always("uid", in.uid)
          .optional("controller", in.controller)
          .optional("blockOwnerDeletion", in.blockOwnerDeletion)
          .take();
}

void to_json(nlohmann::json& j, const ObjectMeta& in) {
  j = ObjectWriter()
          .nonEmpty("name", in.name)
          .nonEmpty("namespace", in.namespace_)
          .nonEmpty("uid", in.uid)
          .nonZero("generation", in.generation)
          .nonEmpty("resourceVersion", in.resourceVersion)
          .nonEmpty("creationTimestamp", in.creationTimestamp)
          .nonEmpty("labels", in.labels)
          .nonEmpty("annotations", in.annotations)
          .nonEmpty("ownerReferences", in.ownerReferences)
          .optional("deletionTimestamp", in.deletionTimestamp)
          .take();
}

}  // namespace meshgate::api
