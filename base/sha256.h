// The leading hex digits of a SHA-256 digest: short, stable names for content (the proxy's
// default config version, the operator's gateway snapshot versions).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace meshgate {

// The first `hexDigits` (at most 64) lower-case hex digits of SHA-256(text).
std::string sha256Hex(std::string_view text, std::size_t hexDigits);

}  // namespace meshgate
