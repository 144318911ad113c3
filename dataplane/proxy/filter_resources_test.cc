// FilterResources: what survives a snapshot rebuild — a JWKS Secret's parsed key set, a JWT rule's
// verified-token caches (a token verified before an endpoint change is still cached after it),
// a rate-limited rule's buckets — and what commit() lets go once no snapshot asks for it.
#include "dataplane/proxy/filter_resources.h"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "api/api_route.h"
#include "dataplane/auth/testing/jwt_forge.h"
#include "dataplane/proxy/filter_chain_builder.h"

namespace meshgate::dp {
namespace {

using auth::testing::testKeys;

TEST(FilterResourcesTest, ParsedJwksAndTokenCachesAreKeptWhileUsed) {
  boost::asio::io_context context;
  FilterResources resources(context, nullptr);
  auto first = resources.staticJwks(testKeys().jwksJson);
  ASSERT_TRUE(first) << first.error();
  auto caches = resources.tokenCaches("shop/api/0|iss|aud", 2, 16);
  ASSERT_EQ(caches->size(), 2u);
  resources.commit();

  auto again = resources.staticJwks(testKeys().jwksJson);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get(), first->get()) << "the same text keeps its parsed set";
  EXPECT_EQ(resources.tokenCaches("shop/api/0|iss|aud", 2, 16), caches);
  EXPECT_NE(resources.tokenCaches("shop/api/0|iss|other", 2, 16), caches)
      << "another audience list must not see tokens verified for this one";
  resources.commit();

  // A build that no longer asks for them: commit() forgets them.
  resources.commit();
  auto fresh = resources.staticJwks(testKeys().jwksJson);
  ASSERT_TRUE(fresh);
  EXPECT_NE(fresh->get(), first->get());
  EXPECT_NE(resources.tokenCaches("shop/api/0|iss|aud", 2, 16), caches);
  EXPECT_FALSE(resources.staticJwks("{\"keys\": []}")) << "a set without keys is an error";
}

TEST(FilterResourcesTest, ATokenVerifiedBeforeARebuildIsStillCachedAfterIt) {
  boost::asio::io_context context;
  FilterResources resources(context, nullptr);
  ProxyStats stats;
  ProxyConfig config;
  config.secrets.push_back(SecretConfig{
      .name = "jwks", .namespace_ = {}, .data = {{"jwks.json", testKeys().jwksJson}}, .files = {}});
  api::ApiRoute route;
  route.metadata.name = "api";
  api::RouteRule rule;
  rule.auth = api::Auth{
      .jwt = api::JwtAuth{.issuer = auth::testing::kIssuer,
                          .audiences = {auth::testing::kAudience},
                          .jwks = {.secretRef = api::SecretKeyRef{.name = "jwks"}, .uri = {}},
                          .claimHeaders = {}},
      .apiKey = {},
      .allowAnonymous = {},
      .disabled = {}};
  const std::string statName = "default/api/0";
  const FilterChainInputs inputs{.config = config,
                                 .route = route,
                                 .rule = rule,
                                 .statName = statName,
                                 .stats = stats,
                                 .resources = &resources,
                                 .workers = 1};

  // A token valid now (the filter checks against the system clock).
  nlohmann::json claims = auth::testing::validClaims();
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  claims["exp"] = now + 600;
  claims["nbf"] = now - 600;
  const std::string bearer = "Bearer " + testKeys().validToken("ES256", claims);
  RequestView view;
  view.method = "GET";
  view.headers = {{"authorization", bearer}};
  const auto run = [&](const BuiltFilters& built) {
    FilterState state;
    LocalReply reply;
    const FilterContext context{
        .request = view, .target = "/", .clientIp = "10.0.0.1", .worker = 0, .state = state};
    EXPECT_EQ(runFilters(built.chain, context, reply), FilterStatus::Continue) << reply.body;
    return state.jwt;
  };

  const BuiltFilters before = buildFilterChain(inputs);
  ASSERT_TRUE(before.warnings.empty());
  const auto verified = run(before);
  ASSERT_TRUE(verified);
  resources.commit();
  const BuiltFilters after = buildFilterChain(inputs);  // e.g. an endpoint changed
  resources.commit();
  EXPECT_EQ(run(after), verified) << "served from the cache the rebuild kept";
}

}  // namespace
}  // namespace meshgate::dp
