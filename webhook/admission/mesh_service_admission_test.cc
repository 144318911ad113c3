// Tests of MeshService defaulting (the RFC 6902 patch) and validation.
#include "webhook/admission/mesh_service_admission.h"

#include <gtest/gtest.h>

#include "api/mesh_service_codec.h"
#include "webhook/core/fake_cluster_view.h"

namespace meshgate::webhook {
namespace {

using nlohmann::json;

json meshService() {
  return R"({
    "apiVersion": "meshgate.io/v1alpha1", "kind": "MeshService",
    "metadata": {"name": "orders", "namespace": "shop"},
    "spec": {
      "selector": {"app": "orders"},
      "ports": [{"name": "http", "port": 8080}, {"name": "grpc", "port": 9090, "targetPort": 9091}]
    }})"_json;
}

AdmissionRequest request(const std::string& operation, json object) {
  AdmissionRequest r;
  r.uid = "uid-1";
  r.kind = {"meshgate.io", "v1alpha1", "MeshService"};
  r.resource = "meshservices";
  r.namespace_ = "shop";
  r.name = "orders";
  r.operation = operation;
  r.object = std::move(object);
  return r;
}

bool noPatch(const AdmissionDecision& d) {
  return !d.patch || d.patch->empty();
}

class MeshServiceAdmissionTest : public testing::Test {
 protected:
  FakeClusterView view_;
  WebhookConfig config_;
};

TEST_F(MeshServiceAdmissionTest, MutateAddsServiceAccountAndMissingTargetPortsOnly) {
  const AdmissionDecision d = mutateMeshService(request("CREATE", meshService()));
  ASSERT_TRUE(d.allowed);
  ASSERT_TRUE(d.patch.has_value());
  EXPECT_EQ(*d.patch, R"([
    {"op": "add", "path": "/spec/ports/0/targetPort", "value": 8080},
    {"op": "add", "path": "/spec/serviceAccount", "value": "orders"}
  ])"_json);
  const json patched = meshService().patch(*d.patch);
  EXPECT_EQ(patched["spec"]["ports"][1]["targetPort"], 9091) << "a set targetPort is kept";
}

TEST_F(MeshServiceAdmissionTest, MutatingThePatchedObjectAgainGivesNoPatch) {
  const AdmissionDecision first = mutateMeshService(request("UPDATE", meshService()));
  ASSERT_TRUE(first.patch.has_value());
  const json patched = meshService().patch(*first.patch);
  EXPECT_TRUE(noPatch(mutateMeshService(request("UPDATE", patched))));
}

TEST_F(MeshServiceAdmissionTest, MutateNeverChangesAServiceAccountAlreadySet) {
  json object = meshService();
  object["spec"]["serviceAccount"] = "orders-runtime";
  object["spec"]["ports"][0]["targetPort"] = 8081;
  EXPECT_TRUE(noPatch(mutateMeshService(request("CREATE", object))));
}

TEST_F(MeshServiceAdmissionTest, MutateLeavesAnUndecodableObjectUnpatched) {
  json object = meshService();
  object["spec"]["ports"][0]["port"] = "eighty";
  const AdmissionDecision d = mutateMeshService(request("CREATE", object));
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(noPatch(d));
}

TEST_F(MeshServiceAdmissionTest, MutateDoesNotCopyAnOutOfRangePortIntoTargetPort) {
  json object = meshService();
  object["spec"]["ports"][0]["port"] = 70000;
  object["spec"]["serviceAccount"] = "orders";
  EXPECT_TRUE(noPatch(mutateMeshService(request("CREATE", object))));
}

TEST_F(MeshServiceAdmissionTest, MutateIgnoresDeleteAndNonObjects) {
  EXPECT_TRUE(noPatch(mutateMeshService(request("DELETE", json()))));
  const AdmissionDecision d = mutateMeshService(request("CREATE", json::array({1, 2})));
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(noPatch(d));
}

TEST_F(MeshServiceAdmissionTest, ValidObjectIsAllowed) {
  EXPECT_TRUE(validateMeshService(request("CREATE", meshService()), config_, view_).allowed);
}

TEST_F(MeshServiceAdmissionTest, InvalidObjectIsDeniedWithTheValidatorsMessageAnd422) {
  json object = meshService();
  object["spec"]["ports"][0]["port"] = 70000;
  const AdmissionDecision d = validateMeshService(request("CREATE", object), config_, view_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 422);
  EXPECT_EQ(d.reason, "Invalid");
  EXPECT_EQ(d.message,
            "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive");
}

TEST_F(MeshServiceAdmissionTest, SeveralErrorsAreAggregatedInFieldOrder) {
  json object = meshService();
  object["spec"]["ports"][1]["name"] = "http";
  object["spec"]["mtls"] = {{"mode", "STRICT"}};
  const AdmissionDecision d = validateMeshService(request("UPDATE", object), config_, view_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 422);
  EXPECT_EQ(d.message,
            "[spec.ports[1].name: Duplicate value: \"http\", spec.mtls.mode: Unsupported value: "
            "\"STRICT\": supported values: \"Strict\", \"Permissive\", \"Disabled\"]");
}

TEST_F(MeshServiceAdmissionTest, WrongJsonTypeIsDeniedWithTheDecodersMessage) {
  json object = meshService();
  object["spec"]["ports"][0]["port"] = "eighty";
  const AdmissionDecision d = validateMeshService(request("CREATE", object), config_, view_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 422);
  const auto decoded = api::decodeMeshService(object);
  ASSERT_EQ(decoded.errors.size(), 1u);
  EXPECT_EQ(d.message, decoded.errors[0].toString());
  EXPECT_NE(d.message.find("spec.ports[0].port"), std::string::npos) << d.message;
}

TEST_F(MeshServiceAdmissionTest, NonObjectIsDeniedWithoutThrowing) {
  AdmissionDecision d;
  EXPECT_NO_THROW(d = validateMeshService(request("CREATE", json("orders")), config_, view_));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.message, "Invalid value: \"orders\": expected an object");
}

TEST_F(MeshServiceAdmissionTest, DeleteIsAllowed) {
  AdmissionRequest r = request("DELETE", json());
  r.oldObject = meshService();
  EXPECT_TRUE(validateMeshService(r, config_, view_).allowed);
}

TEST_F(MeshServiceAdmissionTest, StatusWritesAndUpdatesOfADeletingObjectAreAllowed) {
  json object = meshService();
  object["spec"]["ports"][0]["port"] = 70000;
  AdmissionRequest status = request("UPDATE", object);
  status.subResource = "status";
  EXPECT_TRUE(validateMeshService(status, config_, view_).allowed);
  object["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z";
  EXPECT_TRUE(validateMeshService(request("UPDATE", object), config_, view_).allowed);
  EXPECT_FALSE(validateMeshService(request("CREATE", object), config_, view_).allowed);
}

}  // namespace
}  // namespace meshgate::webhook
