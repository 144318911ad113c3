// Informer caches → a gateway's snapshot: admitted routes only (class, allowed hosts, conflicts,
// backends), per-host pieces for a claim lost on one host, clusters from MeshServices with
// static and discovered ready endpoints, listener certificates, and versions that follow content
// and generations; the Secrets routes' auth names, with only the referenced keys.
#include "operator/gateway_config_builder.h"

#include <gtest/gtest.h>

#include "api/proxy_config_codec.h"
#include "api/route_conflicts.h"
#include "base/base64.h"
#include "operator/api_route_reconciler.h"
#include "operator/mesh_service_reconciler.h"

namespace meshgate::op {
namespace {

using nlohmann::json;

class GatewayConfigBuilderTest : public ::testing::Test {
 protected:
  GatewayConfigBuilderTest() {
    apiRoutes_.addIndexer(kApiRoutesByHost, api::apiRouteHostIndex);
    endpointSlices_.addIndexer(kEndpointSlicesByService, endpointSliceServiceIndex);
  }

  void put(kube::ThreadSafeStore& store, json object) {
    const std::string key = kube::keyOf(object);
    store.add(key, std::make_shared<const json>(std::move(object)));
  }

  void route(const std::string& ns, const std::string& name, json spec, int generation = 1,
             const std::string& created = "2026-01-01T00:00:00Z") {
    put(apiRoutes_, {{"apiVersion", "meshgate.io/v1alpha1"},
                     {"kind", "ApiRoute"},
                     {"metadata",
                      {{"name", name},
                       {"namespace", ns},
                       {"uid", ns + "-" + name},
                       {"generation", generation},
                       {"creationTimestamp", created}}},
                     {"spec", std::move(spec)}});
  }

  void meshService(const std::string& ns, const std::string& name, json spec, int generation = 1) {
    put(meshServices_,
        {{"apiVersion", "meshgate.io/v1alpha1"},
         {"kind", "MeshService"},
         {"metadata",
          {{"name", name}, {"namespace", ns}, {"uid", name}, {"generation", generation}}},
         {"spec", std::move(spec)}});
  }

  GatewaySnapshot build(const std::string& ingressClass = "meshgate") {
    return buildGatewaySnapshot(
        {apiRoutes_, meshServices_, endpointSlices_, tlsSecrets_, namespaces_, pods_, authSecrets_},
        ingressClass, {.ports = {.http = 8080, .https = 8443}, .trustDomain = "cluster.local"});
  }

  static json backendRule(const std::string& path, const std::string& service) {
    return {{"matches", json::array({{{"path", {{"type", "PathPrefix"}, {"value", path}}}}})},
            {"backends", json::array({{{"service", service}, {"port", 80}}})}};
  }

  void opaqueSecret(const std::string& ns, const std::string& name,
                    const std::map<std::string, std::string>& data) {
    json encoded = json::object();
    for (const auto& [key, value] : data)
      encoded[key] = base64Encode(value);
    put(authSecrets_, {{"metadata", {{"name", name}, {"namespace", ns}}},
                       {"type", "Opaque"},
                       {"data", std::move(encoded)}});
  }

  static json jwtAuth(const std::string& secret) {
    return {{"jwt",
             {{"issuer", "https://issuer.example.com"},
              {"audiences", {"shop"}},
              {"jwks", {{"secretRef", {{"name", secret}}}}}}}};
  }

  static json apiKeyAuth(const std::string& secret, const std::string& key) {
    return {{"apiKey", {{"secretRef", {{"name", secret}, {"key", key}}}}}};
  }

  static json webSpec() {
    return {{"endpoints", json::array({{{"address", "127.0.0.2"}}, {{"address", "10.1.0.9"}}})},
            {"ports", json::array({{{"name", "http"}, {"port", 80}, {"targetPort", 8080}}})},
            {"loadBalancer", {{"policy", "LeastRequest"}}},
            {"timeout", "3s"}};
  }

  kube::ThreadSafeStore apiRoutes_, meshServices_, endpointSlices_, tlsSecrets_, namespaces_, pods_,
      authSecrets_;
};

TEST_F(GatewayConfigBuilderTest, AdmittedRoutesOfTheClassBecomeRoutesAndClusters) {
  meshService("shop", "web", webSpec(), 4);
  route("shop", "store", {{"hosts", {"shop.example.com"}}, {"rules", {backendRule("/", "web")}}},
        3);
  route("shop", "other-class",
        {{"ingressClassName", "internal"},
         {"hosts", {"x.example.com"}},
         {"rules", {backendRule("/", "web")}}});
  const auto snapshot = build();
  ASSERT_EQ(snapshot.config.routes.size(), 1u);
  EXPECT_EQ(snapshot.config.routes[0].metadata.name, "store");
  EXPECT_EQ(snapshot.config.routes[0].metadata.namespace_, "shop");
  ASSERT_EQ(snapshot.config.clusters.size(), 1u);
  const auto& cluster = snapshot.config.clusters[0];
  EXPECT_EQ(cluster.name, "web");
  EXPECT_EQ(cluster.namespace_, "shop");
  EXPECT_EQ(cluster.targetPorts.at(80), 8080);
  EXPECT_TRUE(cluster.http2Ports.empty()) << "an HTTP port is called over HTTP/1.1";
  ASSERT_EQ(cluster.endpoints.size(), 2u);
  EXPECT_EQ(cluster.endpoints[0].address, "127.0.0.2");  // loopback: no EndpointSlice could hold it
  EXPECT_EQ(cluster.loadBalancer.policy, "LeastRequest");
  EXPECT_EQ(cluster.timeout, std::chrono::milliseconds(3000));
  EXPECT_EQ(snapshot.contents.generations.at("ApiRoute/shop/store"), 3);
  EXPECT_EQ(snapshot.contents.generations.at("MeshService/shop/web"), 4);
  EXPECT_EQ(snapshot.contents.routeOwners.at("shop/store"), "ApiRoute/shop/store");
  ASSERT_EQ(snapshot.config.listeners.size(), 1u);  // no certificate: no https listener
  EXPECT_EQ(snapshot.config.listeners[0].name, "http");
  EXPECT_EQ(snapshot.config.listeners[0].port, 8080);
  EXPECT_EQ(snapshot.config.version, snapshot.version);

  const auto internal = build("internal");
  ASSERT_EQ(internal.config.routes.size(), 1u);
  EXPECT_EQ(internal.config.routes[0].metadata.name, "other-class");
}

TEST_F(GatewayConfigBuilderTest,
       DiscoveredEndpointsAreTheReadyOnesOfKubernetesSlicesWithPodLabels) {
  meshService("shop", "web",
              {{"selector", {{"app", "web"}}},
               {"ports", webSpec()["ports"]},
               {"subsets", {{{"name", "v2"}, {"labels", {{"version", "v2"}}}}}}});
  route("shop", "store", {{"hosts", {"shop.example.com"}}, {"rules", {backendRule("/", "web")}}});
  put(pods_, {{"metadata",
               {{"name", "web-5"},
                {"namespace", "shop"},
                {"labels", {{"app", "web"}, {"version", "v2"}}}}}});
  put(endpointSlices_,
      {{"metadata",
        {{"name", "web-abc"},
         {"namespace", "shop"},
         {"labels",
          {{"kubernetes.io/service-name", "web"},
           {"endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io"}}}}},
       {"endpoints",
        {{{"addresses", {"10.244.0.5"}},
          {"conditions", {{"ready", true}}},
          {"targetRef", {{"kind", "Pod"}, {"name", "web-5"}, {"namespace", "shop"}}}},
         {{"addresses", {"10.244.0.6"}}, {"conditions", {{"ready", false}}}},
         {{"addresses", {"10.244.0.7"}}}}}});
  const auto snapshot = build();
  ASSERT_EQ(snapshot.config.clusters.size(), 1u);
  std::vector<std::string> addresses;
  for (const auto& endpoint : snapshot.config.clusters[0].endpoints)
    addresses.push_back(endpoint.address);
  EXPECT_EQ(addresses, (std::vector<std::string>{"10.244.0.5", "10.244.0.7"}));
  // Subsets select on the pods' labels.
  const auto& endpoints = snapshot.config.clusters[0].endpoints;
  EXPECT_EQ(endpoints[0].labels,
            (std::map<std::string, std::string>{{"app", "web"}, {"version", "v2"}}));
  EXPECT_TRUE(endpoints[1].labels.empty()) << "no targetRef: no labels";
  ASSERT_EQ(snapshot.config.clusters[0].subsets.size(), 1u);
  EXPECT_EQ(snapshot.config.clusters[0].subsets[0].name, "v2");
}

TEST_F(GatewayConfigBuilderTest, AnHttp2PortIsListedForTheProxyToCallOverHttp2) {
  json grpc = webSpec();
  grpc["ports"] = json::array({{{"name", "http"}, {"port", 80}, {"targetPort", 8080}},
                               {{"name", "grpc"}, {"port", 50051}, {"protocol", "HTTP2"}}});
  meshService("shop", "web", grpc);
  route("shop", "store", {{"hosts", {"shop.example.com"}}, {"rules", {backendRule("/", "web")}}});
  const auto snapshot = build();
  ASSERT_EQ(snapshot.config.clusters.size(), 1u);
  EXPECT_EQ(snapshot.config.clusters[0].http2Ports, std::vector<uint16_t>{50051});
}

TEST_F(GatewayConfigBuilderTest, AStrictServiceIsCalledOverMtlsAndAPermissiveOneInPlaintext) {
  json strict = webSpec();
  strict["mtls"] = {{"mode", "Strict"}};
  strict["serviceAccount"] = "orders-sa";
  meshService("shop", "orders", strict);
  meshService("shop", "web", webSpec());  // mtls absent: Permissive
  json disabled = webSpec();
  disabled["mtls"] = {{"mode", "Disabled"}};
  meshService("shop", "legacy", disabled);
  route("shop", "store",
        {{"hosts", {"shop.example.com"}},
         {"rules",
          {backendRule("/orders", "orders"), backendRule("/legacy", "legacy"),
           backendRule("/", "web")}}});
  const auto snapshot = build();
  std::map<std::string, std::optional<std::string>> identities;
  for (const auto& cluster : snapshot.config.clusters)
    identities[cluster.name] = cluster.meshIdentity;
  EXPECT_EQ(identities, (std::map<std::string, std::optional<std::string>>{
                            {"orders", "spiffe://cluster.local/ns/shop/sa/orders-sa"},
                            {"web", std::nullopt},
                            {"legacy", std::nullopt}}));
  // Another trust domain names other identities.
  const auto other = buildGatewaySnapshot(
      {apiRoutes_, meshServices_, endpointSlices_, tlsSecrets_, namespaces_, pods_, authSecrets_},
      "meshgate", {.ports = {}, .trustDomain = "mesh.example"});
  for (const auto& cluster : other.config.clusters) {
    if (cluster.name != "orders") continue;
    EXPECT_EQ(cluster.meshIdentity, "spiffe://mesh.example/ns/shop/sa/orders-sa");
  }
  EXPECT_NE(other.version, snapshot.version);
}

TEST_F(GatewayConfigBuilderTest, AClaimLostOnOneHostOnlySplitsTheRoute) {
  meshService("a", "web", webSpec());
  meshService("b", "web", webSpec());
  route("a", "winner", {{"hosts", {"one.example.com"}}, {"rules", {backendRule("/api", "web")}}}, 1,
        "2026-01-01T00:00:00Z");
  route("b", "loser",
        {{"hosts", {"one.example.com", "two.example.com"}},
         {"rules", {backendRule("/api", "web"), backendRule("/extra", "web")}}},
        1, "2026-01-02T00:00:00Z");
  const auto snapshot = build();
  std::map<std::string, const api::ApiRoute*> byName;
  for (const auto& r : snapshot.config.routes)
    byName[r.metadata.namespace_ + "/" + r.metadata.name] = &r;
  ASSERT_EQ(byName.size(), 3u);
  // one.example.com keeps only /extra for the loser; two.example.com keeps both.
  const api::ApiRoute& first = *byName.at("b/loser");
  EXPECT_EQ(first.spec.hosts, std::vector<std::string>{"one.example.com"});
  ASSERT_EQ(first.spec.rules.size(), 1u);
  EXPECT_EQ(first.spec.rules[0].matches[0].path->value, "/extra");
  const api::ApiRoute& second = *byName.at("b/loser.2");
  EXPECT_EQ(second.spec.hosts, std::vector<std::string>{"two.example.com"});
  EXPECT_EQ(second.spec.rules.size(), 2u);
  EXPECT_EQ(snapshot.contents.routeOwners.at("b/loser.2"), "ApiRoute/b/loser");
  // Two clusters named web, one per namespace.
  ASSERT_EQ(snapshot.config.clusters.size(), 2u);
  EXPECT_EQ(snapshot.config.clusters[0].namespace_, "a");
  EXPECT_EQ(snapshot.config.clusters[1].namespace_, "b");
}

TEST_F(GatewayConfigBuilderTest, DisallowedHostsAndMissingBackendsAreLeftOut) {
  put(namespaces_, {{"metadata",
                     {{"name", "team"},
                      {"annotations", {{"meshgate.io/allowed-hosts", "*.team.example.com"}}}}}});
  meshService("team", "web", webSpec());
  route("team", "mixed",
        {{"hosts", {"api.team.example.com", "evil.example.com"}},
         {"rules", {backendRule("/", "web"), backendRule("/gone", "missing")}}});
  route("team", "orphan",
        {{"hosts", {"o.team.example.com"}}, {"rules", {backendRule("/", "nope")}}});
  const auto snapshot = build();
  ASSERT_EQ(snapshot.config.routes.size(), 1u);
  const auto& served = snapshot.config.routes[0];
  EXPECT_EQ(served.spec.hosts, std::vector<std::string>{"api.team.example.com"});
  ASSERT_EQ(served.spec.rules.size(), 1u);
  EXPECT_EQ(served.spec.rules[0].backends[0].service, "web");
  EXPECT_EQ(snapshot.contents.generations.count("ApiRoute/team/orphan"), 0u);
}

TEST_F(GatewayConfigBuilderTest, TlsRoutesBringTheirCertificateAndAnHttpsListener) {
  meshService("shop", "web", webSpec());
  route("shop", "store",
        {{"hosts", {"shop.example.com"}},
         {"tls", {{"redirectHTTP", true}}},
         {"rules", {backendRule("/", "web")}}});
  put(tlsSecrets_,
      {{"metadata", {{"name", "store-meshgate-tls"}, {"namespace", "shop"}}},
       {"type", "kubernetes.io/tls"},
       {"data", {{"tls.crt", base64Encode("CERT PEM")}, {"tls.key", base64Encode("KEY PEM")}}}});
  const auto snapshot = build();
  ASSERT_EQ(snapshot.config.listeners.size(), 2u);
  const auto& https = snapshot.config.listeners[1];
  EXPECT_EQ(https.name, "https");
  EXPECT_EQ(https.port, 8443);
  ASSERT_TRUE(https.tls);
  ASSERT_EQ(https.tls->certificates.size(), 1u);
  EXPECT_EQ(https.tls->certificates[0].certificatePem, "CERT PEM");
  EXPECT_EQ(https.tls->certificates[0].privateKeyPem, "KEY PEM");
  ASSERT_TRUE(snapshot.config.routes[0].spec.tls);
  EXPECT_FALSE(snapshot.config.routes[0].spec.tls->secretName);
  EXPECT_TRUE(snapshot.config.routes[0].spec.tls->redirectHTTP.value_or(false));
}

TEST_F(GatewayConfigBuilderTest, VersionFollowsContentAndGenerations) {
  meshService("shop", "web", webSpec());
  route("shop", "store", {{"hosts", {"shop.example.com"}}, {"rules", {backendRule("/", "web")}}});
  const auto first = build();
  EXPECT_EQ(build().version, first.version) << "same caches, same version";
  EXPECT_EQ(first.version.size(), 16u);
  // A new generation that serves the same thing still makes a new version (Programmed follows
  // generations).
  route("shop", "store", {{"hosts", {"shop.example.com"}}, {"rules", {backendRule("/", "web")}}},
        2);
  const auto second = build();
  EXPECT_NE(second.version, first.version);
  // A status write or a relabel (a new resourceVersion, the same generation) changes nothing.
  auto relabelled = *apiRoutes_.get("shop/store");
  relabelled["metadata"]["resourceVersion"] = "999";
  relabelled["metadata"]["labels"] = {{"team", "web"}};
  relabelled["status"] = {{"observedGeneration", 2}};
  put(apiRoutes_, relabelled);
  EXPECT_EQ(build().version, second.version);
  // An endpoint change alone changes it.
  auto spec = webSpec();
  spec["endpoints"].push_back({{"address", "127.0.0.3"}});
  meshService("shop", "web", spec);
  EXPECT_NE(build().version, second.version);
}

TEST_F(GatewayConfigBuilderTest, AuthSecretsCarryOnlyTheReferencedKeysDecoded) {
  meshService("shop", "web", webSpec());
  auto partners = backendRule("/partners", "web");
  partners["auth"] = apiKeyAuth("keys", "partners");
  auto health = backendRule("/health", "web");
  health["auth"] = {{"disabled", true}};
  route("shop", "store",
        {{"hosts", {"shop.example.com"}},
         {"auth", jwtAuth("jwks")},
         {"rules", {backendRule("/", "web"), partners, health}}});
  auto mobile = backendRule("/", "web");
  mobile["auth"] = apiKeyAuth("keys", "mobile");
  route("shop", "app", {{"hosts", {"app.example.com"}}, {"rules", {mobile}}});
  opaqueSecret("shop", "keys",
               {{"partners", "acme: 0123456789abcdef0123"},
                {"mobile", "ios: fedcba9876543210fedc"},
                {"unreferenced", "never streamed"}});
  opaqueSecret("shop", "jwks", {{"jwks.json", R"({"keys":[]})"}, {"jwk.private", "never"}});
  opaqueSecret("shop", "unrelated", {{"api-keys", "never streamed"}});
  opaqueSecret("other", "jwks", {{"jwks.json", "another namespace's"}});

  const auto snapshot = build();
  ASSERT_EQ(snapshot.config.secrets.size(), 2u);
  const auto& jwks = snapshot.config.secrets[0];
  EXPECT_EQ(jwks.name, "jwks");
  EXPECT_EQ(jwks.namespace_, "shop");
  const std::map<std::string, std::string> jwksData = {{"jwks.json", R"({"keys":[]})"}};
  EXPECT_EQ(jwks.data, jwksData);
  EXPECT_TRUE(jwks.files.empty());
  // Two routes naming two keys of one Secret: one entry with both.
  const auto& keys = snapshot.config.secrets[1];
  EXPECT_EQ(keys.name, "keys");
  EXPECT_EQ(keys.namespace_, "shop");
  const std::map<std::string, std::string> keysData = {{"mobile", "ios: fedcba9876543210fedc"},
                                                       {"partners", "acme: 0123456789abcdef0123"}};
  EXPECT_EQ(keys.data, keysData);
}

TEST_F(GatewayConfigBuilderTest, AMissingAuthSecretOrKeyIsLeftOutAndTheRouteStillServed) {
  meshService("shop", "web", webSpec());
  auto partners = backendRule("/partners", "web");
  partners["auth"] = apiKeyAuth("keys", "partners");
  route("shop", "store",
        {{"hosts", {"shop.example.com"}},
         {"auth", jwtAuth("absent")},
         {"rules", {backendRule("/", "web"), partners}}});
  opaqueSecret("shop", "keys", {{"api-keys", "app: 0123456789abcdef0123"}});
  opaqueSecret("other", "absent", {{"jwks.json", "{}"}});
  const auto snapshot = build();
  EXPECT_TRUE(snapshot.config.secrets.empty());
  ASSERT_EQ(snapshot.config.routes.size(), 1u);
  EXPECT_EQ(snapshot.config.routes[0].spec.rules.size(), 2u);
}

TEST_F(GatewayConfigBuilderTest, AuthSecretsAreDeterministicAndTheirContentMakesTheVersion) {
  meshService("shop", "web", webSpec());
  auto a = backendRule("/", "web");
  a["auth"] = apiKeyAuth("b-keys", "api-keys");
  route("shop", "a", {{"hosts", {"a.example.com"}}, {"auth", jwtAuth("a-jwks")}, {"rules", {a}}});
  opaqueSecret("shop", "b-keys", {{"api-keys", "app: 0123456789abcdef0123"}});
  opaqueSecret("shop", "a-jwks", {{"jwks.json", R"({"keys":[1]})"}, {"extra", "x"}});
  const auto first = build();
  ASSERT_EQ(first.config.secrets.size(), 2u);
  EXPECT_EQ(first.config.secrets[0].name, "a-jwks");
  EXPECT_EQ(first.config.secrets[1].name, "b-keys");

  // The same Secrets cached in another order (a relist) give the same snapshot.
  authSecrets_.replace({}, "1");
  opaqueSecret("shop", "a-jwks", {{"extra", "x"}, {"jwks.json", R"({"keys":[1]})"}});
  opaqueSecret("shop", "b-keys", {{"api-keys", "app: 0123456789abcdef0123"}});
  const auto again = build();
  EXPECT_EQ(again.version, first.version);
  EXPECT_EQ(api::encodeProxyConfig(again.config), api::encodeProxyConfig(first.config));

  // A key no route names changes nothing; a rotated JWKS makes a new version.
  opaqueSecret("shop", "a-jwks", {{"extra", "changed"}, {"jwks.json", R"({"keys":[1]})"}});
  EXPECT_EQ(build().version, first.version);
  opaqueSecret("shop", "a-jwks", {{"extra", "changed"}, {"jwks.json", R"({"keys":[2]})"}});
  const auto rotated = build();
  EXPECT_NE(rotated.version, first.version);
  EXPECT_EQ(rotated.config.secrets[0].data.at("jwks.json"), R"({"keys":[2]})");

  // The Secret goes: it leaves the snapshot, and the version changes again.
  authSecrets_.remove("shop/a-jwks");
  const auto gone = build();
  ASSERT_EQ(gone.config.secrets.size(), 1u);
  EXPECT_EQ(gone.config.secrets[0].name, "b-keys");
  EXPECT_NE(gone.version, rotated.version);
}

}  // namespace
}  // namespace meshgate::op
