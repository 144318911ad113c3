// SO_ORIGINAL_DST and IP6T_SO_ORIGINAL_DST.
#include "dataplane/proxy/original_destination.h"

#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace meshgate::dp {

std::optional<boost::asio::ip::tcp::endpoint> netfilterOriginalDestination(
    boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  const auto local = socket.local_endpoint(ec);
  if (ec) return std::nullopt;
  boost::asio::ip::tcp::endpoint original;
  socklen_t length = static_cast<socklen_t>(original.capacity());
  const bool v6 = local.address().is_v6() && !local.address().to_v6().is_v4_mapped();
  const int rc =
      v6 ? ::getsockopt(socket.native_handle(), SOL_IPV6, IP6T_SO_ORIGINAL_DST, original.data(),
                        &length)
         : ::getsockopt(socket.native_handle(), SOL_IP, SO_ORIGINAL_DST, original.data(), &length);
  if (rc != 0) return std::nullopt;
  original.resize(length);
  if (original == local) return std::nullopt;
  return original;
}

}  // namespace meshgate::dp
