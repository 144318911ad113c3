// CORS on the request path; see cors_filter.h.
#include "dataplane/proxy/cors_filter.h"

namespace meshgate::dp {

FilterStatus CorsFilter::onRequest(const FilterContext& context, LocalReply& reply) const {
  const RequestView& request = context.request;
  const auto origin = request.header("origin");
  if (!origin) return FilterStatus::Continue;
  const auto requestMethod = request.header("access-control-request-method");
  if (CorsPolicy::isPreflight(request.method, origin, requestMethod)) {
    HeaderList headers;
    policy_.preflightHeaders(*origin, *requestMethod,
                             request.header("access-control-request-headers"), headers);
    reply.status = 204;
    reply.body.clear();
    reply.extraHeaders.clear();
    appendHeaderLines(reply.extraHeaders, headers);
    return FilterStatus::Reply;
  }
  policy_.responseHeaders(*origin, context.state.responseHeaders);
  return FilterStatus::Continue;
}

}  // namespace meshgate::dp
