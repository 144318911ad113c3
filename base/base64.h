// Standard base64 (RFC 4648, with padding), as Kubernetes uses for Secret data and kubeconfig
// *-data fields.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace meshgate {

std::string base64Encode(std::string_view bytes);
// Whitespace is ignored; std::nullopt when the text is not valid base64.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace meshgate
