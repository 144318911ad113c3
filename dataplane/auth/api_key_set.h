// ApiKeySet: the API keys of one Secret value, which the gateway's API-key authentication checks
// a presented key against. The value is a YAML mapping of key name to key:
//   mobile-app: 9f2c0d7e1b4a4c55a8e3
//   partner-acme: 77c1e0f5c2d94b0f9d1a
// Only SHA-256 digests of the keys are kept, never the key text. A set is parsed on the main
// thread when its Secret changes and then only read: lookup() is const and safe from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/expected.h"

namespace meshgate::auth {

class ApiKeySet {
 public:
  static constexpr std::size_t kMaxNameLength = 253;
  static constexpr std::size_t kMinKeyLength = 16;
  static constexpr std::size_t kMaxKeyLength = 4096;

  // Names: 1..253 characters of [A-Za-z0-9._-]; keys: 16..4096 characters of visible ASCII
  // (0x21..0x7e). An empty mapping, a value that is not a mapping, a duplicate name or two names
  // with the same key is an error. Errors name the entry (its name, or its index when the name
  // itself is invalid) and never contain key text.
  static Expected<std::shared_ptr<const ApiKeySet>, std::string> parse(std::string_view text);

  // The name whose key equals `presented`, or nullopt. The view stays valid as long as this set.
  // Hashes `presented`, finds the digest and confirms it with a constant-time comparison.
  std::optional<std::string_view> lookup(std::string_view presented) const;

  std::size_t size() const { return entries_.size(); }

 private:
  using Digest = std::array<std::uint8_t, 32>;

  struct Entry {
    std::string name;
    Digest digest;
  };

  ApiKeySet() = default;

  static Digest digestOf(std::string_view key);
  static std::uint64_t prefixOf(const Digest& digest);

  std::vector<Entry> entries_;
  // The first 64 bits of each digest to its entry's index; a multimap, so that two digests sharing
  // a prefix (never seen in practice) are both compared.
  std::unordered_multimap<std::uint64_t, std::size_t> byPrefix_;
};

}  // namespace meshgate::auth
