// Tests for cli/render_command.h, driven with string streams: the operator's children, status and
// gateway snapshot for the fixtures in cli/testdata/render/, exit codes, and output that does not
// depend on the order of the input.
#include "cli/render_command.h"

#include <algorithm>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/mesh_service_codec.h"
#include "api/mesh_service_validation.h"
#include "api/proxy_config_codec.h"
#include "api/schema_defaults.h"
#include "api/yaml_loader.h"
#include "cli/manifest_reader.h"
#include "operator/desired_state.h"
#include "operator/mesh_service_children.h"

namespace meshgate::cli {
namespace {

using nlohmann::json;

constexpr const char* kShop = "cli/testdata/render/shop";
constexpr const char* kConflicting = "cli/testdata/render/conflicting-route.yaml";
constexpr const char* kNotAllowed = "cli/testdata/render/not-allowed.yaml";
constexpr const char* kMissingBackend = "cli/testdata/render/missing-backend.yaml";

struct RenderRun {
  int code = -1;
  std::string out;
  std::string err;
  std::vector<json> documents;

  // The Kubernetes object (or status document) of that kind; null when absent.
  const json* find(const std::string& kind, const std::string& ns, const std::string& name) const {
    for (const auto& document : documents) {
      if (document.value("kind", "") == kind && document["metadata"].value("namespace", "") == ns &&
          document["metadata"].value("name", "") == name)
        return &document;
    }
    return nullptr;
  }
  // The status document of an input object.
  json status(const std::string& kind, const std::string& ns, const std::string& name) const {
    const json* document = find(kind, ns, name);
    return document != nullptr && document->contains("status") ? (*document)["status"] : json();
  }
  // The gateway snapshots (documents without a kind).
  std::vector<json> snapshots() const {
    std::vector<json> out;
    for (const auto& document : documents)
      if (!document.contains("kind")) out.push_back(document);
    return out;
  }
};

RenderRun render(RenderOptions options, const std::string& stdinText = "") {
  std::istringstream in(stdinText);
  std::ostringstream out;
  std::ostringstream err;
  RenderRun run;
  run.code = runRender(options, in, out, err);
  run.out = out.str();
  run.err = err.str();
  const auto loaded = api::loadYaml(run.out, "render output");
  EXPECT_TRUE(loaded.ok()) << loaded.error << "\n" << run.out;
  run.documents = loaded.documents;
  return run;
}

RenderRun render(const std::vector<std::string>& paths, const std::string& stdinText = "") {
  RenderOptions options;
  options.paths = paths;
  return render(options, stdinText);
}

json condition(const json& status, const std::string& type) {
  for (const auto& entry : status.value("conditions", json::array()))
    if (entry.value("type", "") == type) return entry;
  return json();
}

// The paths of an Ingress rule for `host`, as "Prefix /x" strings.
std::vector<std::string> ingressPaths(const json& ingress, const std::string& host) {
  std::vector<std::string> out;
  for (const auto& rule : ingress["spec"]["rules"]) {
    if (rule["host"] != host) continue;
    for (const auto& path : rule["http"]["paths"])
      out.push_back(path["pathType"].get<std::string>() + " " + path["path"].get<std::string>());
  }
  return out;
}

TEST(RenderCommandTest, MeshServiceWithTwoStaticEndpointsBecomesAServiceAndOneEndpointSlice) {
  const RenderRun run = render({"cli/testdata/render/shop/orders.yaml"});
  EXPECT_EQ(run.code, kRenderAllAccepted) << run.err;
  EXPECT_EQ(run.err, "");

  const json* service = run.find("Service", "shop", "orders");
  ASSERT_NE(service, nullptr) << run.out;
  EXPECT_EQ((*service)["spec"]["ports"],
            json::parse(R"([{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP",
                             "appProtocol": "http"}])"));
  EXPECT_FALSE((*service)["spec"].contains("selector")) << "static endpoints: no selector";
  // The controller owner reference, without the uid a manifest from Git does not have.
  EXPECT_EQ((*service)["metadata"]["ownerReferences"],
            json::parse(R"([{"apiVersion": "meshgate.io/v1alpha1", "kind": "MeshService",
                             "name": "orders", "controller": true, "blockOwnerDeletion": true}])"));
  EXPECT_TRUE((*service)["metadata"]["annotations"].contains(op::kAppliedHashAnnotation));

  const json* slice = run.find("EndpointSlice", "shop", "orders-static-ipv4");
  ASSERT_NE(slice, nullptr) << run.out;
  std::vector<std::string> addresses;
  for (const auto& endpoint : (*slice)["endpoints"])
    addresses.push_back(endpoint["addresses"][0]);
  EXPECT_EQ(addresses, (std::vector<std::string>{"10.0.0.11", "10.0.0.12"}));
  EXPECT_EQ((*slice)["ports"][0]["port"], 8080);
  EXPECT_EQ((*slice)["metadata"]["labels"]["kubernetes.io/service-name"], "orders");
  EXPECT_EQ((*slice)["metadata"]["ownerReferences"][0]["name"], "orders");

  const json status = run.status("MeshService", "shop", "orders");
  EXPECT_EQ(condition(status, "Accepted"),
            json::parse(R"({"type": "Accepted", "status": "True", "reason": "Accepted",
                            "message": ""})"));
  EXPECT_EQ(condition(status, "ResolvedRefs")["status"], "True");
}

TEST(RenderCommandTest, ChildOfAnExportedOwnerIsExactlyWhatTheOperatorApplies) {
  const std::string exported = R"(apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata:
  name: orders
  namespace: shop
  uid: 7d2b61c4-58a0-4a43-9d53-0d1f1d9e2a10
  creationTimestamp: "2024-01-01T00:00:00Z"
spec:
  selector: {app: orders}
  ports: [{name: http, port: 80}]
)";
  const RenderRun run = render({"-"}, exported);
  ASSERT_EQ(run.code, kRenderAllAccepted) << run.err;
  const json* service = run.find("Service", "shop", "orders");
  ASSERT_NE(service, nullptr) << run.out;

  // What the MeshService controller applies for the object the apiserver stores.
  auto stored = api::decodeMeshService(api::loadYaml(exported, "test").documents.at(0));
  ASSERT_TRUE(stored.ok());
  api::applySchemaDefaults(*stored.object);
  json applied = op::desiredService(*stored.object);
  op::stampAppliedHash(applied);
  EXPECT_EQ(*service, applied);
  EXPECT_EQ((*service)["metadata"]["ownerReferences"][0]["uid"],
            "7d2b61c4-58a0-4a43-9d53-0d1f1d9e2a10");
}

TEST(RenderCommandTest, YoungerConflictingRouteLosesThePairAndNamesTheOlderRoute) {
  const RenderRun run = render({kShop, kConflicting});
  EXPECT_EQ(run.code, kRenderNotAccepted);
  const std::string message =
      "host shop.example.com PathPrefix /orders is served by the older ApiRoute shop/storefront";

  const json status = run.status("ApiRoute", "shop", "aardvark");
  EXPECT_EQ(condition(status, "Accepted"), (json{{"type", "Accepted"},
                                                 {"status", "False"},
                                                 {"reason", "Conflicted"},
                                                 {"message", message}}));
  EXPECT_EQ(condition(run.status("ApiRoute", "shop", "storefront"), "Accepted")["status"], "True");

  const json* younger = run.find("Ingress", "shop", "aardvark");
  ASSERT_NE(younger, nullptr) << "the younger route keeps what it does not lose";
  EXPECT_EQ(ingressPaths(*younger, "shop.example.com"), std::vector<std::string>{"Prefix /v2"});
  const json* older = run.find("Ingress", "shop", "storefront");
  ASSERT_NE(older, nullptr);
  EXPECT_EQ(ingressPaths(*older, "shop.example.com"), std::vector<std::string>{"Prefix /orders"});

  EXPECT_NE(run.err.find(std::string(kConflicting) +
                         ": ApiRoute/shop/aardvark: Accepted=False Conflicted: " + message + "\n"),
            std::string::npos)
      << run.err;
}

TEST(RenderCommandTest, RoutesWithoutCreationTimestampRankByNamespaceAndName) {
  const std::string routes = R"(apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: second, namespace: shop}
spec:
  hosts: [shop.example.com]
  rules: [{backends: [{service: orders, port: 80}]}]
---
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: first, namespace: shop}
spec:
  hosts: [shop.example.com]
  rules: [{backends: [{service: orders, port: 80}]}]
)";
  const RenderRun run = render({"-", "cli/testdata/render/shop/orders.yaml"}, routes);
  EXPECT_EQ(run.code, kRenderNotAccepted);
  EXPECT_EQ(condition(run.status("ApiRoute", "shop", "first"), "Accepted")["status"], "True");
  EXPECT_EQ(condition(run.status("ApiRoute", "shop", "second"), "Accepted")["message"],
            "host shop.example.com PathPrefix / is served by the older ApiRoute shop/first");
  EXPECT_EQ(run.find("Ingress", "shop", "second"), nullptr) << "nothing left to serve";
  EXPECT_EQ(run.status("ApiRoute", "shop", "second").count("ingress"), 0u);
}

TEST(RenderCommandTest, HostOutsideTheNamespaceAllowedHostsIsNotAllowed) {
  const RenderRun run = render({kNotAllowed});
  EXPECT_EQ(run.code, kRenderNotAccepted);
  const json accepted = condition(run.status("ApiRoute", "partners", "partner-api"), "Accepted");
  EXPECT_EQ(accepted["reason"], "NotAllowed");
  EXPECT_EQ(accepted["message"],
            "hosts not allowed in namespace partners (meshgate.io/allowed-hosts): "
            "shop.example.com");
  const json* ingress = run.find("Ingress", "partners", "partner-api");
  ASSERT_NE(ingress, nullptr);
  ASSERT_EQ((*ingress)["spec"]["rules"].size(), 1u);
  EXPECT_EQ((*ingress)["spec"]["rules"][0]["host"], "api.partners.example.com");
  EXPECT_NE(run.err.find(std::string(kNotAllowed) + ": ApiRoute/partners/partner-api: "
                                                    "Accepted=False NotAllowed: hosts not allowed"),
            std::string::npos)
      << run.err;
}

TEST(RenderCommandTest, BackendNamingNoMeshServiceIsBackendNotFoundAndOnlyAWarning) {
  const RenderRun run = render({kShop, kMissingBackend});
  EXPECT_EQ(run.code, kRenderAllAccepted) << "a route may be applied before its MeshService";
  const json status = run.status("ApiRoute", "shop", "reports");
  EXPECT_EQ(condition(status, "Accepted")["status"], "True");
  EXPECT_EQ(condition(status, "ResolvedRefs"),
            (json{{"type", "ResolvedRefs"},
                  {"status", "False"},
                  {"reason", "BackendNotFound"},
                  {"message", "MeshService shop/archive not found"}}));
  const json* ingress = run.find("Ingress", "shop", "reports");
  ASSERT_NE(ingress, nullptr);
  EXPECT_EQ(ingressPaths(*ingress, "reports.example.com"),
            std::vector<std::string>{"Prefix /daily"});
  EXPECT_EQ(run.err, "warning: " + std::string(kMissingBackend) +
                         ": ApiRoute/shop/reports: ResolvedRefs=False BackendNotFound: "
                         "MeshService shop/archive not found\n");
}

TEST(RenderCommandTest, SnapshotHoldsTheRouteAndTheClusterWithBothStaticEndpoints) {
  const RenderRun run = render({kShop});
  ASSERT_EQ(run.code, kRenderAllAccepted) << run.err;
  const auto snapshots = run.snapshots();
  ASSERT_EQ(snapshots.size(), 1u) << run.out;
  const json& snapshot = snapshots[0];
  EXPECT_NE(run.out.find("# The snapshot a gateway of ingress class meshgate receives"),
            std::string::npos);

  const auto decoded = api::decodeProxyConfig(snapshot);
  ASSERT_TRUE(decoded.ok()) << api::formatErrors(decoded.errors);
  const api::ProxyConfig& config = *decoded.object;
  ASSERT_EQ(config.routes.size(), 1u);
  EXPECT_EQ(config.routes[0].metadata.name, "storefront");
  EXPECT_EQ(config.routes[0].spec.hosts, std::vector<std::string>{"shop.example.com"});
  ASSERT_EQ(config.clusters.size(), 1u);
  EXPECT_EQ(config.clusters[0].name, "orders");
  EXPECT_EQ(config.clusters[0].namespace_, "shop");
  std::vector<std::string> endpoints;
  for (const auto& endpoint : config.clusters[0].endpoints)
    endpoints.push_back(endpoint.address);
  EXPECT_EQ(endpoints, (std::vector<std::string>{"10.0.0.11", "10.0.0.12"}));
  EXPECT_EQ(config.clusters[0].targetPorts.at(80), 8080);
  EXPECT_FALSE(config.version.empty());
}

TEST(RenderCommandTest, OutputIsTheSameWhateverTheOrderOfTheInput) {
  const std::vector<std::string> paths = {kShop, kConflicting, kNotAllowed, kMissingBackend};
  const RenderRun baseline = render(paths);
  ASSERT_EQ(baseline.code, kRenderNotAccepted);
  ASSERT_GE(baseline.documents.size(), 10u);

  std::vector<std::string> reversed(paths.rbegin(), paths.rend());
  const RenderRun backwards = render(reversed);
  EXPECT_EQ(backwards.out, baseline.out);
  EXPECT_EQ(backwards.err, baseline.err);

  std::istringstream none;
  std::vector<ManifestDocument> documents = readManifests(paths, none).documents;
  for (unsigned seed = 1; seed <= 5; ++seed) {
    std::shuffle(documents.begin(), documents.end(), std::mt19937(seed));
    std::string stream;
    for (const auto& document : documents)
      stream += "---\n" + document.object.dump() + "\n";
    const RenderRun shuffled = render({"-"}, stream);
    EXPECT_EQ(shuffled.code, baseline.code);
    EXPECT_EQ(shuffled.out, baseline.out) << "seed " << seed;
  }
}

TEST(RenderCommandTest, InvalidMeshServiceIsNotAcceptedAndGetsNoChildren) {
  const std::string invalid = R"(apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: broken, namespace: shop}
spec:
  selector: {app: broken}
  ports: [{name: http, port: 70000}]
)";
  const RenderRun run = render({"-"}, invalid);
  EXPECT_EQ(run.code, kRenderNotAccepted);
  EXPECT_EQ(run.find("Service", "shop", "broken"), nullptr);
  // The message the MeshService controller writes: every error, joined.
  const auto decoded = api::decodeMeshService(api::loadYaml(invalid, "test").documents.at(0));
  ASSERT_TRUE(decoded.ok());
  const std::string message = api::joinErrors(api::validateMeshService(*decoded.object));
  ASSERT_FALSE(message.empty());
  EXPECT_EQ(
      condition(run.status("MeshService", "shop", "broken"), "Accepted"),
      (json{
          {"type", "Accepted"}, {"status", "False"}, {"reason", "Invalid"}, {"message", message}}));
  EXPECT_NE(run.err.find("<stdin>: MeshService/shop/broken: Accepted=False Invalid: " + message),
            std::string::npos)
      << run.err;
}

TEST(RenderCommandTest, UnreadableInputExitsTwoAndPrintsNothing) {
  const RenderRun missing = render({kShop, "cli/testdata/render/no-such-file.yaml"});
  EXPECT_EQ(missing.code, kRenderInputError);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err.rfind("cli/testdata/render/no-such-file.yaml: ", 0), 0u) << missing.err;

  const RenderRun broken = render({"-"}, "kind: [unclosed\n");
  EXPECT_EQ(broken.code, kRenderInputError);
  EXPECT_EQ(broken.out, "");
}

TEST(RenderCommandTest, ShowObjectsPrintsOnlyKubernetesObjects) {
  RenderOptions options;
  options.paths = {kShop, kMissingBackend};
  options.status = false;
  options.snapshots = false;
  const RenderRun run = render(options);
  ASSERT_EQ(run.code, kRenderAllAccepted);
  std::vector<std::string> kinds;
  for (const auto& document : run.documents)
    kinds.push_back(document.value("apiVersion", "") + " " + document.value("kind", ""));
  EXPECT_EQ(kinds, (std::vector<std::string>{"discovery.k8s.io/v1 EndpointSlice",
                                             "networking.k8s.io/v1 Ingress",
                                             "networking.k8s.io/v1 Ingress", "v1 Service"}));
}

TEST(RenderCommandTest, NamesTheSecretsARouteAndItsSnapshotNeed) {
  const std::string route = R"(apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: secure, namespace: shop}
spec:
  hosts: [secure.example.com]
  tls: {}
  auth:
    jwt:
      issuer: https://id.example.com
      audiences: [shop]
      jwks: {secretRef: {name: shop-jwks}}
  rules: [{backends: [{service: orders, port: 80}]}]
)";
  const RenderRun run = render({"-", kShop}, route);
  ASSERT_EQ(run.code, kRenderAllAccepted) << run.err;
  EXPECT_NE(run.out.find("# Secrets are not inputs: ResolvedRefs does not check them. This route "
                         "needs:\n"
                         "#   Secret shop/secure-meshgate-tls (TLS certificate the operator "
                         "issues)\n"
                         "#   Secret shop/shop-jwks, key jwks.json (auth)\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("#   Secret shop/secure-meshgate-tls (TLS certificate of the https "
                         "listener)\n"
                         "#   Secret shop/shop-jwks, keys jwks.json (auth)\n"),
            std::string::npos)
      << run.out;
  const json* ingress = run.find("Ingress", "shop", "secure");
  ASSERT_NE(ingress, nullptr);
  EXPECT_EQ((*ingress)["spec"]["tls"][0]["secretName"], "secure-meshgate-tls");
}

TEST(RenderCommandTest, ObjectDefinedTwiceIsAnErrorNamingBothPlaces) {
  const std::string copy = R"(apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: orders, namespace: shop}
spec:
  selector: {app: orders}
  ports: [{name: http, port: 80}]
)";
  const RenderRun run = render({"cli/testdata/render/shop/orders.yaml", "-"}, copy);
  EXPECT_EQ(run.code, kRenderNotAccepted);
  EXPECT_NE(
      run.err.find("cli/testdata/render/shop/orders.yaml: document 1: MeshService/shop/orders "
                   "is also defined in <stdin> (document 1), which is the one rendered"),
      std::string::npos)
      << run.err;
  const json* service = run.find("Service", "shop", "orders");
  ASSERT_NE(service, nullptr);
  EXPECT_EQ((*service)["spec"]["selector"]["app"], "orders") << "the copy from <stdin> wins";
}

TEST(RenderCommandTest, ObjectsWithoutNamespaceGoToTheDefaultNamespaceAndOtherKindsAreSkipped) {
  RenderOptions options;
  options.paths = {"-"};
  options.defaultNamespace = "team-a";
  const RenderRun run = render(options, R"(apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
---
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: pay}
spec:
  selector: {app: pay}
  ports: [{name: http, port: 8080}]
)");
  EXPECT_EQ(run.code, kRenderAllAccepted);
  EXPECT_NE(run.find("Service", "team-a", "pay"), nullptr) << run.out;
  EXPECT_EQ(run.err,
            "<stdin>: skipping v1/ConfigMap settings: render reads only meshgate.io/v1alpha1 "
            "MeshServices and ApiRoutes and v1 Namespaces\n");
}

}  // namespace
}  // namespace meshgate::cli
