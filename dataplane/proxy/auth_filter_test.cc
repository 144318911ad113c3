// AuthFilter alone: the verdicts and replies for JWTs (verified, cached, expired while cached,
// unknown kid asking the source to refetch), API keys, anonymous requests, and keys that are
// missing (503, never open); the identity and claim headers it leaves in the FilterState. Tokens
// come from auth/testing/jwt_forge.h at its fixed time kNow.
#include "dataplane/proxy/auth_filter.h"

#include <atomic>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane/auth/testing/jwt_forge.h"

namespace meshgate::dp {
namespace {

using auth::testing::kNow;
using auth::testing::testKeys;
using ::testing::HasSubstr;

std::int64_t clockSeconds = kNow;
std::int64_t testNow() {
  return clockSeconds;
}

// A JWKS source that counts refetch requests.
class CountingJwks final : public JwksSource {
 public:
  std::shared_ptr<const auth::JwkSet> current() const override { return testKeys().set; }
  void unknownKeyId() const override { ++unknown; }
  mutable std::atomic<int> unknown{0};
};

using Headers = std::vector<std::pair<std::string_view, std::string_view>>;

struct Request {
  RequestView view;
  FilterState state;
  LocalReply reply;

  explicit Request(Headers headers, Headers query = {}) {
    view.method = "GET";
    view.host = "app.test";
    view.path = "/";
    view.headers = std::move(headers);
    view.query = std::move(query);
  }
  FilterStatus run(const AuthFilter& filter, size_t worker = 0) {
    const FilterContext context{.request = view,
                                .target = "/",
                                .clientIp = "127.0.0.1",
                                .tls = false,
                                .worker = worker,
                                .state = state};
    return filter.onRequest(context, reply);
  }
};

JwtRequirement jwt(std::shared_ptr<const JwksSource> keys) {
  JwtRequirement requirement;
  requirement.policy = auth::testing::testPolicy();
  requirement.keys = std::move(keys);
  requirement.claimHeaders = {{"sub", "x-user"}, {"groups", "x-groups"}};
  return requirement;
}

AuthFilter jwtFilter(std::shared_ptr<const JwksSource> keys, size_t cache = 16) {
  clockSeconds = kNow;
  AuthFilterConfig config;
  config.jwt = jwt(std::move(keys));
  config.workers = 2;
  config.tokenCacheCapacity = cache;
  config.unixNow = testNow;
  return AuthFilter(std::move(config), AuthCounters{});
}

TEST(AuthFilterTest, AVerifiedTokenSetsIdentityAndClaimHeaders) {
  const AuthFilter filter = jwtFilter(std::make_shared<StaticJwks>(testKeys().set));
  nlohmann::json claims = auth::testing::validClaims();
  claims["groups"] = {"admins", "ops"};
  const std::string bearer = "Bearer " + testKeys().validToken("ES256", claims);
  Request request(Headers{{"Authorization", bearer}});
  ASSERT_EQ(request.run(filter), FilterStatus::Continue) << request.reply.extraHeaders;
  EXPECT_EQ(request.state.identity, "alice");
  ASSERT_TRUE(request.state.jwt);
  EXPECT_EQ(request.state.requestHeaders,
            (HeaderList{{"x-user", "alice"}, {"x-groups", R"(["admins","ops"])"}}));
}

TEST(AuthFilterTest, ACachedTokenIsStillRefusedOnceExpired) {
  const AuthFilter filter = jwtFilter(std::make_shared<StaticJwks>(testKeys().set));
  const std::string bearer = "Bearer " + testKeys().validToken("RS256");
  Request first(Headers{{"authorization", bearer}});
  ASSERT_EQ(first.run(filter), FilterStatus::Continue);
  Request cached(Headers{{"authorization", bearer}});
  ASSERT_EQ(cached.run(filter), FilterStatus::Continue);
  EXPECT_EQ(cached.state.jwt, first.state.jwt) << "the second request is served from the cache";
  // validClaims() expire 600 s after kNow; the skew is 60 s.
  clockSeconds = kNow + 661;
  Request late(Headers{{"authorization", bearer}});
  ASSERT_EQ(late.run(filter), FilterStatus::Reply);
  EXPECT_EQ(late.reply.status, 401u);
  EXPECT_THAT(late.reply.extraHeaders,
              HasSubstr("error_description=\"" +
                        std::string(auth::describe(auth::JwtFailure::Expired)) + "\""));
}

TEST(AuthFilterTest, EachWorkerHasItsOwnCache) {
  const AuthFilter filter = jwtFilter(std::make_shared<StaticJwks>(testKeys().set));
  const std::string bearer = "Bearer " + testKeys().validToken("EdDSA");
  Request onFirst(Headers{{"authorization", bearer}});
  Request onSecond(Headers{{"authorization", bearer}});
  ASSERT_EQ(onFirst.run(filter, 0), FilterStatus::Continue);
  ASSERT_EQ(onSecond.run(filter, 1), FilterStatus::Continue);
  EXPECT_NE(onFirst.state.jwt, onSecond.state.jwt);
}

TEST(AuthFilterTest, AnUnknownKidAsksTheSourceToRefetch) {
  auto source = std::make_shared<CountingJwks>();
  const AuthFilter filter = jwtFilter(source);
  const std::string token = auth::testing::signToken(
      "ES256", testKeys().ec256.get(), auth::testing::headerJson("ES256", "rotated-in"),
      auth::testing::validClaims().dump());
  const std::string bearer = "Bearer " + token;
  Request request(Headers{{"authorization", bearer}});
  ASSERT_EQ(request.run(filter), FilterStatus::Reply);
  EXPECT_EQ(request.reply.status, 401u);
  EXPECT_EQ(source->unknown.load(), 1);
}

TEST(AuthFilterTest, MissingKeysAnswer503NeverOpen) {
  const AuthFilter filter = jwtFilter(nullptr);
  const std::string bearer = "Bearer " + testKeys().validToken("ES256");
  Request withToken(Headers{{"authorization", bearer}});
  ASSERT_EQ(withToken.run(filter), FilterStatus::Reply);
  EXPECT_EQ(withToken.reply.status, 503u);
  Request without(Headers{});
  ASSERT_EQ(without.run(filter), FilterStatus::Reply);
  EXPECT_EQ(without.reply.status, 503u);

  AuthFilterConfig config;
  config.apiKey = ApiKeyRequirement{.keys = nullptr, .header = "x-api-key", .queryParam = {}};
  const AuthFilter apiKeys(std::move(config), AuthCounters{});
  Request withKey(Headers{{"x-api-key", "0123456789abcdef0123"}});
  ASSERT_EQ(withKey.run(apiKeys), FilterStatus::Reply);
  EXPECT_EQ(withKey.reply.status, 503u);
}

TEST(AuthFilterTest, ApiKeysFromTheHeaderOrTheQueryNameTheIdentity) {
  auto keys = auth::ApiKeySet::parse("mobile: 0123456789abcdef0123\nweb: fedcba9876543210fedc\n");
  ASSERT_TRUE(keys) << keys.error();
  AuthFilterConfig config;
  config.apiKey = ApiKeyRequirement{.keys = *keys, .header = "x-api-key", .queryParam = "key"};
  const AuthFilter filter(std::move(config), AuthCounters{});

  Request header(Headers{{"X-Api-Key", "fedcba9876543210fedc"}});
  ASSERT_EQ(header.run(filter), FilterStatus::Continue);
  EXPECT_EQ(header.state.apiKeyName, "web");
  EXPECT_EQ(header.state.identity, "web");
  EXPECT_EQ(header.state.secretQueryParameter, "");

  Request query(Headers{}, Headers{{"key", "0123456789abcdef0123"}});
  ASSERT_EQ(query.run(filter), FilterStatus::Continue);
  EXPECT_EQ(query.state.apiKeyName, "mobile");
  EXPECT_EQ(query.state.secretQueryParameter, "key") << "the access log must redact it";

  Request wrong(Headers{{"x-api-key", "0123456789abcdef0124"}});
  ASSERT_EQ(wrong.run(filter), FilterStatus::Reply);
  EXPECT_EQ(wrong.reply.status, 401u);
  EXPECT_THAT(wrong.reply.body + wrong.reply.extraHeaders,
              ::testing::Not(HasSubstr("0123456789abcdef0124")));
}

TEST(AuthFilterTest, AnonymousPassesOnlyWithoutCredentials) {
  AuthFilterConfig config;
  config.jwt = jwt(std::make_shared<StaticJwks>(testKeys().set));
  config.allowAnonymous = true;
  config.unixNow = testNow;
  clockSeconds = kNow;
  const AuthFilter filter(std::move(config), AuthCounters{});
  Request anonymous(Headers{});
  EXPECT_EQ(anonymous.run(filter), FilterStatus::Continue);
  EXPECT_EQ(anonymous.state.identity, "");
  Request basic(Headers{{"authorization", "Basic dXNlcjpwYXNz"}});
  EXPECT_EQ(basic.run(filter), FilterStatus::Continue) << "not a bearer token: no JWT presented";
  Request bad(Headers{{"authorization", "Bearer not.a.token"}});
  ASSERT_EQ(bad.run(filter), FilterStatus::Reply);
  EXPECT_EQ(bad.reply.status, 401u);
}

TEST(AuthFilterTest, ATokenHeaderOrCookieReplacesAuthorization) {
  AuthFilterConfig config;
  config.jwt = jwt(std::make_shared<StaticJwks>(testKeys().set));
  config.jwt->tokenHeader = "x-id-token";
  config.jwt->tokenCookie = "session";
  config.unixNow = testNow;
  clockSeconds = kNow;
  const AuthFilter filter(std::move(config), AuthCounters{});
  const std::string token = testKeys().validToken("ES256");

  Request header(Headers{{"X-Id-Token", token}});
  EXPECT_EQ(header.run(filter), FilterStatus::Continue);
  EXPECT_EQ(header.state.identity, "alice");
  const std::string bearer = "Bearer " + token;
  Request bearerHeader(Headers{{"x-id-token", bearer}});
  EXPECT_EQ(bearerHeader.run(filter), FilterStatus::Continue) << "a Bearer prefix is dropped";
  const std::string cookies = "theme=dark; session=" + token + "; lang=en";
  Request cookie(Headers{{"Cookie", cookies}});
  EXPECT_EQ(cookie.run(filter), FilterStatus::Continue);
  EXPECT_EQ(cookie.state.identity, "alice");

  // Authorization is not read when the rule names its own sources: no credentials, 401.
  Request authorization(Headers{{"authorization", bearer}});
  ASSERT_EQ(authorization.run(filter), FilterStatus::Reply);
  EXPECT_EQ(authorization.reply.status, 401u);
  const std::string badCookie = "session=" + token + "x";
  Request tampered(Headers{{"cookie", badCookie}});
  ASSERT_EQ(tampered.run(filter), FilterStatus::Reply);
  EXPECT_THAT(tampered.reply.extraHeaders, HasSubstr("invalid_token"));
}

}  // namespace
}  // namespace meshgate::dp
