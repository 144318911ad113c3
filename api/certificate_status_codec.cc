// CertificateStatus codec; see api/certificate_status_codec.h.
#include "api/certificate_status_codec.h"

#include "api/json_object_codec.h"

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                CertificateStatus& out) {
  ObjectReader r(j, path, errors);
  r.read("secretName", out.secretName);
  r.read("notAfter", out.notAfter);
}

void to_json(nlohmann::json& j, const CertificateStatus& in) {
  j = ObjectWriter().nonEmpty("secretName", in.secretName).nonEmpty("notAfter", in.notAfter).take();
}

}  // namespace meshgate::api
