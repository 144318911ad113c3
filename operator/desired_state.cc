// Subset comparison and desired-state hashing for apply-if-changed.
#include "operator/desired_state.h"

#include <openssl/evp.h>

namespace meshgate::op {

namespace {
bool isEmptyValue(const nlohmann::json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>().empty();
  return (value.is_object() || value.is_array()) && value.empty();
}

std::string sha256Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  // 16 bytes are plenty to tell two desired states apart.
  for (unsigned int i = 0; i < std::min(length, 16u); i++) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}
}  // namespace

bool isSubsetOf(const nlohmann::json& desired, const nlohmann::json& live) {
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (auto it = desired.begin(); it != desired.end(); ++it) {
      auto found = live.find(it.key());
      if (found == live.end()) {
        // The server omits empty values: asking for one is the same intent.
        if (isEmptyValue(*it)) continue;
        return false;
      }
      if (!isSubsetOf(*it, *found)) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (size_t i = 0; i < desired.size(); i++) {
      if (!isSubsetOf(desired[i], live[i])) return false;
    }
    return true;
  }
  if (desired.is_number() && live.is_number()) {
    return desired.get<double>() == live.get<double>();
  }
  return desired == live;
}

void stampAppliedHash(nlohmann::json& desired) {
  auto& metadata = desired["metadata"];
  if (metadata.contains("annotations")) {
    metadata["annotations"].erase(kAppliedHashAnnotation);
    if (metadata["annotations"].empty()) metadata.erase("annotations");
  }
  // nlohmann's dump orders object keys, so equal intents hash equally.
  desired["metadata"]["annotations"][kAppliedHashAnnotation] = sha256Hex(desired.dump());
}

bool needsApply(const nlohmann::json& stampedDesired, const nlohmann::json* live) {
  if (live == nullptr) return true;
  const auto& wantedHash = stampedDesired["metadata"]["annotations"][kAppliedHashAnnotation];
  const auto metadata = live->find("metadata");
  if (metadata == live->end()) return true;
  const auto annotations = metadata->find("annotations");
  if (annotations == metadata->end()) return true;
  const auto liveHash = annotations->find(kAppliedHashAnnotation);
  if (liveHash == annotations->end() || *liveHash != wantedHash) return true;
  return !isSubsetOf(stampedDesired, *live);
}

}  // namespace meshgate::op
