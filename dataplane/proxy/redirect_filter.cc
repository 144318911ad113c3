// Building the Location of a redirect.
#include "dataplane/proxy/redirect_filter.h"

namespace meshgate::dp {

FilterStatus RedirectFilter::onRequest(const FilterContext& context, LocalReply& reply) const {
  const bool httpsRedirect = toHttps_ && !context.tls;
  if (!redirect_ && !httpsRedirect) return FilterStatus::Continue;
  // The host without its port; an IPv6 literal keeps its brackets.
  std::string_view host = context.request.host;
  if (!host.empty() && host.front() == '[')
    host =
        host.substr(0, host.find(']') == std::string_view::npos ? host.size() : host.find(']') + 1);
  else
    host = host.substr(0, host.find(':'));

  std::string location;
  unsigned status = 302;
  if (redirect_) {
    const api::Redirect& r = *redirect_;
    const std::string scheme = r.scheme.value_or(context.tls ? "https" : "http");
    location = scheme + "://";
    location += r.hostname ? std::string_view(*r.hostname) : host;
    if (r.port) {
      const bool standard =
          (scheme == "http" && *r.port == 80) || (scheme == "https" && *r.port == 443);
      if (!standard) location += ":" + std::to_string(*r.port);
    }
    location += r.path ? std::string_view(*r.path) : context.target;
    if (r.statusCode) status = static_cast<unsigned>(*r.statusCode);
  } else {
    location = "https://";
    location += host;
    location += context.target;
    status = 301;
  }
  reply.status = status;
  reply.body.clear();
  reply.extraHeaders = "location: " + location + "\r\n";
  return FilterStatus::Reply;
}

}  // namespace meshgate::dp
