// In-process tests of the gateway's security filters through a real proxy (file mode) and a
// scripted upstream: API keys (right, wrong, missing, in the query, never forwarded), JWTs (ES256
// and RS256 accepted, claim headers set and client copies stripped, each failure a 401 with its
// category), allowAnonymous and a rule that disables auth, rate limits (429 with Retry-After and
// RateLimit-*), and CORS (preflights answered by the proxy, headers on actual responses, none for
// a disallowed origin). Same harness as request_path_upstream_test.cc.
#include <chrono>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane/auth/testing/jwt_forge.h"
#include "dataplane/proxy/testing/raw_http_client.h"
#include "dataplane/proxy/testing/scripted_upstream.h"
#include "dataplane/proxy/testing/standalone_proxy.h"

namespace meshgate::dp {
namespace {

using auth::testing::testKeys;
using testing::appRule;
using testing::ConnectionScript;
using ::testing::HasSubstr;
using testing::json;
using ::testing::Not;
using testing::okResponse;
using testing::proxyConfig;
using testing::RawHttpClient;
using testing::RawResponse;
using testing::request;
using testing::ScriptedUpstream;
using testing::StandaloneProxy;

constexpr const char* kApiKey = "k3y-of-the-mobile-app-0001";

std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

nlohmann::json claims(std::int64_t expiresIn = 600) {
  return {{"iss", auth::testing::kIssuer},
          {"aud", auth::testing::kAudience},
          {"sub", "alice"},
          {"tenant", "acme"},
          {"exp", unixNow() + expiresIn}};
}

json apiKeySecret() {
  return {{"name", "app-keys"},
          {"data",
           {{"api-keys",
             std::string("mobile-app: ") + kApiKey + "\nother: " + "another-key-of-16-chars\n"}}}};
}

json jwksSecret() {
  return {{"name", "app-jwks"}, {"data", {{"jwks.json", testKeys().jwksJson}}}};
}

json jwtAuth() {
  return {{"jwt",
           {{"issuer", auth::testing::kIssuer},
            {"audiences", json::array({auth::testing::kAudience})},
            {"jwks", {{"secretRef", {{"name", "app-jwks"}}}}},
            {"claimHeaders", json::array({{{"claim", "tenant"}, {"header", "x-tenant"}},
                                          {{"claim", "sub"}, {"header", "x-user"}}})}}}};
}

json apiKeyAuth() {
  return {{"apiKey", {{"secretRef", {{"name", "app-keys"}}}, {"queryParam", "api_key"}}}};
}

// One request on a new connection; the response.
RawResponse exchange(uint16_t port, const std::string& text) {
  RawHttpClient client(port);
  EXPECT_TRUE(client.send(text)) << client.error();
  std::optional<RawResponse> response = client.readResponse();
  EXPECT_TRUE(response) << client.error();
  return response.value_or(RawResponse{});
}

struct Fixture {
  explicit Fixture(const std::function<void(json&)>& configure)
      : upstream({}, ConnectionScript().respond(okResponse("served")).repeat()) {
    json config = proxyConfig(upstream.port());
    config["secrets"] = json::array({apiKeySecret(), jwksSecret()});
    configure(config);
    proxy.emplace(config);
  }
  ScriptedUpstream upstream;
  std::optional<StandaloneProxy> proxy;
  uint16_t port() const { return proxy->port(); }
};

TEST(RequestPathSecurityTest, ApiKeysAreCheckedAndNeverForwarded) {
  Fixture f([](json& config) { config["routes"][0]["spec"]["auth"] = apiKeyAuth(); });

  const RawResponse ok = exchange(
      f.port(), request("GET", "/", "app.test", std::string("X-Api-Key: ") + kApiKey + "\r\n"));
  EXPECT_EQ(ok.status, 200u);
  const RawResponse inQuery =
      exchange(f.port(), request("GET", std::string("/items?api_key=") + kApiKey + "&x=1"));
  EXPECT_EQ(inQuery.status, 200u);
  const RawResponse wrong =
      exchange(f.port(), request("GET", "/", "app.test", "X-Api-Key: not-a-key-we-know-of\r\n"));
  EXPECT_EQ(wrong.status, 401u);
  EXPECT_EQ(wrong.header("www-authenticate"), "ApiKey realm=\"meshgate\", error=\"invalid_key\"");
  const RawResponse missing = exchange(f.port(), request("GET", "/"));
  EXPECT_EQ(missing.status, 401u);
  EXPECT_EQ(missing.header("www-authenticate"), "ApiKey realm=\"meshgate\"");

  const auto requests = f.upstream.requests();
  ASSERT_EQ(requests.size(), 2u);
  for (const auto& forwarded : requests)
    EXPECT_THAT(forwarded, Not(HasSubstr("x-api-key"))) << forwarded;
  const std::string stats = f.proxy->stats();
  EXPECT_THAT(stats, Not(HasSubstr(kApiKey)));
  EXPECT_THAT(stats, HasSubstr("invalid_api_key"));
}

TEST(RequestPathSecurityTest, JwtsOfEs256AndRs256PassWithTheirClaimsAsHeaders) {
  Fixture f([](json& config) { config["routes"][0]["spec"]["auth"] = jwtAuth(); });
  for (const char* alg : {"ES256", "RS256", "EdDSA"}) {
    const std::string token = testKeys().validToken(alg, claims());
    // A client's own x-tenant never reaches the backend.
    const RawResponse ok =
        exchange(f.port(), request("GET", "/", "app.test",
                                   "Authorization: Bearer " + token + "\r\nX-Tenant: evil\r\n"));
    EXPECT_EQ(ok.status, 200u) << alg;
  }
  const auto requests = f.upstream.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& forwarded : requests) {
    EXPECT_THAT(forwarded, HasSubstr("x-tenant: acme\r\n"));
    EXPECT_THAT(forwarded, HasSubstr("x-user: alice\r\n"));
    EXPECT_THAT(forwarded, Not(HasSubstr("evil")));
  }
}

TEST(RequestPathSecurityTest, BadTokensAnswer401WithOnlyTheirCategory) {
  Fixture f([](json& config) { config["routes"][0]["spec"]["auth"] = jwtAuth(); });
  const auto challenge = [&](const std::string& token) {
    return exchange(f.port(),
                    request("GET", "/", "app.test", "Authorization: Bearer " + token + "\r\n"));
  };
  const RawResponse expired = challenge(testKeys().validToken("ES256", claims(-3600)));
  EXPECT_EQ(expired.status, 401u);
  EXPECT_EQ(expired.header("www-authenticate"),
            "Bearer realm=\"meshgate\", error=\"invalid_token\", error_description=\"" +
                std::string(auth::describe(auth::JwtFailure::Expired)) + "\"");

  std::string tampered = testKeys().validToken("RS256", claims());
  tampered[tampered.find('.') + 3] ^= 1;
  const RawResponse bad = challenge(tampered);
  EXPECT_EQ(bad.status, 401u);
  EXPECT_THAT(bad.header("www-authenticate").value_or(""), HasSubstr("invalid_token"));

  const RawResponse none =
      challenge(auth::testing::compact(R"({"alg":"none"})", claims().dump(), ""));
  EXPECT_EQ(none.status, 401u);

  const RawResponse missing = exchange(f.port(), request("GET", "/"));
  EXPECT_EQ(missing.status, 401u);
  EXPECT_EQ(missing.header("www-authenticate"), "Bearer realm=\"meshgate\"");
  EXPECT_TRUE(f.upstream.requests().empty());
}

TEST(RequestPathSecurityTest, AnonymousRequestsPassWhenAllowedButBadCredentialsStillFail) {
  Fixture f([](json& config) {
    json auth = jwtAuth();
    auth["allowAnonymous"] = true;
    config["routes"][0]["spec"]["auth"] = auth;
    // A second rule turns authentication off for /public.
    json open = testing::backendRule("app");
    open["matches"] = json::array({{{"path", {{"value", "/public"}}}}});
    open["auth"] = {{"disabled", true}};
    config["routes"][0]["spec"]["rules"].push_back(open);
  });
  EXPECT_EQ(exchange(f.port(), request("GET", "/")).status, 200u);
  EXPECT_EQ(
      exchange(f.port(), request("GET", "/", "app.test", "Authorization: Bearer abc.def.ghi\r\n"))
          .status,
      401u);
  EXPECT_EQ(exchange(f.port(),
                     request("GET", "/public", "app.test", "Authorization: Bearer abc.def.ghi\r\n"))
                .status,
            200u);
}

TEST(RequestPathSecurityTest, RateLimitAnswers429WithRetryAfterPerKey) {
  Fixture f([](json& config) {
    appRule(config)["rateLimit"] = {
        {"requests", 3}, {"unit", "Hour"}, {"key", {{"type", "Header"}, {"name", "X-Client"}}}};
  });
  RawHttpClient client(f.port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.send(request("GET", "/", "app.test", "X-Client: a\r\n")));
    const auto response = client.readResponse();
    ASSERT_TRUE(response) << client.error();
    EXPECT_EQ(response->status, 200u);
    EXPECT_EQ(response->header("ratelimit-limit"), "3");
    EXPECT_EQ(response->header("ratelimit-remaining"), std::to_string(2 - i));
  }
  ASSERT_TRUE(client.send(request("GET", "/", "app.test", "X-Client: a\r\n")));
  const auto limited = client.readResponse();
  ASSERT_TRUE(limited) << client.error();
  EXPECT_EQ(limited->status, 429u);
  EXPECT_EQ(limited->header("ratelimit-remaining"), "0");
  // One token comes back every 20 minutes.
  const int retryAfter = std::stoi(limited->header("retry-after").value_or("0"));
  EXPECT_GT(retryAfter, 1100);
  EXPECT_LE(retryAfter, 1200);
  // The connection serves on, and another key has its own bucket.
  ASSERT_TRUE(client.send(request("GET", "/", "app.test", "X-Client: b\r\n")));
  const auto other = client.readResponse();
  ASSERT_TRUE(other) << client.error();
  EXPECT_EQ(other->status, 200u);
  EXPECT_EQ(f.upstream.requests().size(), 4u);
  EXPECT_THAT(f.proxy->stats(), HasSubstr("meshgate_proxy_rate_limited_total"));
}

TEST(RequestPathSecurityTest, CorsPreflightsAreAnsweredAndActualResponsesGetHeaders) {
  ScriptedUpstream upstream(
      {}, ConnectionScript()
              .respond("HTTP/1.1 200 OK\r\ncontent-length: 2\r\naccess-control-allow-origin: "
                       "*\r\nvary: accept-encoding\r\n\r\nok")
              .repeat());
  json config = proxyConfig(upstream.port());
  appRule(config)["cors"] = {{"allowOrigins", json::array({"https://app.example.com"})},
                             {"allowMethods", json::array({"GET", "PUT"})},
                             {"allowHeaders", json::array({"x-trace"})},
                             {"maxAge", 600},
                             {"allowCredentials", true}};
  StandaloneProxy proxy(config);

  const RawResponse preflight = exchange(
      proxy.port(), request("OPTIONS", "/items", "app.test",
                            "Origin: https://app.example.com\r\nAccess-Control-Request-Method: "
                            "PUT\r\nAccess-Control-Request-Headers: X-Trace\r\n"));
  EXPECT_EQ(preflight.status, 204u);
  EXPECT_EQ(preflight.header("access-control-allow-origin"), "https://app.example.com");
  EXPECT_EQ(preflight.header("access-control-allow-credentials"), "true");
  EXPECT_EQ(preflight.header("access-control-max-age"), "600");
  EXPECT_EQ(preflight.header("content-length"), std::nullopt);
  EXPECT_TRUE(upstream.requests().empty()) << "a preflight never reaches the backend";

  const RawResponse denied =
      exchange(proxy.port(),
               request("OPTIONS", "/items", "app.test",
                       "Origin: https://evil.example\r\nAccess-Control-Request-Method: PUT\r\n"));
  EXPECT_EQ(denied.status, 204u);
  EXPECT_EQ(denied.header("access-control-allow-origin"), std::nullopt);

  const RawResponse actual = exchange(
      proxy.port(), request("GET", "/items", "app.test", "Origin: https://app.example.com\r\n"));
  EXPECT_EQ(actual.status, 200u);
  EXPECT_EQ(actual.headerCount("access-control-allow-origin"), 1u) << actual.head;
  EXPECT_EQ(actual.header("access-control-allow-origin"), "https://app.example.com");
  EXPECT_THAT(actual.head, HasSubstr("vary: accept-encoding"));
  EXPECT_THAT(actual.head, ::testing::ContainsRegex("vary: [Oo]rigin"));
}

}  // namespace
}  // namespace meshgate::dp
