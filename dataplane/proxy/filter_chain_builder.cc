// A rule's filter chain; see filter_chain_builder.h.
#include "dataplane/proxy/filter_chain_builder.h"

#include "base/ascii.h"
#include "dataplane/auth/api_key_set.h"
#include "dataplane/auth/jwk_set.h"
#include "dataplane/config/secret_lookup.h"
#include "dataplane/proxy/auth_filter.h"
#include "dataplane/proxy/cors_filter.h"
#include "dataplane/proxy/rate_limit_filter.h"
#include "dataplane/proxy/redirect_filter.h"

namespace meshgate::dp {
namespace {

std::string secretName(const std::string& routeNamespace, const api::SecretKeyRef& ref,
                       std::string_view defaultKey) {
  return routeNamespace + "/" + ref.name + " key " + (ref.key ? *ref.key : std::string(defaultKey));
}

JwtRequirement jwtRequirement(const FilterChainInputs& in, const api::JwtAuth& jwt,
                              BuiltFilters& out) {
  JwtRequirement requirement;
  requirement.policy.issuer = jwt.issuer;
  requirement.policy.audiences = jwt.audiences;
  requirement.policy.clockSkew =
      std::chrono::duration_cast<std::chrono::seconds>(in.config.auth.clockSkew);
  requirement.policy.maxTokenBytes = in.config.auth.maxTokenBytes;
  requirement.tokenHeader = asciiLower(jwt.tokenHeader.value_or(""));
  requirement.tokenCookie = jwt.tokenCookie.value_or("");
  for (const auto& claimHeader : jwt.claimHeaders) {
    api::ClaimHeader lower{claimHeader.claim, asciiLower(claimHeader.header)};
    out.stripRequestHeaders.push_back(lower.header);
    requirement.claimHeaders.push_back(std::move(lower));
  }
  const std::string& ns = in.route.metadata.namespace_;
  if (jwt.jwks.secretRef) {
    const api::SecretKeyRef& ref = *jwt.jwks.secretRef;
    const std::string* value = findSecretValue(in.config, ns, ref, api::kDefaultJwksKey);
    if (!value) {
      out.warnings.push_back("rule " + in.statName + ": secret " +
                             secretName(ns, ref, api::kDefaultJwksKey) +
                             " not found: JWT requests answer 503");
      return requirement;
    }
    Expected<std::shared_ptr<const JwksSource>, std::string> keys = std::string();
    if (in.resources) {
      keys = in.resources->staticJwks(*value);
    } else if (auto parsed = auth::JwkSet::parse(*value)) {
      keys = std::shared_ptr<const JwksSource>(std::make_shared<StaticJwks>(std::move(*parsed)));
    } else {
      keys = parsed.error();
    }
    if (!keys) {
      out.warnings.push_back("rule " + in.statName + ": secret " +
                             secretName(ns, ref, api::kDefaultJwksKey) + " is not a usable JWKS (" +
                             keys.error() + "): JWT requests answer 503");
      return requirement;
    }
    requirement.keys = std::move(*keys);
  } else if (jwt.jwks.uri) {
    if (in.resources) {
      const RemoteJwksSettings settings{.refreshInterval = in.config.auth.jwksRefreshInterval,
                                        .fetchTimeout = in.config.auth.jwksFetchTimeout};
      requirement.keys = in.resources->remoteJwks(*jwt.jwks.uri, settings);
    } else {
      out.warnings.push_back("rule " + in.statName + ": no JWKS fetcher here for " + *jwt.jwks.uri +
                             ": JWT requests answer 503");
    }
  }
  return requirement;
}

ApiKeyRequirement apiKeyRequirement(const FilterChainInputs& in, const api::ApiKeyAuth& apiKey,
                                    BuiltFilters& out) {
  ApiKeyRequirement requirement;
  requirement.header = asciiLower(apiKey.header.value_or("x-api-key"));
  requirement.queryParam = apiKey.queryParam.value_or("");
  // The key stops at the gateway: backends see neither it nor a client's copy of the header.
  out.stripRequestHeaders.push_back(requirement.header);
  const std::string& ns = in.route.metadata.namespace_;
  const std::string* value =
      findSecretValue(in.config, ns, apiKey.secretRef, api::kDefaultApiKeysKey);
  if (!value) {
    out.warnings.push_back("rule " + in.statName + ": secret " +
                           secretName(ns, apiKey.secretRef, api::kDefaultApiKeysKey) +
                           " not found: API-key requests answer 503");
    return requirement;
  }
  auto keys = auth::ApiKeySet::parse(*value);
  if (!keys) {
    out.warnings.push_back("rule " + in.statName + ": secret " +
                           secretName(ns, apiKey.secretRef, api::kDefaultApiKeysKey) +
                           " holds no usable API keys (" + keys.error() +
                           "): API-key requests answer 503");
    return requirement;
  }
  requirement.keys = std::move(*keys);
  return requirement;
}

// Everything the rule's buckets depend on: a change to any of it starts new buckets.
std::string bucketIdentity(const FilterChainInputs& in, const api::RateLimit& limit) {
  return in.statName + "|" + std::to_string(limit.requests) + "/" + limit.unit + "|" +
         std::to_string(limit.burst.value_or(limit.requests)) + "|" +
         (limit.key && limit.key->type ? *limit.key->type : "ClientIP") + "|" +
         (limit.key && limit.key->name ? *limit.key->name : "") + "|" +
         std::to_string(in.config.limits.maxRateLimitKeys);
}

}  // namespace

std::optional<api::Auth> effectiveAuth(const api::ApiRoute& route, const api::RouteRule& rule) {
  if (rule.auth) {
    if (rule.auth->disabled.value_or(false)) return std::nullopt;
    return rule.auth;
  }
  return route.spec.auth;
}

BuiltFilters buildFilterChain(const FilterChainInputs& in) {
  BuiltFilters out;
  const api::RouteRule& rule = in.rule;
  if (rule.cors) {
    out.chain.push_back(std::make_unique<CorsFilter>(*rule.cors));
    for (const char* name : {"access-control-allow-origin", "access-control-allow-credentials",
                             "access-control-expose-headers", "access-control-allow-methods",
                             "access-control-allow-headers", "access-control-max-age"})
      out.stripResponseHeaders.emplace_back(name);
  }
  // spec.tls.redirectHTTP sends plain-HTTP requests to https; a rule's own redirect wins.
  const bool redirectToHttps = in.route.spec.tls && in.route.spec.tls->redirectHTTP.value_or(false);
  std::optional<api::Redirect> redirect = rule.filters ? rule.filters->redirect : std::nullopt;
  if (redirect || redirectToHttps)
    out.chain.push_back(std::make_unique<RedirectFilter>(std::move(redirect), redirectToHttps));

  if (const auto auth = effectiveAuth(in.route, rule); auth && (auth->jwt || auth->apiKey)) {
    AuthFilterConfig config;
    if (auth->jwt) config.jwt = jwtRequirement(in, *auth->jwt, out);
    if (auth->apiKey) config.apiKey = apiKeyRequirement(in, *auth->apiKey, out);
    config.allowAnonymous = auth->allowAnonymous.value_or(false);
    config.workers = in.workers;
    config.tokenCacheCapacity = in.config.auth.verifiedTokenCacheSize;
    if (auth->jwt && in.resources && config.tokenCacheCapacity > 0) {
      // A cached token was verified under this issuer and these audiences: the caches are the
      // rule's only while those stay the same.
      std::string identity = in.statName + "|" + auth->jwt->issuer;
      for (const auto& audience : auth->jwt->audiences)
        identity += "|" + audience;
      config.tokenCaches =
          in.resources->tokenCaches(identity, in.workers, config.tokenCacheCapacity);
    }
    out.chain.push_back(std::make_unique<AuthFilter>(
        std::move(config), AuthCounters{.family = &in.stats.authDenied, .route = in.statName}));
  }

  if (rule.rateLimit) {
    const api::RateLimit& limit = *rule.rateLimit;
    const ratelimit::BucketPolicy policy = bucketPolicy(limit);
    const size_t maxKeys = in.config.limits.maxRateLimitKeys;
    auto buckets = in.resources ? in.resources->buckets(bucketIdentity(in, limit), policy, maxKeys)
                                : std::make_shared<ratelimit::TokenBucketTable>(policy, maxKeys);
    const RateLimitKeyType keyType = rateLimitKeyType(limit);
    std::string keyName = limit.key && limit.key->name ? *limit.key->name : "";
    if (keyType == RateLimitKeyType::Header) keyName = asciiLower(keyName);
    out.chain.push_back(
        std::make_unique<RateLimitFilter>(keyType, std::move(keyName), std::move(buckets),
                                          &in.stats.rateLimited.with({in.statName})));
  }
  return out;
}

}  // namespace meshgate::dp
