// ApiRouteReconciler over informers fed by hand and a transport that accepts every apply: the
// status it writes for routes whose auth names Secrets (SecretNotFound naming each missing Secret
// or key, with a Warning Event; True once they resolve) and the Programmed message of a route
// with a rate limit served by several gateway replicas.
#include "operator/api_route_reconciler.h"

#include <gtest/gtest.h>

#include "api/route_conflicts.h"
#include "base/base64.h"
#include "kube/fake_clock.h"
#include "kube/fake_transport.h"
#include "operator/auth_secrets.h"

namespace meshgate::op {
namespace {

using nlohmann::json;

// Answers every request as the apiserver answers a successful apply: the object sent.
std::shared_ptr<kube::FakeTransport> acceptingTransport() {
  auto transport = std::make_shared<kube::FakeTransport>();
  transport->setFallback([](const kube::HttpRequest& request) -> kube::Result<kube::HttpResponse> {
    kube::HttpResponse response;
    response.status = request.method == "POST" ? 201 : 200;
    response.body = request.body.empty() ? "{}" : request.body;
    return response;
  });
  return transport;
}

std::unique_ptr<kube::RestClient> clientOf(std::shared_ptr<kube::FakeTransport> transport) {
  kube::RestClientOptions options;
  options.qps = 0;
  options.sleep = [](std::chrono::milliseconds) {};
  return std::make_unique<kube::RestClient>(std::move(transport), options);
}

class NoIssuer : public CertificateIssuer {
 public:
  // CertificateIssuer
  Expected<IssuedCertificate, std::string> ensure(const CertificateRequest&) override {
    return std::string("no certificates in this test");
  }
};

class FixedDataplanes : public DataplaneStatus {
 public:
  DataplaneVerdict verdict;

  // DataplaneStatus
  DataplaneVerdict apiRoute(const std::string&, const std::string&, std::int64_t,
                            const std::string&) const override {
    return verdict;
  }
  DataplaneVerdict meshService(const std::string&, const std::string&,
                               std::int64_t) const override {
    return verdict;
  }
};

class ApiRouteReconcilerTest : public ::testing::Test {
 protected:
  ApiRouteReconcilerTest() {
    apiRoutes_.addIndexer(kApiRoutesByHost, api::apiRouteHostIndex);
    apiRoutes_.addIndexer(kApiRoutesByBackend, apiRouteBackendIndex);
    apiRoutes_.addIndexer(kApiRoutesByAuthSecret, apiRouteAuthSecretIndex);
    feed(meshServices_, {{{"apiVersion", "meshgate.io/v1alpha1"},
                          {"kind", "MeshService"},
                          {"metadata", {{"name", "web"}, {"namespace", "shop"}, {"uid", "ms-1"}}},
                          {"spec", {{"ports", {{{"name", "http"}, {"port", 80}}}}}}}});
    feed(ingresses_, {});
    feed(namespaces_,
         {{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "shop"}}}}});
  }

  ~ApiRouteReconcilerTest() override { events_.stop(); }

  static void feed(kube::Informer& informer, const std::vector<json>& objects) {
    std::vector<kube::StoreEntry> entries;
    for (const auto& object : objects)
      entries.push_back({kube::keyOf(object), std::make_shared<const json>(object)});
    informer.onReplace(std::move(entries), "1");
  }

  static json route(json spec) {
    return {{"apiVersion", "meshgate.io/v1alpha1"},
            {"kind", "ApiRoute"},
            {"metadata",
             {{"name", "store"},
              {"namespace", "shop"},
              {"uid", "route-1"},
              {"generation", 1},
              {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
            {"spec", std::move(spec)}};
  }

  static json authRoute() {
    json partners = {{"matches", {{{"path", {{"type", "PathPrefix"}, {"value", "/partners"}}}}}},
                     {"backends", {{{"service", "web"}, {"port", 80}}}},
                     {"auth", {{"apiKey", {{"secretRef", {{"name", "keys"}}}}}}}};
    json open = {{"matches", {{{"path", {{"type", "PathPrefix"}, {"value", "/health"}}}}}},
                 {"backends", {{{"service", "web"}, {"port", 80}}}},
                 {"auth", {{"disabled", true}}}};
    return route({{"hosts", {"shop.example.com"}},
                  {"auth",
                   {{"jwt",
                     {{"issuer", "https://issuer.example.com"},
                      {"audiences", {"shop"}},
                      {"jwks", {{"secretRef", {{"name", "jwks"}}}}}}}}},
                  {"rules", {partners, open}}});
  }

  static json opaqueSecret(const std::string& name, const std::string& key) {
    return {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"type", "Opaque"},
            {"metadata", {{"name", name}, {"namespace", "shop"}}},
            {"data", {{key, base64Encode("value")}}}};
  }

  // Reconciles shop/store and returns the status it wrote last (null when none was written).
  json reconcileStatus() {
    const auto before = transport_->sent().size();
    reconciler_.reconcile({"shop", "store"});
    const auto sent = transport_->sent();
    json status;
    for (auto i = before; i < sent.size(); ++i) {
      if (sent[i].target.find("/apiroutes/store/status") != std::string::npos)
        status = json::parse(sent[i].body).at("status");
    }
    return status;
  }

  static json condition(const json& status, const std::string& type) {
    for (const auto& c : status.at("conditions"))
      if (c.at("type") == type) return c;
    return nullptr;
  }

  // The Warning Events created (the Ingress apply records a Normal one).
  std::vector<json> warningsSent() {
    events_.stop();
    std::vector<json> out;
    for (const auto& request : eventTransport_->sent()) {
      if (request.method != "POST") continue;
      auto event = json::parse(request.body);
      if (event.value("type", "") == "Warning") out.push_back(std::move(event));
    }
    return out;
  }

  std::shared_ptr<kube::FakeTransport> transport_ = acceptingTransport();
  std::unique_ptr<kube::RestClient> client_ = clientOf(transport_);
  std::shared_ptr<kube::FakeTransport> eventTransport_ = acceptingTransport();
  std::unique_ptr<kube::RestClient> eventClient_ = clientOf(eventTransport_);
  kube::FakeClock clock_;
  kube::SystemClock eventClock_;
  kube::EventRecorder events_{*eventClient_, eventClock_};
  kube::Informer apiRoutes_{*client_, kube::resources::kApiRoutes, "", {}, clock_};
  kube::Informer meshServices_{*client_, kube::resources::kMeshServices, "", {}, clock_};
  kube::Informer ingresses_{*client_, kube::resources::kIngresses, "", {}, clock_};
  kube::Informer namespaces_{*client_, kube::resources::kNamespaces, "", {}, clock_};
  kube::Informer authSecrets_{*client_, kube::resources::kSecrets, "", {}, clock_};
  NoIssuer issuer_;
  FixedDataplanes dataplanes_;
  ApiRouteReconciler reconciler_{
      *client_, {apiRoutes_, meshServices_, ingresses_, namespaces_, authSecrets_},
      issuer_,  dataplanes_,
      events_,  clock_,
      {}};
};

TEST_F(ApiRouteReconcilerTest, MissingAuthSecretsAndKeysAreSecretNotFoundNamingEach) {
  feed(apiRoutes_, {authRoute()});
  feed(authSecrets_, {opaqueSecret("keys", "partner-keys")});  // not the default key api-keys
  const json status = reconcileStatus();
  const json resolved = condition(status, "ResolvedRefs");
  EXPECT_EQ(resolved.at("status"), "False");
  EXPECT_EQ(resolved.at("reason"), "SecretNotFound");
  EXPECT_EQ(resolved.at("message"),
            "Secret shop/jwks not found; Secret shop/keys has no key api-keys");
  // The route is served all the same (its rules answer 503 at the gateway, never open).
  EXPECT_EQ(condition(status, "Accepted").at("status"), "True");
  EXPECT_EQ(status.at("ingress"), "store");

  const auto sent = warningsSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].at("type"), "Warning");
  EXPECT_EQ(sent[0].at("reason"), "SecretNotFound");
  EXPECT_EQ(sent[0].at("note"), resolved.at("message"));
}

TEST_F(ApiRouteReconcilerTest, AuthSecretsThatResolveLeaveResolvedRefsTrue) {
  feed(apiRoutes_, {authRoute()});
  feed(authSecrets_, {opaqueSecret("keys", "api-keys"), opaqueSecret("jwks", "jwks.json")});
  const json resolved = condition(reconcileStatus(), "ResolvedRefs");
  EXPECT_EQ(resolved.at("status"), "True");
  EXPECT_EQ(resolved.at("reason"), "ResolvedRefs");
  EXPECT_TRUE(warningsSent().empty());
}

TEST_F(ApiRouteReconcilerTest, AMissingBackendOutranksAMissingSecretAndBothAreListed) {
  auto object = authRoute();
  object["spec"]["rules"][0]["backends"][0]["service"] = "gone";
  feed(apiRoutes_, {object});
  feed(authSecrets_, {opaqueSecret("jwks", "jwks.json")});
  const json resolved = condition(reconcileStatus(), "ResolvedRefs");
  EXPECT_EQ(resolved.at("reason"), "BackendNotFound");
  EXPECT_EQ(resolved.at("message"), "MeshService shop/gone not found; Secret shop/keys not found");
}

TEST_F(ApiRouteReconcilerTest, ARateLimitServedByTwoGatewaysSaysItHoldsPerReplica) {
  json limited = {{"backends", {{{"service", "web"}, {"port", 80}}}},
                  {"rateLimit", {{"requests", 10}, {"unit", "Second"}}}};
  feed(apiRoutes_, {route({{"hosts", {"shop.example.com"}}, {"rules", {limited}}})});
  dataplanes_.verdict = {.total = 2, .programmed = 2, .refusal = std::nullopt};
  json programmed = condition(reconcileStatus(), "Programmed");
  EXPECT_EQ(programmed.at("status"), "True");
  EXPECT_EQ(programmed.at("message"),
            "2 of 2 dataplane(s) serve generation 1; rate limits apply per gateway replica "
            "(2 connected)");

  dataplanes_.verdict = {.total = 1, .programmed = 1, .refusal = std::nullopt};
  programmed = condition(reconcileStatus(), "Programmed");
  EXPECT_EQ(programmed.at("message"), "1 of 1 dataplane(s) serve generation 1");
}

TEST_F(ApiRouteReconcilerTest, ARouteWithoutARateLimitSaysNothingOfReplicas) {
  json plain = {{"backends", {{{"service", "web"}, {"port", 80}}}}};
  feed(apiRoutes_, {route({{"hosts", {"shop.example.com"}}, {"rules", {plain}}})});
  dataplanes_.verdict = {.total = 3, .programmed = 3, .refusal = std::nullopt};
  EXPECT_EQ(condition(reconcileStatus(), "Programmed").at("message"),
            "3 of 3 dataplane(s) serve generation 1");
}

}  // namespace
}  // namespace meshgate::op
