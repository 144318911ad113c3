// Snapshot versions; see built_snapshot.h.
#include "operator/built_snapshot.h"

#include "api/proxy_config_codec.h"
#include "base/sha256.h"

namespace meshgate::op {

namespace {
constexpr std::size_t kVersionHexDigits = 16;
}  // namespace

std::int64_t objectGeneration(const nlohmann::json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return 0;
  const auto generation = metadata->find("generation");
  return generation != metadata->end() && generation->is_number_integer()
             ? generation->get<std::int64_t>()
             : 0;
}

void sealSnapshot(BuiltSnapshot& snapshot) {
  // The config without its version, and what it was built from.
  snapshot.config.version.clear();
  std::string digestInput = api::encodeProxyConfig(snapshot.config).dump();
  for (const auto& [object, generation] : snapshot.contents.generations)
    digestInput += "\n" + object + "=" + std::to_string(generation);
  snapshot.version = sha256Hex(digestInput, kVersionHexDigits);
  snapshot.config.version = snapshot.version;
}

}  // namespace meshgate::op
