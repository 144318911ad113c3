// host:port splitting and validation for listen addresses.
#include "metrics/bind_address.h"

#include <charconv>
#include <sstream>

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

meshgate::Expected<boost::asio::ip::tcp::endpoint, std::string> listenOn(
    boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::ip::tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  const char* step = "open";
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    // Lets a restarted pod bind again at once while the old socket sits in TIME_WAIT.
    step = "set SO_REUSEADDR";
    acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    step = "bind";
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    step = "listen";
    acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  }
  boost::asio::ip::tcp::endpoint bound;
  if (!ec) {
    step = "read the bound address";
    bound = acceptor.local_endpoint(ec);
  }
  if (ec) {
    std::ostringstream where;
    where << endpoint;
    return std::string(step) + " " + where.str() + ": " + ec.message();
  }
  return bound;
}

}  // namespace metrics
