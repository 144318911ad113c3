// Fuzzes webhook::decodeAdmissionReview (webhook/core/admission_review.h) on request bodies as the
// admission server parses them, and the response encoder on what decoded. Invariants: nothing
// throws; a decoded review has the uid and operation the webhook relies on, its object decodes (or
// not) as its kind says, and the response it gets names that uid and serializes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/api_route_codec.h"
#include "api/mesh_service_codec.h"
#include "fuzz/fuzz_check.h"
#include "webhook/core/admission_review.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshgate::webhook;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto review = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (review.is_discarded()) return 0;
  const auto decoded = decodeAdmissionReview(review);
  if (!decoded.ok()) {
    FUZZ_CHECK(!decoded.error().empty());
    return 0;
  }
  const AdmissionRequest& request = *decoded;
  FUZZ_CHECK(!request.uid.empty());
  FUZZ_CHECK(!request.operation.empty());

  if (request.kind.kind == "ApiRoute") (void)meshgate::api::decodeApiRoute(request.object);
  if (request.kind.kind == "MeshService") (void)meshgate::api::decodeMeshService(request.object);

  AdmissionDecision denied = AdmissionDecision::deny("denied: " + request.name, 422, "Invalid");
  denied.warnings.push_back(request.namespace_);
  AdmissionDecision patched = AdmissionDecision::allow();
  patched.patch = nlohmann::json::array(
      {{{"op", "add"}, {"path", "/metadata/labels"}, {"value", request.object}}});
  for (const AdmissionDecision& decision : {AdmissionDecision::allow(), denied, patched}) {
    const nlohmann::json response = encodeAdmissionResponse(request.uid, decision);
    FUZZ_CHECK(response.at("response").at("uid") == request.uid);
    (void)response.dump();
  }
  return 0;
}
