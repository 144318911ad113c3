// Capture options: parsing and validation; see dataplane/capture/capture_options.h.
#include "dataplane/capture/capture_options.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace meshgate::capture {
namespace {

constexpr int kMaxPort = 65535;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// The comma-separated entries of `text`, trimmed; none for a blank text.
std::vector<std::string_view> entries(std::string_view text) {
  std::vector<std::string_view> out;
  if (trim(text).empty()) return out;
  while (true) {
    const std::size_t comma = text.find(',');
    out.push_back(trim(text.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool isPort(int port) {
  return port >= 1 && port <= kMaxPort;
}

void checkPort(std::string_view name, int port, std::vector<std::string>& errors) {
  if (!isPort(port)) {
    errors.push_back(std::string(name) + ": " + std::to_string(port) + " is not a port (1-65535)");
  }
}

void checkPorts(std::string_view name, const std::vector<int>& ports,
                std::vector<std::string>& errors) {
  for (std::size_t i = 0; i < ports.size(); ++i) {
    checkPort(std::string(name) + "[" + std::to_string(i) + "]", ports[i], errors);
  }
}

// One IPv4 CIDR in the form iptables-save prints ("10.0.0.0/8"; an address alone is a /32) into
// `cidr`, else false with `error` saying why.
bool normalizeCidr(std::string_view text, std::string& cidr, std::string& error) {
  const std::string entry(trim(text));
  const std::size_t slash = entry.find('/');
  const std::string address = entry.substr(0, slash);
  int prefix = 32;
  if (slash != std::string::npos) {
    const std::string_view length = std::string_view(entry).substr(slash + 1);
    const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), prefix);
    if (length.empty() || ec != std::errc() || end != length.data() + length.size() || prefix < 0 ||
        prefix > 32) {
      error = "\"" + entry + "\": the prefix length must be a number from 0 to 32";
      return false;
    }
  }
  in_addr parsed{};
  if (::inet_pton(AF_INET, address.c_str(), &parsed) != 1) {
    if (address.find(':') != std::string::npos) {
      error = "\"" + entry + "\" is IPv6; capture is IPv4 only";
      return false;
    }
    error = "\"" + entry + "\" is not an IPv4 address or CIDR (e.g. 10.0.0.0/8)";
    return false;
  }
  const std::uint32_t host = ntohl(parsed.s_addr);
  const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  if ((host & ~mask) != 0) {
    in_addr network{};
    network.s_addr = htonl(host & mask);
    char buffer[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &network, buffer, sizeof buffer);
    error = "\"" + entry + "\" has host bits set; the network is " + buffer + "/" +
            std::to_string(prefix);
    return false;
  }
  // inet_pton accepts only the dotted-quad form, which is already canonical.
  cidr = address + "/" + std::to_string(prefix);
  return true;
}

}  // namespace

std::vector<std::string> validateCaptureOptions(const CaptureOptions& options) {
  std::vector<std::string> errors;
  // 0 would exempt every root process of the pod from capture, the application's included.
  if (options.proxyUid == 0) errors.push_back("proxyUid: must not be 0 (root)");
  if (options.proxyGid == 0) errors.push_back("proxyGid: must not be 0 (root)");
  checkPort("inboundPort", options.inboundPort, errors);
  checkPort("outboundPort", options.outboundPort, errors);
  if (isPort(options.inboundPort) && options.inboundPort == options.outboundPort) {
    errors.push_back("outboundPort: " + std::to_string(options.outboundPort) +
                     " is also the inbound port; the two listeners need their own ports");
  }
  for (const int port : {options.inboundPort, options.outboundPort}) {
    if (port == kProxyAdminPort) {
      errors.push_back(std::to_string(port) +
                       " is the proxy's admin port and cannot receive captured traffic");
    }
  }
  checkPorts("excludeInboundPorts", options.excludeInboundPorts, errors);
  checkPorts("excludeOutboundPorts", options.excludeOutboundPorts, errors);
  for (std::size_t i = 0; i < options.excludeOutboundCidrs.size(); ++i) {
    std::string cidr;
    std::string error;
    if (!normalizeCidr(options.excludeOutboundCidrs[i], cidr, error)) {
      errors.push_back("excludeOutboundCidrs[" + std::to_string(i) + "]: " + error);
    } else if (cidr != options.excludeOutboundCidrs[i]) {
      // The rules are compared with iptables-save's output, which prints the normalized form.
      errors.push_back("excludeOutboundCidrs[" + std::to_string(i) + "]: \"" +
                       options.excludeOutboundCidrs[i] + "\" must be written " + cidr);
    }
  }
  return errors;
}

std::vector<int> inboundExemptPorts(const CaptureOptions& options) {
  std::vector<int> out;
  auto add = [&out](int port) {
    if (std::find(out.begin(), out.end(), port) == out.end()) out.push_back(port);
  };
  add(kProxyAdminPort);
  add(options.inboundPort);
  add(options.outboundPort);
  for (const int port : options.excludeInboundPorts)
    add(port);
  return out;
}

Expected<std::vector<int>, std::string> parsePortList(std::string_view text) {
  std::vector<int> ports;
  for (const std::string_view entry : entries(text)) {
    int port = 0;
    const auto [end, ec] = std::from_chars(entry.data(), entry.data() + entry.size(), port);
    if (entry.empty()) return std::string("empty entry in port list \"") + std::string(text) + "\"";
    if (ec != std::errc() || end != entry.data() + entry.size() || !isPort(port)) {
      return "\"" + std::string(entry) + "\" is not a port (1-65535)";
    }
    ports.push_back(port);
  }
  return ports;
}

Expected<std::vector<std::string>, std::string> parseCidrList(std::string_view text) {
  std::vector<std::string> cidrs;
  for (const std::string_view entry : entries(text)) {
    if (entry.empty()) {
      return std::string("empty entry in CIDR list \"") + std::string(text) + "\"";
    }
    std::string cidr;
    std::string error;
    if (!normalizeCidr(entry, cidr, error)) return error;
    cidrs.push_back(std::move(cidr));
  }
  return cidrs;
}

std::string joinPorts(const std::vector<int>& ports) {
  std::string out;
  for (const int port : ports) {
    if (!out.empty()) out += ',';
    out += std::to_string(port);
  }
  return out;
}

}  // namespace meshgate::capture
