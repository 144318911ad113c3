// CaptureOptions: what transparent traffic capture redirects to the meshgate-proxy sidecar and
// what it leaves alone — the proxy's uid/gid, its inbound and outbound ports, and the ports and
// address ranges exempted. meshgate-init reads them from its flags; the webhook builds them from
// a pod's annotations with the same parsers, so that it never injects an init container whose
// arguments meshgate-init would refuse. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"

namespace meshgate::capture {

// The sidecar's ports, after Envoy/Istio (webhook/injection/sidecar_injector.h declares the same).
inline constexpr int kProxyAdminPort = 15000;
inline constexpr int kDefaultOutboundPort = 15001;
inline constexpr int kDefaultInboundPort = 15006;
inline constexpr std::uint32_t kDefaultProxyId = 1337;

struct CaptureOptions {
  // Connections the proxy opens itself are never redirected back to it.
  std::uint32_t proxyUid = kDefaultProxyId;
  std::uint32_t proxyGid = kDefaultProxyId;
  // Where inbound TCP (arriving at the pod) and outbound TCP (leaving the pod) are redirected.
  int inboundPort = kDefaultInboundPort;
  int outboundPort = kDefaultOutboundPort;
  // Destination ports reached directly, without the proxy. The admin port and the proxy's own
  // ports are exempted from inbound capture whatever this says (inboundExemptPorts()).
  std::vector<int> excludeInboundPorts;
  std::vector<int> excludeOutboundPorts;
  // IPv4 destinations ("10.0.0.0/8", or an address: a /32) reached directly.
  std::vector<std::string> excludeOutboundCidrs;
};

// Every problem of `options`, each a sentence naming the option ("inboundPort: 0 is not a port
// (1-65535)"); empty when the options are usable.
std::vector<std::string> validateCaptureOptions(const CaptureOptions& options);

// The inbound ports never redirected: 15000 (admin and probes), the inbound and outbound ports,
// then options.excludeInboundPorts, without duplicates, in that order.
std::vector<int> inboundExemptPorts(const CaptureOptions& options);

// "15000,15020" → {15000, 15020}: the grammar of meshgate-init's port flags and of the pod
// annotations that set them. Blanks around entries are allowed; an empty text is an empty list;
// an empty entry, a non-number or a number outside 1-65535 is an error naming it.
Expected<std::vector<int>, std::string> parsePortList(std::string_view text);

// "10.0.0.0/8, 192.168.1.1" → {"10.0.0.0/8", "192.168.1.1/32"}: IPv4 CIDRs, an address alone
// meaning /32. Errors name the entry: not IPv4, a prefix length outside 0-32, or host bits set
// ("10.0.0.1/8": iptables would silently widen it to 10.0.0.0/8).
Expected<std::vector<std::string>, std::string> parseCidrList(std::string_view text);

// The list as the flags take it: "15000,15020".
std::string joinPorts(const std::vector<int>& ports);

}  // namespace meshgate::capture
