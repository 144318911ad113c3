// Condition codec; see api/condition_codec.h.
#include "api/condition_codec.h"

#include "api/json_object_codec.h"

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Condition& out) {
  ObjectReader r(j, path, errors);
  r.read("type", out.type);
  r.read("status", out.status);
  r.read("reason", out.reason);
  r.read("message", out.message);
  r.read("observedGeneration", out.observedGeneration);
  r.read("lastTransitionTime", out.lastTransitionTime);
}

void to_json(nlohmann::json& j, const Condition& in) {
  // metav1.Condition requires every field except observedGeneration, so they are always written.
  j = ObjectWriter()
          .always("type", in.type)
          .always("status", in.status)
          .always("reason", in.reason)
          .always("message", in.message)
          .nonZero("observedGeneration", in.observedGeneration)
          .always("lastTransitionTime", in.lastTransitionTime)
          .take();
}

}  // namespace meshgate::api
