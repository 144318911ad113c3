// base64url without padding (RFC 4648 §5), the encoding of every part of a compact JWS and of JWK
// key parameters. Used by the JWT verifier and the JWK set parser.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace meshgate::auth {

std::string base64UrlEncode(std::string_view bytes);

// Canonical decoding only, so that one byte string has exactly one accepted text: rejects '='
// padding, any character outside the alphabet (whitespace too), a length of 1 modulo 4 and
// non-zero unused trailing bits. Without the last rule a mutated signature could still verify.
std::optional<std::string> base64UrlDecode(std::string_view text);

}  // namespace meshgate::auth
