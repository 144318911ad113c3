// Tests of CorsPolicy: origin matching (exact, port, wildcard depth, apex and suffix tricks,
// scheme, "null", malformed origins), the headers of preflight answers (methods, requested
// headers, credentials, max-age) and of actual responses (expose headers), and vary.
#include "dataplane/proxy/cors_policy.h"

#include <gtest/gtest.h>

namespace meshgate::dp {
namespace {

api::Cors corsWithOrigins(std::vector<std::string> origins) {
  api::Cors cors;
  cors.allowOrigins = std::move(origins);
  return cors;
}

// The value of header `name` in `headers`, or nullopt; fails the test if it appears twice.
std::optional<std::string> header(const HeaderList& headers, std::string_view name) {
  std::optional<std::string> value;
  for (const auto& [n, v] : headers) {
    if (n != name) continue;
    EXPECT_FALSE(value.has_value()) << "duplicate " << name;
    value = v;
  }
  return value;
}

bool hasAccessControlHeader(const HeaderList& headers) {
  for (const auto& [name, value] : headers) {
    if (name.rfind("access-control-", 0) == 0) return true;
  }
  return false;
}

HeaderList preflight(const CorsPolicy& policy, std::string_view origin, std::string_view method,
                     std::optional<std::string_view> requestHeaders = std::nullopt) {
  HeaderList out;
  policy.preflightHeaders(origin, method, requestHeaders, out);
  return out;
}

HeaderList response(const CorsPolicy& policy, std::string_view origin) {
  HeaderList out;
  policy.responseHeaders(origin, out);
  return out;
}

// Origins

TEST(CorsPolicyTest, ExactOriginMatchesItselfOnly) {
  const CorsPolicy policy(corsWithOrigins({"https://app.example.com"}));
  EXPECT_TRUE(policy.originAllowed("https://app.example.com"));
  EXPECT_FALSE(policy.originAllowed("https://other.example.com"));
  EXPECT_FALSE(policy.originAllowed("https://sub.app.example.com"));
  EXPECT_FALSE(policy.originAllowed("https://app.example.com.evil.com"));
  EXPECT_FALSE(policy.originAllowed("https://app.example.co"));
}

TEST(CorsPolicyTest, SchemeAndHostCompareCaseInsensitively) {
  const CorsPolicy policy(corsWithOrigins({"https://app.example.com"}));
  EXPECT_TRUE(policy.originAllowed("HTTPS://App.Example.COM"));
  const CorsPolicy upperConfig(corsWithOrigins({"https://APP.example.com"}));
  EXPECT_TRUE(upperConfig.originAllowed("https://app.example.com"));
}

TEST(CorsPolicyTest, PortMustMatchExactly) {
  const CorsPolicy plain(corsWithOrigins({"https://a.com"}));
  EXPECT_FALSE(plain.originAllowed("https://a.com:8443"));
  EXPECT_FALSE(plain.originAllowed("https://a.com:443"));
  const CorsPolicy withPort(corsWithOrigins({"https://a.com:8443"}));
  EXPECT_TRUE(withPort.originAllowed("https://a.com:8443"));
  EXPECT_FALSE(withPort.originAllowed("https://a.com"));
  EXPECT_FALSE(withPort.originAllowed("https://a.com:8444"));
}

TEST(CorsPolicyTest, SchemeMustMatch) {
  const CorsPolicy policy(corsWithOrigins({"https://app.example.com", "https://*.example.org"}));
  EXPECT_FALSE(policy.originAllowed("http://app.example.com"));
  EXPECT_FALSE(policy.originAllowed("http://www.example.org"));
  EXPECT_FALSE(policy.originAllowed("wss://app.example.com"));
}

TEST(CorsPolicyTest, WildcardMatchesSubdomainsAtAnyDepth) {
  const CorsPolicy policy(corsWithOrigins({"https://*.example.com"}));
  EXPECT_TRUE(policy.originAllowed("https://app.example.com"));
  EXPECT_TRUE(policy.originAllowed("https://a.b.c.example.com"));
  EXPECT_TRUE(policy.originAllowed("https://API.Example.com"));
}

TEST(CorsPolicyTest, WildcardDoesNotMatchTheApexOrASuffixTrick) {
  const CorsPolicy policy(corsWithOrigins({"https://*.example.com"}));
  EXPECT_FALSE(policy.originAllowed("https://example.com"));
  EXPECT_FALSE(policy.originAllowed("https://evilexample.com"));
  EXPECT_FALSE(policy.originAllowed("https://.example.com"));
  EXPECT_FALSE(policy.originAllowed("https://app.example.com.evil.com"));
  EXPECT_FALSE(policy.originAllowed("https://example.com.evil.com"));
}

TEST(CorsPolicyTest, WildcardWithPortNeedsThatPort) {
  const CorsPolicy policy(corsWithOrigins({"https://*.example.com:8443"}));
  EXPECT_TRUE(policy.originAllowed("https://app.example.com:8443"));
  EXPECT_FALSE(policy.originAllowed("https://app.example.com"));
  EXPECT_FALSE(policy.originAllowed("https://app.example.com:9443"));
}

TEST(CorsPolicyTest, AnyOriginMatchesEveryWellFormedOrigin) {
  const CorsPolicy policy(corsWithOrigins({"*"}));
  EXPECT_TRUE(policy.originAllowed("https://anything.test"));
  EXPECT_TRUE(policy.originAllowed("http://localhost:3000"));
  EXPECT_TRUE(policy.originAllowed("http://[::1]:8080"));
}

TEST(CorsPolicyTest, NullOriginNeverMatches) {
  EXPECT_FALSE(CorsPolicy(corsWithOrigins({"*"})).originAllowed("null"));
  EXPECT_FALSE(CorsPolicy(corsWithOrigins({"null"})).originAllowed("null"));
  const CorsPolicy policy(corsWithOrigins({"*"}));
  const HeaderList out = response(policy, "null");
  EXPECT_FALSE(hasAccessControlHeader(out));
}

TEST(CorsPolicyTest, MalformedOriginsNeverMatch) {
  const CorsPolicy any(corsWithOrigins({"*"}));
  const CorsPolicy exact(corsWithOrigins({"https://a.com", "https://*.example.com"}));
  for (const std::string_view origin :
       {"", "a.com", "https://", "https://a.com/", "https://a.com/path", "https://user@a.com",
        "https://a.com:", "https://a.com:84x3", "https://a.com:123456", "://a.com",
        "https://*.example.com", "https://a.com\r\nx: y"}) {
    EXPECT_FALSE(any.originAllowed(origin)) << origin;
    EXPECT_FALSE(exact.originAllowed(origin)) << origin;
  }
}

TEST(CorsPolicyTest, EmptyPolicyAllowsNoOrigin) {
  const CorsPolicy policy(api::Cors{});
  EXPECT_FALSE(policy.originAllowed("https://app.example.com"));
}

// Preflight detection

TEST(CorsPolicyTest, PreflightIsOptionsWithOriginAndRequestMethod) {
  EXPECT_TRUE(CorsPolicy::isPreflight("OPTIONS", "https://a.com", "PUT"));
  EXPECT_FALSE(CorsPolicy::isPreflight("OPTIONS", std::nullopt, "PUT"));
  EXPECT_FALSE(CorsPolicy::isPreflight("OPTIONS", "https://a.com", std::nullopt));
  EXPECT_FALSE(CorsPolicy::isPreflight("GET", "https://a.com", "PUT"));
  EXPECT_FALSE(CorsPolicy::isPreflight("options", "https://a.com", "PUT"));
}

// Preflight answers

TEST(CorsPolicyTest, PreflightForAllowedOriginAndMethod) {
  api::Cors cors = corsWithOrigins({"https://app.example.com"});
  cors.allowMethods = {"GET", "PUT", "DELETE"};
  const HeaderList out = preflight(CorsPolicy(cors), "https://app.example.com", "PUT");
  EXPECT_EQ(header(out, "access-control-allow-origin"), "https://app.example.com");
  EXPECT_EQ(header(out, "access-control-allow-methods"), "GET, PUT, DELETE");
  EXPECT_EQ(header(out, "access-control-allow-credentials"), std::nullopt);
  EXPECT_EQ(header(out, "access-control-allow-headers"), std::nullopt);
  EXPECT_EQ(header(out, "access-control-max-age"), std::nullopt);
  EXPECT_EQ(header(out, "vary"),
            "origin, access-control-request-method, access-control-request-headers");
}

TEST(CorsPolicyTest, PreflightForDisallowedOriginHasOnlyVary) {
  api::Cors cors = corsWithOrigins({"https://app.example.com"});
  cors.allowMethods = {"PUT"};
  cors.allowHeaders = {"*"};
  cors.allowCredentials = true;
  cors.maxAge = 600;
  const HeaderList out = preflight(CorsPolicy(cors), "https://evil.com", "PUT", "x-token");
  EXPECT_FALSE(hasAccessControlHeader(out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, "vary");
}

TEST(CorsPolicyTest, PreflightForMethodNotAllowedHasOnlyVary) {
  api::Cors cors = corsWithOrigins({"https://app.example.com"});
  cors.allowMethods = {"PUT"};
  const CorsPolicy policy(cors);
  EXPECT_FALSE(hasAccessControlHeader(preflight(policy, "https://app.example.com", "DELETE")));
  // Methods are case-sensitive.
  EXPECT_FALSE(hasAccessControlHeader(preflight(policy, "https://app.example.com", "put")));
  EXPECT_FALSE(hasAccessControlHeader(preflight(policy, "https://app.example.com", "")));
  EXPECT_EQ(preflight(policy, "https://app.example.com", "DELETE").size(), 1u);
}

TEST(CorsPolicyTest, SafelistedMethodsAreAllowedWithoutBeingListed) {
  api::Cors cors = corsWithOrigins({"https://app.example.com"});
  cors.allowMethods = {"PUT"};
  const CorsPolicy policy(cors);
  for (const std::string_view method : {"GET", "HEAD", "POST"}) {
    const HeaderList out = preflight(policy, "https://app.example.com", method);
    EXPECT_EQ(header(out, "access-control-allow-origin"), "https://app.example.com") << method;
    EXPECT_EQ(header(out, "access-control-allow-methods"), "PUT") << method;
  }
  // With no methods configured the header is left out: safelisted methods need none.
  const HeaderList none = preflight(CorsPolicy(corsWithOrigins({"https://app.example.com"})),
                                    "https://app.example.com", "POST");
  EXPECT_EQ(header(none, "access-control-allow-origin"), "https://app.example.com");
  EXPECT_EQ(header(none, "access-control-allow-methods"), std::nullopt);
}

TEST(CorsPolicyTest, WildcardMethodWithoutCredentialsIsSentAsConfigured) {
  api::Cors cors = corsWithOrigins({"*"});
  cors.allowMethods = {"*"};
  const HeaderList out = preflight(CorsPolicy(cors), "https://any.test", "PATCH");
  EXPECT_EQ(header(out, "access-control-allow-origin"), "*");
  EXPECT_EQ(header(out, "access-control-allow-methods"), "*");
}

TEST(CorsPolicyTest, WildcardMethodWithCredentialsEchoesTheRequestedMethod) {
  api::Cors cors = corsWithOrigins({"https://app.example.com"});
  cors.allowMethods = {"*"};
  cors.allowCredentials = true;
  const HeaderList out = preflight(CorsPolicy(cors), "https://app.example.com", "PATCH");
  EXPECT_EQ(header(out, "access-control-allow-origin"), "https://app.example.com");
  EXPECT_EQ(header(out, "access-control-allow-credentials"), "true");
  EXPECT_EQ(header(out, "access-control-allow-methods"), "PATCH");
}

TEST(CorsPolicyTest, RequestedHeadersAreMatchedCaseInsensitivelyAndEchoedLowerCase) {
  api::Cors cors = corsWithOrigins({"https://app.example.com"});
  cors.allowHeaders = {"Content-Type", "X-Request-Id"};
  const CorsPolicy policy(cors);
  const HeaderList out =
      preflight(policy, "https://app.example.com", "POST", " X-Request-ID ,\tcontent-type,, ");
  EXPECT_EQ(header(out, "access-control-allow-headers"), "x-request-id, content-type");
  EXPECT_EQ(header(out, "access-control-allow-origin"), "https://app.example.com");
}

TEST(CorsPolicyTest, OneUnlistedRequestedHeaderFailsThePreflight) {
  api::Cors cors = corsWithOrigins({"https://app.example.com"});
  cors.allowHeaders = {"content-type"};
  const CorsPolicy policy(cors);
  const HeaderList out =
      preflight(policy, "https://app.example.com", "POST", "content-type, x-secret");
  EXPECT_FALSE(hasAccessControlHeader(out));
  // A name that is not a token fails too.
  EXPECT_FALSE(hasAccessControlHeader(
      preflight(policy, "https://app.example.com", "POST", "content-type, bad name")));
}

TEST(CorsPolicyTest, EmptyRequestedHeaderListAddsNoAllowHeaders) {
  api::Cors cors = corsWithOrigins({"https://app.example.com"});
  const HeaderList out = preflight(CorsPolicy(cors), "https://app.example.com", "GET", " , ");
  EXPECT_EQ(header(out, "access-control-allow-origin"), "https://app.example.com");
  EXPECT_EQ(header(out, "access-control-allow-headers"), std::nullopt);
}

TEST(CorsPolicyTest, WildcardHeadersAreEchoedEvenWithCredentials) {
  api::Cors cors = corsWithOrigins({"https://app.example.com"});
  cors.allowHeaders = {"*"};
  cors.allowCredentials = true;
  const HeaderList out =
      preflight(CorsPolicy(cors), "https://app.example.com", "POST", "X-One, x-two");
  EXPECT_EQ(header(out, "access-control-allow-headers"), "x-one, x-two");
  EXPECT_EQ(header(out, "access-control-allow-credentials"), "true");
}

TEST(CorsPolicyTest, WildcardHeadersNeverCoverAuthorization) {
  api::Cors cors = corsWithOrigins({"*"});
  cors.allowHeaders = {"*"};
  const CorsPolicy policy(cors);
  EXPECT_FALSE(
      hasAccessControlHeader(preflight(policy, "https://a.com", "GET", "x-one, Authorization")));

  cors.allowHeaders = {"*", "Authorization"};
  const HeaderList listed =
      preflight(CorsPolicy(cors), "https://a.com", "GET", "x-one, Authorization");
  EXPECT_EQ(header(listed, "access-control-allow-headers"), "x-one, authorization");
}

TEST(CorsPolicyTest, MaxAgeIsSentWhenSet) {
  api::Cors cors = corsWithOrigins({"https://app.example.com"});
  cors.maxAge = 7200;
  EXPECT_EQ(header(preflight(CorsPolicy(cors), "https://app.example.com", "GET"),
                   "access-control-max-age"),
            "7200");
  cors.maxAge = 0;
  EXPECT_EQ(header(preflight(CorsPolicy(cors), "https://app.example.com", "GET"),
                   "access-control-max-age"),
            "0");
}

TEST(CorsPolicyTest, AnyOriginWithCredentialsEchoesTheOrigin) {
  // Validation forbids this combination; the policy still never sends "*" with credentials.
  api::Cors cors = corsWithOrigins({"*"});
  cors.allowCredentials = true;
  const HeaderList out = preflight(CorsPolicy(cors), "https://a.com", "GET");
  EXPECT_EQ(header(out, "access-control-allow-origin"), "https://a.com");
  EXPECT_EQ(header(out, "access-control-allow-credentials"), "true");
}

TEST(CorsPolicyTest, CredentialsFalseSendsNoCredentialsHeader) {
  api::Cors cors = corsWithOrigins({"https://app.example.com"});
  cors.allowCredentials = false;
  const HeaderList out = response(CorsPolicy(cors), "https://app.example.com");
  EXPECT_EQ(header(out, "access-control-allow-credentials"), std::nullopt);
  EXPECT_EQ(header(out, "access-control-allow-origin"), "https://app.example.com");
}

// Actual responses

TEST(CorsPolicyTest, ResponseForAllowedOriginWithExposeHeaders) {
  api::Cors cors = corsWithOrigins({"https://*.example.com"});
  cors.exposeHeaders = {"X-Request-Id", "X-RateLimit-Remaining"};
  cors.allowCredentials = true;
  const HeaderList out = response(CorsPolicy(cors), "https://app.example.com");
  EXPECT_EQ(header(out, "access-control-allow-origin"), "https://app.example.com");
  EXPECT_EQ(header(out, "access-control-allow-credentials"), "true");
  EXPECT_EQ(header(out, "access-control-expose-headers"), "X-Request-Id, X-RateLimit-Remaining");
  EXPECT_EQ(header(out, "vary"), "origin");
  EXPECT_EQ(out.size(), 4u);
}

TEST(CorsPolicyTest, ResponseForDisallowedOriginHasOnlyVary) {
  api::Cors cors = corsWithOrigins({"https://app.example.com"});
  cors.exposeHeaders = {"x-request-id"};
  cors.allowCredentials = true;
  const HeaderList out = response(CorsPolicy(cors), "https://evil.example.net");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], (std::pair<std::string, std::string>("vary", "origin")));
}

TEST(CorsPolicyTest, AnyOriginWithoutCredentialsSendsStarAndStillVaries) {
  api::Cors cors = corsWithOrigins({"*"});
  cors.exposeHeaders = {"*"};
  const HeaderList out = response(CorsPolicy(cors), "https://a.com");
  EXPECT_EQ(header(out, "access-control-allow-origin"), "*");
  EXPECT_EQ(header(out, "access-control-expose-headers"), "*");
  EXPECT_EQ(header(out, "access-control-allow-credentials"), std::nullopt);
  EXPECT_EQ(header(out, "vary"), "origin");
}

TEST(CorsPolicyTest, WildcardExposeHeaderIsDroppedWithCredentials) {
  api::Cors cors = corsWithOrigins({"https://app.example.com"});
  cors.allowCredentials = true;
  cors.exposeHeaders = {"*", "x-request-id"};
  EXPECT_EQ(header(response(CorsPolicy(cors), "https://app.example.com"),
                   "access-control-expose-headers"),
            "x-request-id");
  cors.exposeHeaders = {"*"};
  EXPECT_EQ(header(response(CorsPolicy(cors), "https://app.example.com"),
                   "access-control-expose-headers"),
            std::nullopt);
}

TEST(CorsPolicyTest, HeadersAreAppendedAfterExistingOnes) {
  const CorsPolicy policy(corsWithOrigins({"https://app.example.com"}));
  HeaderList out = {{"x-existing", "1"}};
  policy.responseHeaders("https://app.example.com", out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].first, "x-existing");
}

}  // namespace
}  // namespace meshgate::dp
