// RequestFilter: a step a routed request passes through before it goes upstream, the way Envoy's
// HTTP filter chain runs ahead of its router filter. Each rule compiles the filters it needs into
// a FilterChain (snapshot.cc); the session runs the chain after routing and either continues to
// the upstream router or sends the LocalReply a filter chose. Redirects are the first filter;
// authentication, rate limits and CORS plug in here rather than into the session. Filters are
// built on the main thread with the snapshot and then only read: onRequest is const and called on
// any worker's thread, so per-request state lives in the context, shared state must be atomic.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "dataplane/proxy/local_reply.h"
#include "dataplane/router/request_view.h"

namespace meshgate::dp {

// What a filter may read of the request and its connection.
struct FilterContext {
  const RequestView& request;  // method, host, path, query, headers (names lower-case)
  std::string_view target;     // the request target as received, query included
  std::string_view clientIp;
  bool tls = false;  // the client connection is TLS
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
