// Header and query lookups of RequestView.
#include "dataplane/request_view.h"

namespace meshgate::dp {

namespace {
std::optional<std::string_view> firstValue(
    const std::vector<std::pair<std::string_view, std::string_view>>& items,
    std::string_view name) {
  for (const auto& [key, value] : items) {
    if (key == name) return value;
  }
  return std::nullopt;
}
}  // namespace

std::optional<std::string_view> RequestView::header(std::string_view name) const {
  return firstValue(headers, name);
}

std::optional<std::string_view> RequestView::queryParam(std::string_view name) const {
  return firstValue(query, name);
}

}  // namespace meshgate::dp
