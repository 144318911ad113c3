// Tests of ApiRoute validation: the shared validator's errors, allowed hosts, cross-namespace
// conflicts, backend warnings and the policy flags.
#include "webhook/admission/api_route_admission.h"

#include <gtest/gtest.h>

#include "webhook/core/fake_cluster_view.h"

namespace meshgate::webhook {
namespace {

using nlohmann::json;

// team-b/shop: shop.example.com, rule 0 /web, rule 1 /api, both to orders:8080.
json route(const std::string& ns = "team-b", const std::string& name = "shop") {
  json r = R"({
    "apiVersion": "meshgate.io/v1alpha1", "kind": "ApiRoute",
    "metadata": {},
    "spec": {
      "hosts": ["shop.example.com"],
      "rules": [
        {"matches": [{"path": {"type": "PathPrefix", "value": "/web"}}],
         "backends": [{"service": "orders", "port": 8080}]},
        {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
         "backends": [{"service": "orders", "port": 8080}]}
      ]
    }})"_json;
  r["metadata"]["namespace"] = ns;
  r["metadata"]["name"] = name;
  return r;
}

// A stored route: it has a creationTimestamp.
json storedRoute(const std::string& ns, const std::string& name, const std::string& created,
                 json rules) {
  json r = route(ns, name);
  r["metadata"]["creationTimestamp"] = created;
  r["spec"]["rules"] = std::move(rules);
  return r;
}

json apiRule(const std::string& prefix = "/api") {
  json rule = {{"matches", json::array({{{"path", {{"type", "PathPrefix"}, {"value", prefix}}}}})},
               {"backends", json::array({{{"service", "orders"}, {"port", 8080}}})}};
  return rule;
}

json meshService(const std::string& ns, const std::string& name, int port) {
  return {{"apiVersion", "meshgate.io/v1alpha1"},
          {"kind", "MeshService"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"selector", {{"app", name}}},
            {"ports", json::array({{{"name", "http"}, {"port", port}}})}}}};
}

json jwtAuth() {
  return R"({"jwt": {"issuer": "https://login.example.com/", "audiences": ["shop"],
                     "jwks": {"uri": "https://login.example.com/jwks.json"}}})"_json;
}

AdmissionRequest request(const std::string& operation, json object) {
  AdmissionRequest r;
  r.uid = "uid-1";
  r.kind = {"meshgate.io", "v1alpha1", "ApiRoute"};
  r.resource = "apiroutes";
  r.operation = operation;
  if (object.is_object() && object.contains("metadata")) {
    r.namespace_ = object["metadata"].value("namespace", "");
    r.name = object["metadata"].value("name", "");
  } else {
    r.namespace_ = "team-b";
    r.name = "shop";
  }
  r.object = std::move(object);
  return r;
}

class ApiRouteAdmissionTest : public testing::Test {
 protected:
  void SetUp() override {
    view_.addNamespace("team-a");
    view_.addNamespace("team-b");
    view_.addMeshService(meshService("team-b", "orders", 8080));
  }
  AdmissionDecision validate(const json& object, const std::string& operation = "CREATE") {
    return validateApiRoute(request(operation, object), config_, view_);
  }

  FakeClusterView view_;
  WebhookConfig config_;
};

TEST_F(ApiRouteAdmissionTest, ValidRouteIsAllowedWithoutWarnings) {
  const AdmissionDecision d = validate(route());
  EXPECT_TRUE(d.allowed) << d.message;
  EXPECT_TRUE(d.warnings.empty());
}

TEST_F(ApiRouteAdmissionTest, MutateAddsNothing) {
  const AdmissionDecision d = mutateApiRoute(request("CREATE", route()));
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(!d.patch || d.patch->empty());
}

TEST_F(ApiRouteAdmissionTest, InvalidRouteIsDeniedWithTheValidatorsMessageAnd422) {
  json r = route();
  r["spec"]["rules"][0]["backends"][0]["weight"] = 1001;
  const AdmissionDecision d = validate(r);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 422);
  EXPECT_EQ(d.reason, "Invalid");
  EXPECT_EQ(d.message,
            "spec.rules[0].backends[0].weight: Invalid value: 1001: must be between 0 and 1000, "
            "inclusive");
}

TEST_F(ApiRouteAdmissionTest, SeveralValidatorErrorsAreAggregated) {
  json r = route();
  r["spec"]["hosts"].push_back("shop.example.com");
  r["spec"]["rules"][1]["matches"][0]["method"] = "FETCH";
  const AdmissionDecision d = validate(r);
  EXPECT_EQ(d.code, 422);
  EXPECT_EQ(d.message,
            "[spec.hosts[1]: Duplicate value: \"shop.example.com\", "
            "spec.rules[1].matches[0].method: Unsupported value: \"FETCH\": supported values: "
            "\"GET\", \"HEAD\", \"POST\", \"PUT\", \"DELETE\", \"CONNECT\", \"OPTIONS\", "
            "\"TRACE\", \"PATCH\"]");
}

TEST_F(ApiRouteAdmissionTest, ValidatorErrorsComeBeforePolicyErrorsAndKeep422) {
  config_.policy.requireTLS = true;
  json r = route();
  r["spec"]["rules"][0]["backends"][0]["weight"] = 1001;
  const AdmissionDecision d = validate(r);
  EXPECT_EQ(d.code, 422);
  EXPECT_EQ(d.message,
            "[spec.rules[0].backends[0].weight: Invalid value: 1001: must be between 0 and 1000, "
            "inclusive, spec.tls: Required value: the webhook policy requires TLS on every "
            "ApiRoute host]");
}

TEST_F(ApiRouteAdmissionTest, HostOutsideTheNamespacesAllowedHostsIsForbidden) {
  view_.addNamespace("team-b", {{"meshgate.io/allowed-hosts", "*.shop.example.com"}});
  json r = route();
  r["spec"]["hosts"] = {"pay.example.com"};
  const AdmissionDecision d = validate(r);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 403);
  EXPECT_EQ(d.reason, "Forbidden");
  EXPECT_EQ(d.message,
            "spec.hosts[0]: Forbidden: host \"pay.example.com\" is not in this namespace's "
            "allowed hosts (meshgate.io/allowed-hosts: \"*.shop.example.com\")");
}

TEST_F(ApiRouteAdmissionTest, AllowedHostsAnnotationIsQuotedAsWrittenAndOnlyOffendersNamed) {
  view_.addNamespace("team-b",
                     {{"meshgate.io/allowed-hosts", " *.shop.example.com,API.example.org"}});
  json r = route();
  r["spec"]["hosts"] = {"www.shop.example.com", "api.example.org", "pay.example.com"};
  const AdmissionDecision d = validate(r);
  EXPECT_EQ(d.message,
            "spec.hosts[2]: Forbidden: host \"pay.example.com\" is not in this namespace's "
            "allowed hosts (meshgate.io/allowed-hosts: \" *.shop.example.com,API.example.org\")");
}

TEST_F(ApiRouteAdmissionTest, RequireAllowedHostsDeniesANamespaceWithoutTheAnnotation) {
  config_.policy.requireAllowedHosts = true;
  const AdmissionDecision d = validate(route());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 403);
  EXPECT_EQ(d.message,
            "spec.hosts[0]: Forbidden: host \"shop.example.com\" is not allowed: namespace "
            "\"team-b\" has no meshgate.io/allowed-hosts annotation and the webhook policy "
            "requires one");
}

TEST_F(ApiRouteAdmissionTest, RequireAllowedHostsDeniesWhenTheNamespaceIsUnknown) {
  config_.policy.requireAllowedHosts = true;
  const AdmissionDecision d = validate(route("team-unknown"));
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.message.find("namespace \"team-unknown\" has no meshgate.io/allowed-hosts"),
            std::string::npos)
      << d.message;
}

TEST_F(ApiRouteAdmissionTest, RequireAllowedHostsAllowsHostsTheAnnotationAllows) {
  config_.policy.requireAllowedHosts = true;
  view_.addNamespace("team-b", {{"meshgate.io/allowed-hosts", "*.example.com"}});
  EXPECT_TRUE(validate(route()).allowed);
}

TEST_F(ApiRouteAdmissionTest, WithoutThePolicyANamespaceWithoutAnnotationMayClaimAnyHost) {
  EXPECT_TRUE(validate(route()).allowed);
  EXPECT_TRUE(validate(route("team-unknown")).allowed);
}

TEST_F(ApiRouteAdmissionTest, CrossNamespaceConflictIsDeniedNamingTheOlderOwner) {
  view_.addApiRoute(storedRoute("team-a", "shop", "2024-01-01T00:00:00Z", {apiRule("/api")}));
  const AdmissionDecision d = validate(route());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 403);
  EXPECT_EQ(d.message,
            "spec.rules[1].matches[0]: Forbidden: host \"shop.example.com\" PathPrefix /api is "
            "already served by the older ApiRoute team-a/shop");
}

TEST_F(ApiRouteAdmissionTest, ConflictOfARuleWithoutMatchesIsReportedOnTheRule) {
  json catchAll = apiRule();
  catchAll.erase("matches");
  view_.addApiRoute(storedRoute("team-a", "site", "2024-01-01T00:00:00Z", {catchAll}));
  json r = route();
  r["spec"]["rules"][0].erase("matches");
  EXPECT_EQ(validate(r).message,
            "spec.rules[0]: Forbidden: host \"shop.example.com\" PathPrefix / is already served "
            "by the older ApiRoute team-a/site");
}

TEST_F(ApiRouteAdmissionTest, ConflictsCompareMatchesAsTheOperatorDoes) {
  // Same match written differently: path type left to its default, header name case.
  json older = apiRule();
  older["matches"][0] =
      R"({"path": {"value": "/api"}, "headers": [{"name": "X-Env", "value": "prod"}]})"_json;
  view_.addApiRoute(storedRoute("team-a", "shop", "2024-01-01T00:00:00Z", {older}));
  json r = route();
  r["spec"]["rules"][1]["matches"][0]["headers"] = R"([{"name": "x-env", "value": "prod"}])"_json;
  EXPECT_EQ(validate(r).message,
            "spec.rules[1].matches[0]: Forbidden: host \"shop.example.com\" PathPrefix /api "
            "h:x-env=prod is already served by the older ApiRoute team-a/shop");
}

TEST_F(ApiRouteAdmissionTest, ADifferentMatchOnTheSameHostIsNoConflict) {
  view_.addApiRoute(storedRoute("team-a", "shop", "2024-01-01T00:00:00Z", {apiRule("/admin")}));
  EXPECT_TRUE(validate(route()).allowed);
}

TEST_F(ApiRouteAdmissionTest, ConflictNamesTheOldestOfSeveralOwners) {
  view_.addNamespace("team-c");
  view_.addApiRoute(storedRoute("team-c", "shop", "2024-03-01T00:00:00Z", {apiRule("/api")}));
  view_.addApiRoute(storedRoute("team-a", "shop", "2024-02-01T00:00:00Z", {apiRule("/api")}));
  const AdmissionDecision d = validate(route());
  EXPECT_NE(d.message.find("older ApiRoute team-a/shop"), std::string::npos) << d.message;
  EXPECT_EQ(d.message.find("team-c"), std::string::npos) << d.message;
}

TEST_F(ApiRouteAdmissionTest, SameNamespaceCollisionIsLeftToTheOperator) {
  view_.addApiRoute(storedRoute("team-b", "legacy", "2024-01-01T00:00:00Z", {apiRule("/api")}));
  EXPECT_TRUE(validate(route()).allowed);
}

TEST_F(ApiRouteAdmissionTest, ARouteOfAnotherIngressClassIsNoConflict) {
  json other = storedRoute("team-a", "shop", "2024-01-01T00:00:00Z", {apiRule("/api")});
  other["spec"]["ingressClassName"] = "internal";
  view_.addApiRoute(other);
  EXPECT_TRUE(validate(route()).allowed);
  json same = route();
  same["spec"]["ingressClassName"] = "internal";
  EXPECT_FALSE(validate(same).allowed) << "the same class explicitly named does conflict";
}

TEST_F(ApiRouteAdmissionTest, UpdateOfTheOlderRouteItselfIsAllowed) {
  const json older = storedRoute("team-a", "shop", "2024-01-01T00:00:00Z", {apiRule("/api")});
  view_.addApiRoute(older);
  view_.addApiRoute(storedRoute("team-b", "shop", "2024-06-01T00:00:00Z", {apiRule("/api")}));
  json updated = older;
  updated["metadata"]["labels"] = {{"tier", "gold"}};
  EXPECT_TRUE(validate(updated, "UPDATE").allowed);
}

TEST_F(ApiRouteAdmissionTest, UpdateOfTheYoungerRouteIsDenied) {
  view_.addApiRoute(storedRoute("team-a", "shop", "2024-01-01T00:00:00Z", {apiRule("/api")}));
  const json younger = storedRoute("team-b", "shop", "2024-06-01T00:00:00Z", {apiRule("/api")});
  view_.addApiRoute(younger);
  const AdmissionDecision d = validate(younger, "UPDATE");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.message,
            "spec.rules[0].matches[0]: Forbidden: host \"shop.example.com\" PathPrefix /api is "
            "already served by the older ApiRoute team-a/shop");
}

TEST_F(ApiRouteAdmissionTest, AnUpdateKeepingAViolationTheStoredRouteHadIsAllowedWithAWarning) {
  view_.addApiRoute(storedRoute("team-a", "shop", "2024-01-01T00:00:00Z", {apiRule("/api")}));
  const json stored = storedRoute("team-b", "shop", "2024-06-01T00:00:00Z", {apiRule("/api")});
  view_.addApiRoute(stored);
  json relabelled = stored;
  relabelled["metadata"]["labels"] = {{"tier", "gold"}};
  AdmissionRequest r = request("UPDATE", relabelled);
  r.oldObject = stored;
  const AdmissionDecision d = validateApiRoute(r, config_, view_);
  EXPECT_TRUE(d.allowed) << d.message;
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_EQ(d.warnings[0],
            "spec.rules[0].matches[0]: Forbidden: host \"shop.example.com\" PathPrefix /api is "
            "already served by the older ApiRoute team-a/shop (allowed: the object was already so "
            "before this update)");
}

TEST_F(ApiRouteAdmissionTest, AnUpdateAddingAViolationIsDeniedEvenIfOthersWereThere) {
  view_.addApiRoute(
      storedRoute("team-a", "shop", "2024-01-01T00:00:00Z", {apiRule("/api"), apiRule("/cart")}));
  const json stored = storedRoute("team-b", "shop", "2024-06-01T00:00:00Z", {apiRule("/api")});
  view_.addApiRoute(stored);
  json grabbing =
      storedRoute("team-b", "shop", "2024-06-01T00:00:00Z", {apiRule("/api"), apiRule("/cart")});
  AdmissionRequest r = request("UPDATE", grabbing);
  r.oldObject = stored;
  const AdmissionDecision d = validateApiRoute(r, config_, view_);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.message,
            "spec.rules[1].matches[0]: Forbidden: host \"shop.example.com\" PathPrefix /cart is "
            "already served by the older ApiRoute team-a/shop");
}

TEST_F(ApiRouteAdmissionTest, AnAllowedHostsAnnotationNarrowedLaterDoesNotBlockUpdates) {
  const json stored = route();
  view_.addNamespace("team-b", {{"meshgate.io/allowed-hosts", "*.other.example.com"}});
  json relabelled = stored;
  relabelled["metadata"]["labels"] = {{"tier", "gold"}};
  AdmissionRequest r = request("UPDATE", relabelled);
  r.oldObject = stored;
  const AdmissionDecision d = validateApiRoute(r, config_, view_);
  EXPECT_TRUE(d.allowed) << d.message;
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_NE(d.warnings[0].find("is not in this namespace's allowed hosts"), std::string::npos);
  // The same object as a CREATE is denied: ratcheting covers only what was already stored.
  EXPECT_FALSE(validate(relabelled).allowed);
}

TEST_F(ApiRouteAdmissionTest, AnInvalidOlderRouteClaimsNothing) {
  json invalid = storedRoute("team-a", "shop", "2024-01-01T00:00:00Z", {apiRule("/api")});
  invalid["spec"]["rules"][0]["backends"][0]["weight"] = 1001;
  view_.addApiRoute(invalid);
  EXPECT_TRUE(validate(route()).allowed);
}

TEST_F(ApiRouteAdmissionTest, AnOlderRouteWhoseNamespaceMayNotServeTheHostClaimsNothing) {
  view_.addNamespace("team-a", {{"meshgate.io/allowed-hosts", "*.team-a.example.com"}});
  view_.addApiRoute(storedRoute("team-a", "shop", "2024-01-01T00:00:00Z", {apiRule("/api")}));
  EXPECT_TRUE(validate(route()).allowed);
}

TEST_F(ApiRouteAdmissionTest, MissingMeshServiceIsAllowedWithAWarning) {
  json r = route();
  r["spec"]["rules"][0]["backends"][0]["service"] = "payments";
  const AdmissionDecision d = validate(r);
  EXPECT_TRUE(d.allowed) << d.message;
  EXPECT_EQ(d.warnings,
            std::vector<std::string>{
                "spec.rules[0].backends[0].service: MeshService \"payments\" not found "
                "in namespace \"team-b\": the route serves this backend once it exists"});
}

TEST_F(ApiRouteAdmissionTest, MissingPortIsAllowedWithAWarningNamingThePort) {
  json r = route();
  r["spec"]["rules"][1]["backends"][0]["port"] = 9090;
  const AdmissionDecision d = validate(r);
  EXPECT_TRUE(d.allowed) << d.message;
  EXPECT_EQ(d.warnings, std::vector<std::string>{
                            "spec.rules[1].backends[0].port: MeshService \"orders\" in namespace "
                            "\"team-b\" has no port 9090: the route serves this backend once the "
                            "port exists"});
}

TEST_F(ApiRouteAdmissionTest, RequireTlsDeniesARouteWithoutTls) {
  EXPECT_TRUE(validate(route()).allowed) << "off by default";
  config_.policy.requireTLS = true;
  const AdmissionDecision d = validate(route());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 403);
  EXPECT_EQ(d.message,
            "spec.tls: Required value: the webhook policy requires TLS on every ApiRoute host");
  json r = route();
  r["spec"]["tls"] = json::object();
  EXPECT_TRUE(validate(r).allowed) << "tls without secretName: the operator issues one";
}

TEST_F(ApiRouteAdmissionTest, RequireAuthDeniesEveryRuleWithoutEffectiveAuth) {
  EXPECT_TRUE(validate(route()).allowed) << "off by default";
  config_.policy.requireAuth = true;
  EXPECT_EQ(validate(route()).message,
            "[spec.rules[0].auth: Required value: the webhook policy requires authentication on "
            "every route, spec.rules[1].auth: Required value: the webhook policy requires "
            "authentication on every route]");
  json r = route();
  r["spec"]["auth"] = jwtAuth();
  EXPECT_TRUE(validate(r).allowed) << "the route default covers every rule";
  r["spec"]["rules"][1]["auth"] = {{"disabled", true}};
  EXPECT_EQ(validate(r).message,
            "spec.rules[1].auth: Required value: the webhook policy requires authentication on "
            "every route");
  r["spec"].erase("auth");
  r["spec"]["rules"][0]["auth"] = jwtAuth();
  r["spec"]["rules"][1]["auth"] = jwtAuth();
  EXPECT_TRUE(validate(r).allowed) << "rule overrides count";
}

TEST_F(ApiRouteAdmissionTest, MaxRateLimitBurstDeniesALargerBurst) {
  json r = route();
  r["spec"]["rules"][0]["rateLimit"] = {{"requests", 50}, {"unit", "Second"}, {"burst", 500}};
  EXPECT_TRUE(validate(r).allowed) << "0: unlimited";
  config_.policy.maxRateLimitBurst = 100;
  const AdmissionDecision d = validate(r);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 403);
  EXPECT_EQ(d.message,
            "spec.rules[0].rateLimit.burst: Invalid value: 500: must be no more than 100 (webhook "
            "policy maxRateLimitBurst)");
  r["spec"]["rules"][0]["rateLimit"]["burst"] = 100;
  EXPECT_TRUE(validate(r).allowed) << "the limit is inclusive";
}

TEST_F(ApiRouteAdmissionTest, MaxRateLimitBurstJudgesAnUnsetBurstAsRequests) {
  config_.policy.maxRateLimitBurst = 100;
  json r = route();
  r["spec"]["rules"][1]["rateLimit"] = {{"requests", 500}, {"unit", "Minute"}};
  EXPECT_EQ(validate(r).message,
            "spec.rules[1].rateLimit.burst: Invalid value: 500: must be no more than 100 (webhook "
            "policy maxRateLimitBurst); unset, burst defaults to requests");
  r["spec"]["rules"][1]["rateLimit"]["burst"] = 20;
  EXPECT_TRUE(validate(r).allowed);
}

TEST_F(ApiRouteAdmissionTest, DeleteIsAllowed) {
  config_.policy.requireTLS = true;
  AdmissionRequest r = request("DELETE", json());
  r.namespace_ = "team-b";
  r.oldObject = route();
  EXPECT_TRUE(validateApiRoute(r, config_, view_).allowed);
}

TEST_F(ApiRouteAdmissionTest, NonObjectIsDeniedWithoutThrowing) {
  for (const json& object : {json::array({1}), json("shop"), json(), json(42)}) {
    AdmissionDecision d;
    EXPECT_NO_THROW(d = validate(object)) << object.dump();
    EXPECT_FALSE(d.allowed) << object.dump();
    EXPECT_EQ(d.code, 422) << object.dump();
    EXPECT_NE(d.message.find("expected an object"), std::string::npos) << d.message;
  }
}

TEST_F(ApiRouteAdmissionTest, WrongShapeInsideTheSpecIsDeniedNamingTheField) {
  json r = route();
  r["spec"]["rules"] = "everything";
  AdmissionDecision d;
  EXPECT_NO_THROW(d = validate(r));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 422);
  EXPECT_EQ(d.message.rfind("spec.rules: ", 0), 0u) << d.message;
}

TEST_F(ApiRouteAdmissionTest, StoredRoutesOfTheWrongShapeAreIgnored) {
  view_.addApiRoute(R"({"metadata": {"namespace": "team-a", "name": "odd"},
                        "spec": {"hosts": ["shop.example.com"], "rules": 7}})"_json);
  view_.addMeshService(R"({"metadata": {"namespace": "team-b", "name": "odd"}, "spec": 1})"_json);
  json r = route();
  r["spec"]["rules"][0]["backends"][0]["service"] = "odd";
  AdmissionDecision d;
  EXPECT_NO_THROW(d = validate(r));
  EXPECT_TRUE(d.allowed) << d.message;
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_NE(d.warnings[0].find("has no port 8080"), std::string::npos) << d.warnings[0];
}

}  // namespace
}  // namespace meshgate::webhook
