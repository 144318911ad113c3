// Fuzzes what the proxy parses out of a Secret for authentication: a JWKS
// (dataplane/auth/jwk_set.h), an API-key mapping (dataplane/auth/api_key_set.h) and the strict
// JSON parser under the JWKS (dataplane/auth/strict_json.h), from the same input. Invariants:
// nothing throws or crashes; a parsed JWKS has at least one key, each with an EVP key and a kid
// that find() returns; a parsed API-key set is not empty, and an error message never contains a
// line of the input that could be a key (16 visible characters or more).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/auth/api_key_set.h"
#include "dataplane/auth/jwk_set.h"
#include "dataplane/auth/strict_json.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshgate::auth;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  (void)parseStrictJson(text);

  const auto jwks = JwkSet::parse(text);
  if (jwks.ok()) {
    FUZZ_CHECK(!jwks.value()->keys().empty());
    for (const Jwk& key : jwks.value()->keys()) {
      FUZZ_CHECK(key.key != nullptr);
      if (!key.kid.empty()) FUZZ_CHECK(jwks.value()->find(key.kid) == &key);
    }
  }

  const auto apiKeys = ApiKeySet::parse(text);
  if (apiKeys.ok()) {
    FUZZ_CHECK(apiKeys.value()->size() > 0);
  } else {
    // No run of 16+ visible characters that is not also in the message's own vocabulary may
    // leak: check the values after "name: " on each line.
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      const std::string_view line = text.substr(start, end - start);
      const size_t colon = line.find(": ");
      if (colon != std::string_view::npos) {
        const std::string_view value = line.substr(colon + 2);
        bool visible = value.size() >= 16;
        for (const char c : value)
          if (c < 0x21 || c > 0x7e) visible = false;
        if (visible) FUZZ_CHECK(apiKeys.error().find(value) == std::string::npos);
      }
      start = end + 1;
    }
  }
  return 0;
}
