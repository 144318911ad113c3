// IP address SANs: textual addresses ("10.0.0.7", "fd00::1") to the 4- or 16-byte form X.509
// stores, and back to one canonical text, so that "fd00:0::1" in a template and "fd00::1" read
// from a certificate compare equal. Used by issuance, the certificate accessors and the renewal
// policy.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pki {

// The 4 (IPv4) or 16 (IPv6) network-order bytes; nullopt when text is not an address.
std::optional<std::string> ipAddressBytes(std::string_view text);

// inet_ntop's text for 4 or 16 bytes; nullopt for any other length.
std::optional<std::string> ipAddressText(std::string_view bytes);

// ipAddressText(ipAddressBytes(text)).
std::optional<std::string> canonicalIpAddress(std::string_view text);

}  // namespace pki
