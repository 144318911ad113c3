#include "pki/ip_address.h"

#include <arpa/inet.h>

namespace pki {

std::optional<std::string> ipAddressBytes(std::string_view text) {
  // inet_pton needs a NUL-terminated string and must not see an embedded NUL as the end.
  if (text.empty() || text.size() > INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string terminated(text);
  unsigned char buf[16];
  if (inet_pton(AF_INET, terminated.c_str(), buf) == 1) {
    return std::string(reinterpret_cast<const char*>(buf), 4);
  }
  if (inet_pton(AF_INET6, terminated.c_str(), buf) == 1) {
    return std::string(reinterpret_cast<const char*>(buf), 16);
  }
  return std::nullopt;
}

std::optional<std::string> ipAddressText(std::string_view bytes) {
  char buf[INET6_ADDRSTRLEN];
  const int family = bytes.size() == 4 ? AF_INET : bytes.size() == 16 ? AF_INET6 : 0;
  if (family == 0 || inet_ntop(family, bytes.data(), buf, sizeof(buf)) == nullptr) {
    return std::nullopt;
  }
  return std::string(buf);
}

std::optional<std::string> canonicalIpAddress(std::string_view text) {
  const auto bytes = ipAddressBytes(text);
  if (!bytes) return std::nullopt;
  return ipAddressText(*bytes);
}

}  // namespace pki
