// RequestFilter: a step a routed request passes through before it goes upstream, the way Envoy's
// HTTP filter chain runs ahead of its router filter. Each rule compiles the filters it needs into
// a FilterChain (snapshot.cc), in this order: CORS (a preflight is answered before anything asks
// for credentials), redirect, authentication, rate limit. The session runs the chain after routing
// and either continues to the upstream router or sends the LocalReply a filter chose. Filters are
// built on the main thread with the snapshot and then only read: onRequest is const and called on
// any worker's thread, so per-request state lives in the context's FilterState, per-worker state
// is indexed by FilterContext::worker, and state shared by workers is atomic or locked.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/proxy/local_reply.h"
#include "dataplane/router/request_view.h"

namespace meshgate::auth {
struct VerifiedJwt;
}

namespace meshgate::dp {

// Header lines a filter adds: lower-case names, values without CR or LF.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// What the filters of one request learn and ask for; the session clears it before each request
// and reuses its capacity.
struct FilterState {
  std::string identity;    // who the client is: its API key's name or its JWT's subject
  std::string apiKeyName;  // the API key's name when one was presented and valid
  std::shared_ptr<const auth::VerifiedJwt> jwt;  // the verified token, when one was presented
  HeaderList requestHeaders;                     // added to the upstream request
  HeaderList responseHeaders;                    // added to the response, forwarded or local
  // A query parameter that carried a credential: its value is redacted in the access log.
  std::string secretQueryParameter;

  void clear() {
    identity.clear();
    secretQueryParameter.clear();
    apiKeyName.clear();
    jwt.reset();
    requestHeaders.clear();
    responseHeaders.clear();
  }
};

// What a filter may read of the request and its connection, and the request's FilterState.
struct FilterContext {
  const RequestView& request;  // method, host, path, query, headers (names lower-case)
  std::string_view target;     // the request target as received, query included
  std::string_view clientIp;
  bool tls = false;   // the client connection is TLS
  size_t worker = 0;  // the worker thread's index, for per-worker state
  FilterState& state;
};

enum class FilterStatus { Continue, Reply };

class RequestFilter {
 public:
  virtual ~RequestFilter() = default;
  virtual std::string_view name() const = 0;
  // Continue, or Reply with `reply` filled in (then no later filter runs).
  virtual FilterStatus onRequest(const FilterContext& context, LocalReply& reply) const = 0;
};

using FilterChain = std::vector<std::unique_ptr<const RequestFilter>>;

// Runs `chain` in order; stops at the first filter that replies.
FilterStatus runFilters(const FilterChain& chain, const FilterContext& context, LocalReply& reply);

}  // namespace meshgate::dp
