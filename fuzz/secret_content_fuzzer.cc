// Fuzzes what the proxy parses out of a Secret for authentication: a JWKS
// (dataplane/auth/jwk_set.h), an API-key mapping (dataplane/auth/api_key_set.h) and the strict
// JSON parser under the JWKS (dataplane/auth/strict_json.h), from the same input. Invariants:
// nothing throws or crashes; a parsed JWKS has at least one key, each with an EVP key and a kid
// that find() returns; a parsed API-key set is not empty, and an error message never contains a
// key: no mapping value of 16 visible characters or more, as YAML itself reads the input (a line
// that merely looks like "name: key" may be a name — `&a: x` is the anchor "a:" on the name x —
// and names may be quoted in messages, so a value that is part of a name is not checked).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "dataplane/auth/api_key_set.h"
#include "dataplane/auth/jwk_set.h"
#include "dataplane/auth/strict_json.h"
#include "fuzz/fuzz_check.h"

namespace {

// The scalar values of a top-level YAML mapping that do not occur in one of its names as an error
// quotes it ("name", quotes included: a name is no secret): what ApiKeySet reads as keys. Empty
// when the input is not such a mapping.
std::vector<std::string> mappingValues(std::string_view text) {
  std::vector<std::string> values;
  std::set<std::string> names;
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap()) return values;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const YAML::detail::iterator_value pair = *it;  // a copy: the iterator's pair is temporary
      if (pair.first.IsScalar()) names.insert(pair.first.Scalar());
      if (pair.second.IsScalar()) values.push_back(pair.second.Scalar());
    }
  } catch (const std::exception&) {
    return {};
  }
  std::erase_if(values, [&](const std::string& value) {
    for (const std::string& name : names)
      if (('"' + name + '"').find(value) != std::string::npos) return true;
    return false;
  });
  return values;
}

}  // namespace

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
    for (const std::string& key : mappingValues(text)) {
      bool visible = key.size() >= 16;
      for (const char c : key)
        if (c < 0x21 || c > 0x7e) visible = false;
      if (visible) FUZZ_CHECK(apiKeys.error().find(key) == std::string::npos);
    }
  }
  return 0;
}
