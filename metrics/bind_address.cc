// host:port splitting and validation for listen addresses.
#include "metrics/bind_address.h"

#include <charconv>

namespace metrics {

meshgate::Expected<boost::asio::ip::tcp::endpoint, std::string> parseBindAddress(
    std::string_view address) {
  const std::string quoted = "bind address '" + std::string(address) + "'";
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return quoted + ": want host:port";
  std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);

  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return quoted + ": port must be a number from 0 to 65535";
  }

  if (host.starts_with('[')) {
    if (!host.ends_with(']')) return quoted + ": unterminated '['";
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return quoted + ": an IPv6 host must be in brackets, as [::1]:8080";
  }
  if (host.empty()) host = "0.0.0.0";

  boost::system::error_code parseError;
  const auto ip = boost::asio::ip::make_address(std::string(host), parseError);
  if (parseError) return quoted + ": host must be an IP address";
  return boost::asio::ip::tcp::endpoint(ip, static_cast<unsigned short>(value));
}

}  // namespace metrics
