// Header and query lookups of RequestView.
#include "dataplane/router/request_view.h"

#include "base/ascii.h"

namespace meshgate::dp {

std::optional<std::string_view> RequestView::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (asciiEqualsIgnoreCase(key, name)) return value;
  return std::nullopt;
}

std::optional<std::string_view> RequestView::queryParam(std::string_view name) const {
  for (const auto& [key, value] : query)
    if (key == name) return value;  // query parameter names are case-sensitive
  return std::nullopt;
}

std::optional<std::string_view> cookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view item = header.substr(0, semi);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    if (item.size() > name.size() && item.substr(0, name.size()) == name &&
        item[name.size()] == '=')
      return item.substr(name.size() + 1);
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

}  // namespace meshgate::dp
