// Looking up a TLS passthrough route by server name.
#include "dataplane/proxy/sni_table.h"

#include <algorithm>

#include "dataplane/router/host_match.h"

namespace meshgate::dp {

void SniTable::add(const std::string& pattern, size_t target) {
  if (!pattern.starts_with("*.")) {
    exact_.emplace(pattern, target);
    return;
  }
  const auto same = [&](const auto& entry) { return entry.first == pattern; };
  if (std::any_of(wildcards_.begin(), wildcards_.end(), same)) return;
  wildcards_.emplace_back(pattern, target);
  std::stable_sort(wildcards_.begin(), wildcards_.end(), [](const auto& a, const auto& b) {
    return hostSpecificity(a.first) > hostSpecificity(b.first);
  });
}

std::optional<size_t> SniTable::find(std::string_view serverName) const {
  if (const auto found = exact_.find(std::string(serverName)); found != exact_.end())
    return found->second;
  for (const auto& [pattern, target] : wildcards_)
    if (hostMatches(pattern, serverName)) return target;
  return std::nullopt;
}

}  // namespace meshgate::dp
