// SniTable: a listener's TLS passthrough routes (listeners[].tlsPassthrough) by server name, as a
// ClientHello's SNI looks them up: an exact name first, then the wildcard ("*.suffix", one or more
// labels below it) with the longest suffix — the rules of route hosts (router/host_match.h).
// Built with the Snapshot; read-only after.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace meshgate::dp {

class SniTable {
 public:
  // `pattern`: a lower-case name or "*.suffix"; `target`: an index in Snapshot::tcpTargets().
  // The first target added for a pattern keeps it.
  void add(const std::string& pattern, size_t target);

  // `serverName`: lower-case, no trailing dot (what parseClientHello gives).
  std::optional<size_t> find(std::string_view serverName) const;

  bool empty() const { return exact_.empty() && wildcards_.empty(); }

 private:
  std::unordered_map<std::string, size_t> exact_;
  std::vector<std::pair<std::string, size_t>> wildcards_;  // most specific first
};

}  // namespace meshgate::dp
