// Tests for api/mesh_service_validation.h. The full rule table lives in api/testdata/invalid
// (invalid_objects_test.cc); these cover valid objects and behaviour the table cannot show.
#include "api/mesh_service_validation.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/mesh_service_codec.h"
#include "api/yaml_loader.h"

namespace meshgate::api {
namespace {

std::vector<std::string> messages(const ErrorList& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors)
    out.push_back(e.toString());
  return out;
}

MeshService load(const std::string& path) {
  const auto loaded = loadYamlFile(path);
  EXPECT_TRUE(loaded.ok()) << loaded.error;
  const auto decoded = decodeMeshService(loaded.documents.at(0));
  EXPECT_TRUE(decoded.ok()) << formatErrors(decoded.errors);
  return decoded.object.value_or(MeshService{});
}

MeshService minimal() {
  MeshService ms;
  ms.metadata.name = "pay";
  ms.spec.selector = {{"app", "pay"}};
  ms.spec.ports.push_back({.name = "http", .port = 8080});
  return ms;
}

TEST(MeshServiceValidationTest, AcceptsValidObjects) {
  for (const char* path : {"api/testdata/valid/mesh-service-minimal.yaml",
                           "api/testdata/valid/mesh-service-static-endpoints.yaml"}) {
    EXPECT_EQ(messages(validateMeshService(load(path))), std::vector<std::string>{}) << path;
  }
}

TEST(MeshServiceValidationTest, RoundTripFixtureFailsOnlyOnItsDeliberateHashConflict) {
  EXPECT_EQ(messages(validateMeshService(load("api/testdata/roundtrip/mesh-service.yaml"))),
            (std::vector<std::string>{
                "spec.loadBalancer.hash: Invalid value: \"object\": exactly one of header, cookie "
                "or sourceIP must be set"}));
}

TEST(MeshServiceValidationTest, AcceptsEndpointsWithoutSelector) {
  MeshService ms = minimal();
  ms.spec.selector.clear();
  ms.spec.endpoints.push_back({.address = "2001:db8::1"});
  EXPECT_TRUE(validateMeshService(ms).empty());
}

TEST(MeshServiceValidationTest, JudgesAbsentDefaultedFieldsAsTheirDefaults) {
  MeshService ms = minimal();
  ms.spec.healthCheck = HealthCheck{.path = "/healthz", .interval = "500ms"};
  EXPECT_EQ(messages(validateMeshService(ms)),
            (std::vector<std::string>{"spec.healthCheck.timeout: Invalid value: \"1s\": must not "
                                      "be longer than interval (500ms)"}));
}

TEST(MeshServiceValidationTest, DoesNotModifyItsInput) {
  MeshService ms = minimal();
  ms.spec.healthCheck = HealthCheck{.path = "/healthz"};
  const MeshService before = ms;
  validateMeshService(ms);
  EXPECT_EQ(ms, before);
}

TEST(MeshServiceValidationTest, TimeoutEqualToIntervalIsAllowed) {
  MeshService ms = minimal();
  ms.spec.healthCheck = HealthCheck{.path = "/", .interval = "1m", .timeout = "60s"};
  EXPECT_TRUE(validateMeshService(ms).empty());
}

TEST(MeshServiceValidationTest, ReportsEveryDuplicatePortAfterTheFirst) {
  MeshService ms = minimal();
  ms.spec.ports = {{.name = "a", .port = 1}, {.name = "a", .port = 1}, {.name = "a", .port = 1}};
  EXPECT_EQ(
      messages(validateMeshService(ms)),
      (std::vector<std::string>{
          "spec.ports[1].name: Duplicate value: \"a\"", "spec.ports[1].port: Duplicate value: 1",
          "spec.ports[2].name: Duplicate value: \"a\"", "spec.ports[2].port: Duplicate value: 1"}));
}

TEST(MeshServiceValidationTest, LimitsStaticEndpointsToOneThousand) {
  MeshService ms = minimal();
  for (int i = 0; i < 1001; ++i)
    ms.spec.endpoints.push_back({.address = "10.0.0.1"});
  EXPECT_EQ(
      messages(validateMeshService(ms)),
      (std::vector<std::string>{"spec.endpoints: Too many: 1001: must have at most 1000 items"}));
}

TEST(MeshServiceValidationTest, HashOnUnsupportedPolicyReportsOnlyThePolicy) {
  MeshService ms = minimal();
  ms.spec.loadBalancer = LoadBalancer{.policy = "Maglev", .hash = HashKey{.header = "x-user"}};
  EXPECT_EQ(messages(validateMeshService(ms)),
            (std::vector<std::string>{
                "spec.loadBalancer.policy: Unsupported value: \"Maglev\": supported values: "
                "\"RoundRobin\", \"LeastRequest\", \"Random\", \"RingHash\""}));
}

TEST(MeshServiceValidationTest, EmptyAllowListIsValidAndMeansNobody) {
  MeshService ms = minimal();
  ms.spec.authorization.emplace();
  EXPECT_TRUE(validateMeshService(ms).empty());
}

}  // namespace
}  // namespace meshgate::api
