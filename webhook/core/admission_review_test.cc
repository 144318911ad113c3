// AdmissionReview decoding (what is required, what is tolerated) and response encoding.
#include "webhook/core/admission_review.h"

#include <gtest/gtest.h>

#include "base/base64.h"

namespace meshgate::webhook {
namespace {

nlohmann::json podReview() {
  return nlohmann::json::parse(R"({
    "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
    "request": {
      "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
      "kind": {"group": "", "version": "v1", "kind": "Pod"},
      "resource": {"group": "", "version": "v1", "resource": "pods"},
      "namespace": "shop", "operation": "CREATE",
      "userInfo": {"username": "admin", "groups": ["system:masters"]},
      "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "web-"}},
      "oldObject": null, "dryRun": true, "options": {"kind": "CreateOptions"},
      "someFutureField": {"x": 1}
    }})");
}

TEST(AdmissionReviewTest, DecodesTheFieldsHandlersUse) {
  auto request = decodeAdmissionReview(podReview());
  ASSERT_TRUE(request.ok()) << request.error();
  EXPECT_EQ(request->uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(request->kind.kind, "Pod");
  EXPECT_EQ(request->kind.version, "v1");
  EXPECT_EQ(request->resource, "pods");
  EXPECT_EQ(request->namespace_, "shop");
  EXPECT_EQ(request->name, "");
  EXPECT_EQ(request->operation, "CREATE");
  EXPECT_EQ(request->userName, "admin");
  EXPECT_TRUE(request->dryRun);
  EXPECT_EQ(request->object["metadata"]["generateName"], "web-");
  EXPECT_TRUE(request->oldObject.is_null());
}

TEST(AdmissionReviewTest, RefusesWhatAHandlerCannotAnswer) {
  EXPECT_EQ(decodeAdmissionReview(nlohmann::json::array()).error(),
            "the body is not a JSON object");
  auto review = podReview();
  review["apiVersion"] = "admission.k8s.io/v1beta1";
  EXPECT_NE(decodeAdmissionReview(review).error().find("apiVersion: Unsupported value"),
            std::string::npos);
  review = podReview();
  review["kind"] = "Pod";
  EXPECT_NE(decodeAdmissionReview(review).error().find("kind: Unsupported value"),
            std::string::npos);
  review = podReview();
  review.erase("request");
  EXPECT_EQ(decodeAdmissionReview(review).error(),
            "request: Required value: an AdmissionReview request object");
  review = podReview();
  review["request"].erase("uid");
  EXPECT_EQ(decodeAdmissionReview(review).error(), "request.uid: Required value");
  review = podReview();
  review["request"]["uid"] = 7;
  EXPECT_EQ(decodeAdmissionReview(review).error(), "request.uid: must be a string");
  review = podReview();
  review["request"]["operation"] = "PATCH";
  EXPECT_NE(decodeAdmissionReview(review).error().find("request.operation: Unsupported value"),
            std::string::npos);
}

TEST(AdmissionReviewTest, AnAllowedResponseCarriesTheBase64Patch) {
  AdmissionDecision decision;
  decision.patch = nlohmann::json::array(
      {{{"op", "add"}, {"path", "/metadata/annotations/meshgate.io~1injected"}, {"value", "1"}}});
  decision.warnings = {"careful"};
  const auto review = encodeAdmissionResponse("u-1", decision);
  EXPECT_EQ(review["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(review["kind"], "AdmissionReview");
  const auto& response = review["response"];
  EXPECT_EQ(response["uid"], "u-1");
  EXPECT_EQ(response["allowed"], true);
  EXPECT_EQ(response["patchType"], "JSONPatch");
  auto decoded = meshgate::base64Decode(response["patch"].get<std::string>());
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(nlohmann::json::parse(*decoded), *decision.patch);
  EXPECT_EQ(response["warnings"], nlohmann::json::array({"careful"}));
  EXPECT_FALSE(response.contains("status"));
}

TEST(AdmissionReviewTest, AnEmptyPatchIsLeftOut) {
  AdmissionDecision decision;
  decision.patch = nlohmann::json::array();
  const auto response = encodeAdmissionResponse("u-2", decision)["response"];
  EXPECT_FALSE(response.contains("patch"));
  EXPECT_FALSE(response.contains("patchType"));
  EXPECT_FALSE(response.contains("warnings"));
}

TEST(AdmissionReviewTest, ADenialCarriesTheStatusAndNoPatch) {
  auto decision = AdmissionDecision::deny("spec.hosts[0]: Forbidden: no", 403, "Forbidden");
  decision.patch = nlohmann::json::array({{{"op", "remove"}, {"path", "/a"}}});
  const auto response = encodeAdmissionResponse("u-3", decision)["response"];
  EXPECT_EQ(response["allowed"], false);
  EXPECT_EQ(response["status"]["code"], 403);
  EXPECT_EQ(response["status"]["reason"], "Forbidden");
  EXPECT_EQ(response["status"]["message"], "spec.hosts[0]: Forbidden: no");
  EXPECT_FALSE(response.contains("patch"));
}

}  // namespace
}  // namespace meshgate::webhook
