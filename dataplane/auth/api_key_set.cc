// ApiKeySet: parsing of a Secret's API-key mapping and constant-time lookup by SHA-256 digest.
#include "dataplane/auth/api_key_set.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <exception>
#include <unordered_map>
#include <utility>

namespace meshgate::auth {
namespace {

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool validName(std::string_view name) {
  if (name.empty() || name.size() > ApiKeySet::kMaxNameLength) return false;
  for (const char c : name)
    if (!isNameChar(c)) return false;
  return true;
}

bool validKey(std::string_view key) {
  if (key.size() < ApiKeySet::kMinKeyLength || key.size() > ApiKeySet::kMaxKeyLength) return false;
  for (const char c : key)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

// yaml-cpp marks are 0-based and -1 when unknown.
std::string lineOf(const YAML::Mark& mark) {
  return mark.line >= 0 ? " (line " + std::to_string(mark.line + 1) + ")" : std::string();
}

// How an error names an entry: by its name once the name is known to be valid, else by its
// 1-based position in the mapping. Never by anything taken from the key.
std::string entryLabel(std::size_t index, const YAML::Node& nameNode) {
  return "entry " + std::to_string(index + 1) + lineOf(nameNode.Mark());
}

std::string entryLabel(const std::string& name) {
  return "entry \"" + name + "\"";
}

}  // namespace

ApiKeySet::Digest ApiKeySet::digestOf(std::string_view key) {
  Digest digest{};
  unsigned int length = 0;
  // EVP_Digest with SHA-256 fails only when the library cannot allocate; an all-zero digest then
  // matches nothing a real key hashes to.
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the implementation up (locks, name compares)
  // on every call, which cost more than the hash itself for a short key.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (sha256 == nullptr ||
      EVP_Digest(key.data(), key.size(), digest.data(), &length, sha256, nullptr) != 1 ||
      length != digest.size()) {
    digest.fill(0);
  }
  return digest;
}

std::uint64_t ApiKeySet::prefixOf(const Digest& digest) {
  std::uint64_t prefix = 0;
  std::memcpy(&prefix, digest.data(), sizeof(prefix));
  return prefix;
}

Expected<std::shared_ptr<const ApiKeySet>, std::string> ApiKeySet::parse(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    // yaml-cpp's messages can quote a character of the input (an unknown escape, for one), which
    // may be part of a key: only the position is reported.
    return std::string("API keys are not valid YAML") + lineOf(e.mark);
  } catch (const std::exception&) {
    return std::string("API keys are not valid YAML");
  }
  if (!root.IsDefined() || root.IsNull()) return std::string("API keys: the value is empty");
  if (!root.IsMap()) return std::string("API keys must be a mapping of key name to key");
  if (root.size() == 0) return std::string("API keys: the mapping is empty");

  std::shared_ptr<ApiKeySet> set(new ApiKeySet());
  std::unordered_map<std::string, std::size_t> indexByName;
  std::size_t index = 0;
  try {
    for (auto it = root.begin(); it != root.end(); ++it, ++index) {
      // Copies: the iterator hands out a temporary pair, so references into it would dangle.
      const YAML::detail::iterator_value pair = *it;
      const YAML::Node nameNode = pair.first;
      const YAML::Node keyNode = pair.second;
      if (!nameNode.IsScalar() || !validName(nameNode.Scalar())) {
        return entryLabel(index, nameNode) + ": the name must be 1 to " +
               std::to_string(kMaxNameLength) + " characters of [A-Za-z0-9._-]";
      }
      const std::string& name = nameNode.Scalar();
      if (!keyNode.IsScalar() || !validKey(keyNode.Scalar())) {
        return entryLabel(name) + ": the key must be " + std::to_string(kMinKeyLength) + " to " +
               std::to_string(kMaxKeyLength) + " characters of visible ASCII";
      }
      if (!indexByName.emplace(name, set->entries_.size()).second) {
        return entryLabel(name) + ": the name appears more than once";
      }
      Entry entry{name, digestOf(keyNode.Scalar())};
      const std::uint64_t prefix = prefixOf(entry.digest);
      const auto [first, last] = set->byPrefix_.equal_range(prefix);
      for (auto same = first; same != last; ++same) {
        const Entry& other = set->entries_[same->second];
        if (other.digest == entry.digest) {
          return entryLabel(name) + ": has the same key as entry \"" + other.name + "\"";
        }
      }
      set->byPrefix_.emplace(prefix, set->entries_.size());
      set->entries_.push_back(std::move(entry));
    }
  } catch (const YAML::Exception& e) {
    return "API keys: entry " + std::to_string(index + 1) + lineOf(e.mark) + " cannot be read";
  }
  return std::shared_ptr<const ApiKeySet>(std::move(set));
}

std::optional<std::string_view> ApiKeySet::lookup(std::string_view presented) const {
  // The length bounds are public (they are in this header), so rejecting on them leaks nothing.
  if (presented.size() < kMinKeyLength || presented.size() > kMaxKeyLength) return std::nullopt;
  const Digest digest = digestOf(presented);
  // Which bucket the prefix falls in depends only on the digest of what the client sent, which the
  // client cannot steer towards a stored digest; the full comparison is constant-time.
  const auto [first, last] = byPrefix_.equal_range(prefixOf(digest));
  for (auto it = first; it != last; ++it) {
    const Entry& entry = entries_[it->second];
    if (CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0) return entry.name;
  }
  return std::nullopt;
}

}  // namespace meshgate::auth
