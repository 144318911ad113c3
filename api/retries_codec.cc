// Retries codec; see api/retries_codec.h.
#include "api/retries_codec.h"

#include "api/json_object_codec.h"

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Backoff& out) {
  ObjectReader r(j, path, errors);
  r.read("base", out.base);
  r.read("max", out.max);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Retries& out) {
  ObjectReader r(j, path, errors);
  r.read("attempts", out.attempts);
  r.read("perTryTimeout", out.perTryTimeout);
  r.read("retryOn", out.retryOn);
  r.read("backoff", out.backoff);
}

void to_json(nlohmann::json& j, const Backoff& in) {
  j = ObjectWriter().optional("base", in.base).optional("max", in.max).take();
}

void to_json(nlohmann::json& j, const Retries& in) {
  j = ObjectWriter()
          .optional("attempts", in.attempts)
          .optional("perTryTimeout", in.perTryTimeout)
          .nonEmpty("retryOn", in.retryOn)
          .optional("backoff", in.backoff)
          .take();
}

}  // namespace meshgate::api
