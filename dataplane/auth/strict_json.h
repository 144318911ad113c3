// parseStrictJson: JSON for security decisions (JOSE headers, JWT claims, JWK sets). Where two
// parsers could disagree about a document, this one refuses it: duplicate object keys at any depth
// (RFC 7515 §4 and RFC 7519 §4 require rejecting them), nesting deeper than maxDepth, invalid
// UTF-8, a byte order mark and bytes after the value. Used by the JWT verifier and JwkSet.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/expected.h"

namespace meshgate::auth {

// Errors name the reason and a byte offset; they never quote the input, which may be a secret.
Expected<nlohmann::json, std::string> parseStrictJson(std::string_view text, size_t maxDepth = 32);

}  // namespace meshgate::auth
