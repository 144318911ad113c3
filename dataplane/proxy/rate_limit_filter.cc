// Rate limits on the request path; see rate_limit_filter.h.
#include "dataplane/proxy/rate_limit_filter.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "dataplane/auth/jwt_verifier.h"

namespace meshgate::dp {
namespace {

// The bucket of requests that carry no value for the key.
constexpr std::string_view kNoValue = "\x01no-value";

void addDecisionHeaders(const ratelimit::RateDecision& decision, HeaderList& out) {
  out.emplace_back("ratelimit-limit", std::to_string(decision.limit));
  out.emplace_back("ratelimit-remaining", std::to_string(decision.remaining));
  out.emplace_back("ratelimit-reset", std::to_string(decision.reset.count()));
}

}  // namespace

ratelimit::BucketPolicy bucketPolicy(const api::RateLimit& limit) {
  double seconds = 1;
  if (limit.unit == "Minute") seconds = 60;
  if (limit.unit == "Hour") seconds = 3600;
  return ratelimit::BucketPolicy{
      .tokensPerSecond = static_cast<double>(limit.requests) / seconds,
      .burst = static_cast<std::uint64_t>(limit.burst.value_or(limit.requests))};
}

RateLimitKeyType rateLimitKeyType(const api::RateLimit& limit) {
  const std::string type = limit.key && limit.key->type ? *limit.key->type : "ClientIP";
  if (type == "Header") return RateLimitKeyType::Header;
  if (type == "ApiKey") return RateLimitKeyType::ApiKey;
  if (type == "JwtClaim") return RateLimitKeyType::JwtClaim;
  return RateLimitKeyType::ClientIp;
}

FilterStatus RateLimitFilter::onRequest(const FilterContext& context, LocalReply& reply) const {
  std::string_view key = kNoValue;
  std::string claimText;  // a claim that is not a string, as JSON text
  switch (keyType_) {
    case RateLimitKeyType::ClientIp:
      key = context.clientIp;
      break;
    case RateLimitKeyType::Header:
      if (auto value = context.request.header(keyName_)) key = *value;
      break;
    case RateLimitKeyType::ApiKey:
      if (!context.state.apiKeyName.empty()) key = context.state.apiKeyName;
      break;
    case RateLimitKeyType::JwtClaim:
      if (context.state.jwt) {
        const auto& claims = context.state.jwt->claims;
        const auto it = claims.find(keyName_);
        if (it != claims.end() && it->is_string()) {
          key = it->get_ref<const std::string&>();
        } else if (it != claims.end() && !it->is_null()) {
          claimText = it->dump();
          key = claimText;
        }
      }
      break;
  }
  const ratelimit::RateDecision decision = buckets_->take(key, std::chrono::steady_clock::now());
  if (decision.allowed) {
    addDecisionHeaders(decision, context.state.responseHeaders);
    return FilterStatus::Continue;
  }
  if (limited_) limited_->inc();
  HeaderList headers;
  headers.emplace_back("retry-after", std::to_string(decision.retryAfter.count()));
  addDecisionHeaders(decision, headers);
  reply.status = 429;
  reply.body = "rate limit exceeded\n";
  reply.extraHeaders.clear();
  appendHeaderLines(reply.extraHeaders, headers);
  return FilterStatus::Reply;
}

}  // namespace meshgate::dp
