// RateLimitFilter: a rule's `rateLimit` — a token bucket per key (the client IP, a header's value,
// the API key's name or a JWT claim; ratelimit/token_bucket_table.h), shared by every worker of
// this proxy (so the limit is per gateway replica, not per worker). A refused request gets 429
// with Retry-After and RateLimit-Limit/-Remaining/-Reset; an allowed one carries the
// RateLimit-* headers on its response. A request without the key's value (no such header, no API
// key, no claim) counts against one shared bucket for "no value", so leaving the key out is not a
// way around the limit. Runs after authentication; see request_filter.h for threading.
#pragma once

#include <memory>
#include <string>

#include "api/api_route.h"
#include "dataplane/proxy/request_filter.h"
#include "dataplane/ratelimit/token_bucket_table.h"
#include "metrics/registry.h"

namespace meshgate::dp {

enum class RateLimitKeyType { ClientIp, Header, ApiKey, JwtClaim };

class RateLimitFilter final : public RequestFilter {
 public:
  // `buckets` may be carried over from the previous snapshot when the rule's limit is unchanged.
  RateLimitFilter(RateLimitKeyType keyType, std::string keyName,
                  std::shared_ptr<ratelimit::TokenBucketTable> buckets, metrics::Counter* limited)
      : keyType_(keyType),
        keyName_(std::move(keyName)),
        buckets_(std::move(buckets)),
        limited_(limited) {}

  std::string_view name() const override { return "rate-limit"; }
  FilterStatus onRequest(const FilterContext& context, LocalReply& reply) const override;

  const std::shared_ptr<ratelimit::TokenBucketTable>& buckets() const { return buckets_; }

 private:
  RateLimitKeyType keyType_;
  std::string keyName_;  // the header (lower-case) or the claim
  std::shared_ptr<ratelimit::TokenBucketTable> buckets_;
  metrics::Counter* limited_;
};

// The bucket policy of `limit`: `requests` per `unit`, burst `burst` (default `requests`).
ratelimit::BucketPolicy bucketPolicy(const api::RateLimit& limit);
RateLimitKeyType rateLimitKeyType(const api::RateLimit& limit);

}  // namespace meshgate::dp
