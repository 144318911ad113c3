// RedirectFilter: answers a request with a redirect instead of forwarding it — a rule's
// `filters.redirect` (scheme, hostname, port, path, status; 302 unless set), or a route's
// `tls.redirectHTTP` on a plain listener (301 to https, same host and target). The first filter
// of the chain; see request_filter.h for threading.
#pragma once

#include <optional>

#include "api/api_route.h"
#include "dataplane/proxy/request_filter.h"

namespace meshgate::dp {

class RedirectFilter final : public RequestFilter {
 public:
  // `redirect`: the rule's redirect, if any. `toHttps`: redirect plain-HTTP requests to https.
  RedirectFilter(std::optional<api::Redirect> redirect, bool toHttps)
      : redirect_(std::move(redirect)), toHttps_(toHttps) {}

  std::string_view name() const override { return "redirect"; }
  FilterStatus onRequest(const FilterContext& context, LocalReply& reply) const override;

 private:
  std::optional<api::Redirect> redirect_;
  bool toHttps_;
};

}  // namespace meshgate::dp
