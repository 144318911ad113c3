// CorsFilter: a rule's `cors` policy (cors_policy.h) on the request path. A preflight (OPTIONS with
// Origin and Access-Control-Request-Method) is answered by the proxy with 204 and never reaches a
// backend or asks for credentials: browsers send preflights without them. Any other request with
// an Origin continues, and the response (the backend's, or the proxy's own) gains the CORS headers
// the policy gives that origin. The first filter of a rule's chain; see request_filter.h for
// threading.
#pragma once

#include "api/api_route.h"
#include "dataplane/proxy/cors_policy.h"
#include "dataplane/proxy/request_filter.h"

namespace meshgate::dp {

class CorsFilter final : public RequestFilter {
 public:
  explicit CorsFilter(const api::Cors& cors) : policy_(cors) {}

  std::string_view name() const override { return "cors"; }
  FilterStatus onRequest(const FilterContext& context, LocalReply& reply) const override;

 private:
  CorsPolicy policy_;
};

}  // namespace meshgate::dp
