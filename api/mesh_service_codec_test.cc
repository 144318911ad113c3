// Tests for api/mesh_service_codec.h: JSON round trips, unknown fields, wrong types.
#include "api/mesh_service_codec.h"

#include <string>

#include <gtest/gtest.h>

#include "api/yaml_loader.h"

namespace meshgate::api {
namespace {

using nlohmann::json;

json loadFixture(const std::string& path) {
  const auto loaded = loadYamlFile(path);
  EXPECT_TRUE(loaded.ok()) << loaded.error;
  EXPECT_EQ(loaded.documents.size(), 1u);
  return loaded.documents.empty() ? json() : loaded.documents[0];
}

std::vector<std::string> messages(const ErrorList& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors)
    out.push_back(e.toString());
  return out;
}

TEST(MeshServiceCodecTest, RoundTripsAnObjectWithEveryFieldSet) {
  const json original = loadFixture("api/testdata/roundtrip/mesh-service.yaml");
  const auto first = decodeMeshService(original);
  ASSERT_TRUE(first.ok()) << formatErrors(first.errors);

  const json encoded = encodeMeshService(*first.object);
  EXPECT_EQ(encoded, original) << encoded.dump(2);

  const auto second = decodeMeshService(encoded);
  ASSERT_TRUE(second.ok()) << formatErrors(second.errors);
  EXPECT_EQ(*second.object, *first.object);
}

TEST(MeshServiceCodecTest, DecodesFieldsIntoTheirPlaces) {
  const auto decoded = decodeMeshService(loadFixture("api/testdata/roundtrip/mesh-service.yaml"));
  ASSERT_TRUE(decoded.ok());
  const MeshService& ms = *decoded.object;
  EXPECT_EQ(ms.metadata.name, "pay");
  EXPECT_EQ(ms.metadata.namespace_, "shop");
  EXPECT_EQ(ms.metadata.generation, 4);
  EXPECT_EQ(ms.metadata.ownerReferences.at(0).controller, true);
  EXPECT_EQ(ms.spec.selector.at("app"), "pay");
  EXPECT_EQ(ms.spec.endpoints.at(1).address, "fd00::7");
  EXPECT_EQ(ms.spec.ports.at(1).protocol, "HTTP2");
  EXPECT_EQ(ms.spec.ports.at(0).targetPort, 9090);
  EXPECT_EQ(ms.spec.loadBalancer->hash->sourceIP, true);
  EXPECT_EQ(ms.spec.healthCheck->timeout, "500ms");
  EXPECT_EQ(ms.spec.retries->retryOn.size(), 5u);
  EXPECT_EQ(ms.spec.retries->backoff->max, "1s");
  EXPECT_EQ(ms.spec.authorization->allow.at(1).namespace_, "billing");
  EXPECT_FALSE(ms.spec.authorization->allow.at(1).serviceAccount.has_value());
  EXPECT_EQ(ms.spec.subsets.at(1).labels.at("track"), "canary");
  EXPECT_EQ(ms.status.conditions.at(1).status, "False");
  EXPECT_EQ(ms.status.endpoints->total, 3);
  EXPECT_EQ(ms.status.certificate->secretName, "meshgate-identity-pay-sa");
}

TEST(MeshServiceCodecTest, IgnoresUnknownFields) {
  const json j = json::parse(R"({
    "apiVersion": "meshgate.io/v1alpha1", "kind": "MeshService",
    "metadata": {"name": "pay", "managedFields": [{"manager": "kubectl"}], "finalizers": ["x"]},
    "spec": {"selector": {"app": "pay"}, "ports": [{"name": "http", "port": 8080, "appProtocol": "h2c"}],
             "futureField": {"nested": [1, 2, 3]}},
    "status": {"somethingNew": true}
  })");
  const auto decoded = decodeMeshService(j);
  ASSERT_TRUE(decoded.ok()) << formatErrors(decoded.errors);
  EXPECT_EQ(decoded.object->spec.ports.at(0).port, 8080);
}

TEST(MeshServiceCodecTest, ReportsWrongTypesWithFieldPaths) {
  const json j = json::parse(R"({
    "metadata": {"name": 7, "labels": {"app": 5}},
    "spec": {
      "selector": ["app"],
      "endpoints": {"address": "10.0.0.1"},
      "ports": [{"name": "http", "port": "abc", "targetPort": 8080.5}, "http"],
      "loadBalancer": {"hash": {"sourceIP": "yes"}},
      "healthCheck": {"path": "/healthz", "healthyThreshold": 2.5},
      "mtls": "Strict",
      "retries": {"retryOn": "5xx"},
      "subsets": [{"name": "v1", "labels": {"version": null}}]
    },
    "status": {"observedGeneration": "1"}
  })");
  const auto decoded = decodeMeshService(j);
  EXPECT_FALSE(decoded.ok());
  EXPECT_FALSE(decoded.object.has_value());
  EXPECT_EQ(messages(decoded.errors),
            (std::vector<std::string>{
                R"(metadata.name: Invalid value: 7: expected a string)",
                R"(metadata.labels[app]: Invalid value: 5: expected a string)",
                R"(spec.selector: Invalid value: "array": expected an object)",
                R"(spec.endpoints: Invalid value: "object": expected an array)",
                R"(spec.ports[0].port: Invalid value: "abc": expected an integer)",
                R"(spec.ports[0].targetPort: Invalid value: 8080.5: expected an integer)",
                R"(spec.ports[1]: Invalid value: "http": expected an object)",
                R"(spec.loadBalancer.hash.sourceIP: Invalid value: "yes": expected a boolean)",
                R"(spec.healthCheck.healthyThreshold: Invalid value: 2.5: expected an integer)",
                R"(spec.retries.retryOn: Invalid value: "5xx": expected an array)",
                R"(spec.mtls: Invalid value: "Strict": expected an object)",
                R"(spec.subsets[0].labels[version]: Invalid value: null: expected a string)",
                R"(status.observedGeneration: Invalid value: "1": expected an integer)",
            }));
}

TEST(MeshServiceCodecTest, TreatsNullAsAbsent) {
  const auto decoded = decodeMeshService(json::parse(
      R"({"metadata": {"name": "pay"}, "spec": {"timeout": null, "healthCheck": null,
          "ports": [{"name": "http", "port": 8080, "protocol": null}]}, "status": null})"));
  ASSERT_TRUE(decoded.ok()) << formatErrors(decoded.errors);
  EXPECT_FALSE(decoded.object->spec.timeout.has_value());
  EXPECT_FALSE(decoded.object->spec.healthCheck.has_value());
  EXPECT_FALSE(decoded.object->spec.ports.at(0).protocol.has_value());
}

TEST(MeshServiceCodecTest, RejectsAnotherKindOrVersion) {
  const auto decoded = decodeMeshService(json::parse(
      R"({"apiVersion": "meshgate.io/v1", "kind": "ApiRoute", "metadata": {"name": "x"}})"));
  EXPECT_EQ(
      messages(decoded.errors),
      (std::vector<std::string>{
          R"(apiVersion: Unsupported value: "meshgate.io/v1": supported values: "meshgate.io/v1alpha1")",
          R"(kind: Unsupported value: "ApiRoute": supported values: "MeshService")",
      }));
}

TEST(MeshServiceCodecTest, RejectsADocumentThatIsNotAnObject) {
  const auto decoded = decodeMeshService(json::parse("[1, 2]"));
  EXPECT_EQ(messages(decoded.errors),
            (std::vector<std::string>{R"(Invalid value: "array": expected an object)"}));
}

TEST(MeshServiceCodecTest, ReportsIntegersThatDoNotFitInt64) {
  const auto decoded = decodeMeshService(
      json::parse(R"({"spec": {"ports": [{"name": "http", "port": 18446744073709551615}]}})"));
  EXPECT_EQ(messages(decoded.errors),
            (std::vector<std::string>{
                "spec.ports[0].port: Invalid value: 18446744073709551615: must fit in a 64-bit "
                "signed integer"}));
}

TEST(MeshServiceCodecTest, EncodesOnlyWhatIsSet) {
  MeshService ms;
  ms.metadata.name = "pay";
  ms.spec.selector = {{"app", "pay"}};
  ms.spec.ports.push_back({.name = "http", .port = 8080});
  EXPECT_EQ(encodeMeshService(ms), json::parse(R"({
    "apiVersion": "meshgate.io/v1alpha1", "kind": "MeshService",
    "metadata": {"name": "pay"},
    "spec": {"selector": {"app": "pay"}, "ports": [{"name": "http", "port": 8080}]}
  })"));
}

TEST(MeshServiceCodecTest, KeepsAnEmptyAllowListBecauseItMeansNobody) {
  MeshService ms;
  ms.spec.authorization.emplace();
  const json j = encodeMeshService(ms);
  EXPECT_EQ(j["spec"]["authorization"], json::parse(R"({"allow": []})"));
  const auto back = decodeMeshService(j);
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back.object->spec.authorization.has_value());
  EXPECT_TRUE(back.object->spec.authorization->allow.empty());
}

TEST(MeshServiceCodecTest, ConvertsImplicitlyThroughToJson) {
  MeshService ms;
  ms.metadata.name = "pay";
  const json j = ms;
  EXPECT_EQ(j["kind"], "MeshService");
}

}  // namespace
}  // namespace meshgate::api
