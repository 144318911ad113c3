// The nat table that captures a pod's TCP traffic for the meshgate-proxy sidecar, as the input of
// iptables-restore (IPv4). meshgate-init (init_main.cc) installs it in the pod's network namespace
// before the application starts; istio-init and linkerd's proxy-init install the same kind of
// table. Pure: the text only, built from validated CaptureOptions.
//
//   PREROUTING -p tcp → MESHGATE_INBOUND: exempt ports RETURN, else REDIRECT to the inbound port
//   OUTPUT -p tcp     → MESHGATE_OUTPUT: the proxy's uid or gid RETURN (its own connections),
//                       -o lo RETURN (the pod talking to itself), excluded CIDRs and ports RETURN,
//                       else REDIRECT to the outbound port
//
// The whole nat table is restored (no --noflush), so installing it twice leaves the same table.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "dataplane/capture/capture_options.h"

namespace meshgate::capture {

inline constexpr std::string_view kInboundChain = "MESHGATE_INBOUND";
inline constexpr std::string_view kOutputChain = "MESHGATE_OUTPUT";

// The rules, each an "-A CHAIN ..." line exactly as iptables-save prints it back, in the order
// iptables-save prints them (built-in chains first, then ours alphabetically), so that the
// installed table can be checked line by line (installed_rules.h).
std::vector<std::string> captureRuleLines(const CaptureOptions& options);

struct CaptureTable {
  // The iptables-restore input: a comment, "*nat", the chain declarations, the rules, "COMMIT".
  std::string restoreInput;
  // captureRuleLines(), to check the table read back against.
  std::vector<std::string> rules;
};

// The table for `options`; the error lists every problem of validateCaptureOptions(), joined by
// "; ".
Expected<CaptureTable, std::string> buildCaptureTable(const CaptureOptions& options);

}  // namespace meshgate::capture
