// Host header normalization and wildcard host matching.
#include "dataplane/router/host_match.h"

#include "base/ascii.h"

#include <algorithm>
#include <cctype>

namespace meshgate::dp {

std::string normalizeHost(std::string_view hostHeader) {
  std::string_view host = hostHeader;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    host = close == std::string_view::npos ? host : host.substr(0, close + 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  return asciiLower(std::string(host));
}

bool hostMatches(std::string_view pattern, std::string_view host) {
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.") {
    const std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix;
  }
  return pattern == host;
}

int hostSpecificity(std::string_view pattern) {
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.") return static_cast<int>(pattern.size());
  return 1 << 20;
}

}  // namespace meshgate::dp
