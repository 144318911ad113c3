// Header and query lookups of RequestView.
#include "dataplane/router/request_view.h"

namespace meshgate::dp {

namespace {
bool equalsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}
}  // namespace

std::optional<std::string_view> RequestView::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (equalsIgnoringAsciiCase(key, name)) return value;
  return std::nullopt;
}

std::optional<std::string_view> RequestView::queryParam(std::string_view name) const {
  for (const auto& [key, value] : query)
    if (key == name) return value;  // query parameter names are case-sensitive
  return std::nullopt;
}

}  // namespace meshgate::dp
