// RateLimitFilter alone: which bucket each key type picks (client IP, header, API-key name, JWT
// claim), the shared bucket of requests without a value, and the 429 reply's headers; plus the
// bucket policy of each unit and the access log's redaction of a credential in the query.
#include "dataplane/proxy/rate_limit_filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane/auth/jwt_verifier.h"
#include "dataplane/proxy/access_log.h"

namespace meshgate::dp {
namespace {

using ::testing::HasSubstr;

struct Request {
  RequestView view;
  FilterState state;
  LocalReply reply;
  std::string clientIp = "10.0.0.1";

  FilterStatus run(const RateLimitFilter& filter) {
    view.method = "GET";
    const FilterContext context{
        .request = view, .target = "/", .clientIp = clientIp, .worker = 0, .state = state};
    return filter.onRequest(context, reply);
  }
};

RateLimitFilter filterOf(RateLimitKeyType type, std::string name, uint64_t burst = 1) {
  auto buckets = std::make_shared<ratelimit::TokenBucketTable>(
      ratelimit::BucketPolicy{.tokensPerSecond = 1.0 / 3600, .burst = burst}, 100);
  return RateLimitFilter(type, std::move(name), std::move(buckets), nullptr);
}

TEST(RateLimitFilterTest, ClientIpsHaveTheirOwnBuckets) {
  const RateLimitFilter filter = filterOf(RateLimitKeyType::ClientIp, "");
  Request a;
  EXPECT_EQ(a.run(filter), FilterStatus::Continue);
  Request again;
  ASSERT_EQ(again.run(filter), FilterStatus::Reply);
  EXPECT_EQ(again.reply.status, 429u);
  EXPECT_THAT(again.reply.extraHeaders, HasSubstr("retry-after: 3600\r\n"));
  EXPECT_THAT(again.reply.extraHeaders, HasSubstr("ratelimit-limit: 1\r\n"));
  EXPECT_THAT(again.reply.extraHeaders, HasSubstr("ratelimit-remaining: 0\r\n"));
  Request other;
  other.clientIp = "10.0.0.2";
  EXPECT_EQ(other.run(filter), FilterStatus::Continue);
}

TEST(RateLimitFilterTest, RequestsWithoutTheHeaderShareOneBucket) {
  const RateLimitFilter filter = filterOf(RateLimitKeyType::Header, "x-client");
  Request first;
  first.view.headers = {{"X-Client", "a"}};
  EXPECT_EQ(first.run(filter), FilterStatus::Continue);
  Request without;
  EXPECT_EQ(without.run(filter), FilterStatus::Continue);
  Request withoutAgain;
  EXPECT_EQ(withoutAgain.run(filter), FilterStatus::Reply)
      << "leaving the header out is no way around the limit";
  Request b;
  b.view.headers = {{"x-client", "b"}};
  EXPECT_EQ(b.run(filter), FilterStatus::Continue);
}

TEST(RateLimitFilterTest, ApiKeyNamesAndClaimsAreKeys) {
  const RateLimitFilter byKey = filterOf(RateLimitKeyType::ApiKey, "");
  Request mobile;
  mobile.state.apiKeyName = "mobile";
  EXPECT_EQ(mobile.run(byKey), FilterStatus::Continue);
  Request web;
  web.state.apiKeyName = "web";
  EXPECT_EQ(web.run(byKey), FilterStatus::Continue);
  Request mobileAgain;
  mobileAgain.state.apiKeyName = "mobile";
  EXPECT_EQ(mobileAgain.run(byKey), FilterStatus::Reply);

  const RateLimitFilter byClaim = filterOf(RateLimitKeyType::JwtClaim, "tenant");
  auto jwt = [](nlohmann::json tenant) {
    auto verified = std::make_shared<auth::VerifiedJwt>();
    verified->claims = {{"tenant", std::move(tenant)}};
    return verified;
  };
  Request acme;
  acme.state.jwt = jwt("acme");
  EXPECT_EQ(acme.run(byClaim), FilterStatus::Continue);
  Request numeric;
  numeric.state.jwt = jwt(42);
  EXPECT_EQ(numeric.run(byClaim), FilterStatus::Continue);
  Request acmeAgain;
  acmeAgain.state.jwt = jwt("acme");
  EXPECT_EQ(acmeAgain.run(byClaim), FilterStatus::Reply);
}

TEST(RateLimitFilterTest, AllowedResponsesCarryTheirQuota) {
  const RateLimitFilter filter = filterOf(RateLimitKeyType::ClientIp, "", 5);
  Request request;
  ASSERT_EQ(request.run(filter), FilterStatus::Continue);
  EXPECT_EQ(request.state.responseHeaders, (HeaderList{{"ratelimit-limit", "5"},
                                                       {"ratelimit-remaining", "4"},
                                                       {"ratelimit-reset", "3600"}}));
}

TEST(RateLimitFilterTest, UnitsBecomeRates) {
  const auto perMinute = bucketPolicy(api::RateLimit{.requests = 120, .unit = "Minute"});
  EXPECT_DOUBLE_EQ(perMinute.tokensPerSecond, 2.0);
  EXPECT_EQ(perMinute.burst, 120u);
  const auto perHour = bucketPolicy(api::RateLimit{.requests = 36, .unit = "Hour", .burst = 7});
  EXPECT_DOUBLE_EQ(perHour.tokensPerSecond, 0.01);
  EXPECT_EQ(perHour.burst, 7u);
  EXPECT_EQ(rateLimitKeyType(api::RateLimit{.requests = 1, .unit = "Second"}),
            RateLimitKeyType::ClientIp);
}

TEST(AccessLogRedactionTest, ACredentialInTheQueryIsRedacted) {
  std::string target = "/items?x=1&api_key=s3cr3t&api_key=again&api_keys=kept";
  redactQueryParameter(target, "api_key");
  EXPECT_EQ(target, "/items?x=1&api_key=redacted&api_key=redacted&api_keys=kept");
  std::string plain = "/items";
  redactQueryParameter(plain, "api_key");
  EXPECT_EQ(plain, "/items");
}

}  // namespace
}  // namespace meshgate::dp
