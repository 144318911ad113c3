// The capture nat table; see dataplane/capture/capture_rules.h.
#include "dataplane/capture/capture_rules.h"

namespace meshgate::capture {
namespace {

std::string chainRule(std::string_view chain, std::string_view rule) {
  return "-A " + std::string(chain) + " " + std::string(rule);
}

// "-p tcp -m tcp": the explicit match iptables-save prints for a --dport.
std::string tcpPort(int port) {
  return "-p tcp -m tcp --dport " + std::to_string(port);
}

}  // namespace

std::vector<std::string> captureRuleLines(const CaptureOptions& options) {
  const std::string inbound(kInboundChain);
  const std::string output(kOutputChain);
  std::vector<std::string> rules;
  rules.push_back(chainRule("PREROUTING", "-p tcp -j " + inbound));
  rules.push_back(chainRule("OUTPUT", "-p tcp -j " + output));

  for (const int port : inboundExemptPorts(options))
    rules.push_back(chainRule(inbound, tcpPort(port) + " -j RETURN"));
  rules.push_back(
      chainRule(inbound, "-p tcp -j REDIRECT --to-ports " + std::to_string(options.inboundPort)));

  // The proxy's own connections first: redirecting them would loop back into the proxy.
  rules.push_back(
      chainRule(output, "-m owner --uid-owner " + std::to_string(options.proxyUid) + " -j RETURN"));
  rules.push_back(
      chainRule(output, "-m owner --gid-owner " + std::to_string(options.proxyGid) + " -j RETURN"));
  // Loopback: 127.0.0.0/8 and the pod's own addresses (routed through lo by the local table).
  rules.push_back(chainRule(output, "-o lo -j RETURN"));
  for (const std::string& cidr : options.excludeOutboundCidrs)
    rules.push_back(chainRule(output, "-d " + cidr + " -j RETURN"));
  for (const int port : options.excludeOutboundPorts)
    rules.push_back(chainRule(output, tcpPort(port) + " -j RETURN"));
  rules.push_back(
      chainRule(output, "-p tcp -j REDIRECT --to-ports " + std::to_string(options.outboundPort)));
  return rules;
}

Expected<CaptureTable, std::string> buildCaptureTable(const CaptureOptions& options) {
  const std::vector<std::string> errors = validateCaptureOptions(options);
  if (!errors.empty()) {
    std::string message;
    for (const std::string& error : errors) {
      if (!message.empty()) message += "; ";
      message += error;
    }
    return message;
  }
  CaptureTable table;
  table.rules = captureRuleLines(options);
  std::string& text = table.restoreInput;
  text = "# meshgate-init: transparent TCP capture for the meshgate-proxy sidecar (uid " +
         std::to_string(options.proxyUid) + ", gid " + std::to_string(options.proxyGid) + ")\n";
  text += "*nat\n";
  for (const char* builtin : {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"})
    text += ":" + std::string(builtin) + " ACCEPT [0:0]\n";
  text += ":" + std::string(kInboundChain) + " - [0:0]\n";
  text += ":" + std::string(kOutputChain) + " - [0:0]\n";
  for (const std::string& rule : table.rules)
    text += rule + "\n";
  text += "COMMIT\n";
  return table;
}

}  // namespace meshgate::capture
