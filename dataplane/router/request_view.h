// RequestView: what route selection reads of a request — method, host, path and query split
// apart, headers as sent. Views into a parsed request; the owner keeps them alive.
#pragma once

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace meshgate::dp {

struct RequestView {
  std::string_view method;
  std::string_view host;  // the Host header (or :authority), port included if the client sent one
  std::string_view path;  // without the query
  std::vector<std::pair<std::string_view, std::string_view>> query;    // in request order
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // names as sent

  // First value of a header (name compared case-insensitively) or query parameter (exact);
  // nullopt when absent.
  std::optional<std::string_view> header(std::string_view name) const;
  std::optional<std::string_view> queryParam(std::string_view name) const;
};

// The value of cookie `name` in a Cookie header's value ("a=1; b=2"); nullopt when absent. Read by
// ring-hash balancing and by JWT authentication from a cookie.
std::optional<std::string_view> cookieValue(std::string_view header, std::string_view name);

}  // namespace meshgate::dp
