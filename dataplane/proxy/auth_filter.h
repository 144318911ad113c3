// AuthFilter: a rule's effective `auth` (its own override, else the route's `spec.auth`) on the
// request path — a JWT from `Authorization: Bearer`, verified against the rule's JWKS source
// (auth/jwt_verifier.h; verified tokens cached per worker, keyed by the whole token, `exp` still
// checked on every request), and/or an API key from a header or query parameter, looked up by its
// SHA-256 in the Secret's key set (auth/api_key_set.h). Outcomes:
//   - valid credentials: continue; FilterState gets the identity (API key name, else the JWT's
//     subject), the verified token, and the request headers `claimHeaders` asks for;
//   - no credentials: continue when `allowAnonymous`, else 401;
//   - bad credentials (any presented credential that fails): 401, even with `allowAnonymous`;
//   - the keys it needs are missing (a Secret not found or not parseable, a JWKS never fetched):
//     503 — never open.
// The token comes from `Authorization: Bearer`, or from the rule's `tokenHeader` / `tokenCookie`
// instead when it names them. A 401 carries `WWW-Authenticate: Bearer realm="meshgate",
// error="invalid_token", error_description="<category>"` (RFC 6750; only the category, e.g. "token
// expired"), or without error when no token came; API-key failures answer `WWW-Authenticate: ApiKey
// realm="meshgate"`. Neither a token nor a key is ever logged. The incoming copies of the claim
// headers are removed by the rule's request-header edits (snapshot.cc), whatever this filter
// decides. See request_filter.h for threading.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/auth.h"
#include "dataplane/auth/api_key_set.h"
#include "dataplane/auth/jwt_verifier.h"
#include "dataplane/auth/verified_token_cache.h"
#include "dataplane/proxy/jwks_source.h"
#include "dataplane/proxy/request_filter.h"
#include "metrics/registry.h"

namespace meshgate::dp {

struct JwtRequirement {
  auth::JwtPolicy policy;
  std::shared_ptr<const JwksSource> keys;      // null: the keys are missing (503)
  std::vector<api::ClaimHeader> claimHeaders;  // header names lower-case
  // Read the token from this header (lower-case) and/or cookie instead of Authorization.
  std::string tokenHeader;
  std::string tokenCookie;
};

struct ApiKeyRequirement {
  std::shared_ptr<const auth::ApiKeySet> keys;  // null: the Secret is missing or invalid (503)
  std::string header;                           // lower-case; empty: not read from a header
  std::string queryParam;                       // empty: not read from the query
};

struct AuthFilterConfig {
  std::optional<JwtRequirement> jwt;
  std::optional<ApiKeyRequirement> apiKey;
  bool allowAnonymous = false;
  size_t workers = 1;                   // per-worker token caches
  size_t tokenCacheCapacity = 0;        // per worker; 0: no cache
  std::int64_t (*unixNow)() = nullptr;  // the time tokens are checked at; null: the system clock
  // The caches to use (one per worker), shared with the previous snapshot's filter when the rule's
  // JWT settings did not change; null: the filter makes its own.
  std::shared_ptr<std::vector<auth::VerifiedTokenCache>> tokenCaches;
};

// The counters of one rule's refusals, by reason.
struct AuthCounters {
  metrics::CounterFamily* family = nullptr;  // meshgate_proxy_auth_denied_total
  std::string route;                         // its route label
};

class AuthFilter final : public RequestFilter {
 public:
  AuthFilter(AuthFilterConfig config, AuthCounters counters);

  std::string_view name() const override { return "auth"; }
  FilterStatus onRequest(const FilterContext& context, LocalReply& reply) const override;

 private:
  enum class Verdict { Pass, Absent, Denied, Unavailable };
  Verdict checkJwt(std::string_view token, const FilterContext& context, LocalReply& reply) const;
  Verdict checkApiKey(std::string_view key, const FilterContext& context, LocalReply& reply) const;
  void deny(LocalReply& reply, unsigned status, std::string_view reason, std::string body,
            std::string challenge) const;

  AuthFilterConfig config_;
  AuthCounters counters_;
  // One cache per worker: each is touched only by its worker's thread.
  std::shared_ptr<std::vector<auth::VerifiedTokenCache>> caches_;
};

}  // namespace meshgate::dp
