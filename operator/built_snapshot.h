// BuiltSnapshot: a ProxyConfig the operator built for one kind of proxy (a gateway's ingress
// class, a sidecar's workload identity) with its version and what it was built from. The version
// is a digest of the config and of the generations of its objects (SnapshotContents), so every
// operator replica gives the same content the same version and an object's new generation always
// makes a new version. Used by the config builders and the ConfigPublisher.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "api/proxy_config.h"
#include "operator/dataplane_registry.h"

namespace meshgate::op {

struct BuiltSnapshot {
  api::ProxyConfig config;  // config.version == version
  std::string version;
  // The generations it was built from, and which ApiRoute each config route comes from (to map
  // the routes a proxy refused back to objects).
  SnapshotContents contents;
};

// metadata.generation of a cached object, 0 when it has none.
std::int64_t objectGeneration(const nlohmann::json& object);

// Sets snapshot.version and snapshot.config.version from snapshot.config (its version member
// ignored) and snapshot.contents.generations.
void sealSnapshot(BuiltSnapshot& snapshot);

}  // namespace meshgate::op
