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

}  // namespace meshgate::dp
