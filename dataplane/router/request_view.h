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

}  // namespace meshgate::dp
