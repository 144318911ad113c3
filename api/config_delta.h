// Config deltas: what the config stream sends a proxy that already holds an earlier version, so
// that a one-route edit among 1,000 routes costs a few hundred bytes per proxy instead of the
// whole snapshot. The operator diffs configs it keeps split into their top-level members and
// array elements (SplitConfig); the proxy applies the Delta to the config it received last.
// Both are pure and exact: applying the delta of A → B to A gives B, member for member and
// element for element, in order — so the version (a digest of B) stays true.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/config_stream_protocol.h"
#include "base/expected.h"

namespace meshgate::api::stream {

// A config as the operator keeps it for diffing: every top-level array of objects serialized one
// element at a time, every other top-level member serialized whole. Elements equal to one of the
// config it was split after share that one's string, so a history of versions that differ in a
// few routes costs little more than one version.
struct SplitConfig {
  std::map<std::string, std::string> members;  // member name → JSON text
  std::map<std::string, std::vector<std::shared_ptr<const std::string>>> arrays;
};

// `config` must be a JSON object. `previous` (may be null) lends its equal elements.
SplitConfig splitConfig(const nlohmann::json& config, const SplitConfig* previous = nullptr);

// The config's JSON text: exactly what nlohmann::json::dump() gives for the config split.
std::string joinConfig(const SplitConfig& config);

// The Delta frame that takes a proxy holding `base` (of version `baseVersion`) to `target` (of
// `version`); see api::stream::Delta for its form.
std::string encodeDeltaFrame(std::string_view version, std::string_view baseVersion,
                             const SplitConfig& base, const SplitConfig& target);

// The config of delta.version, from the config of delta.base; an error when the delta does not
// fit `baseConfig` (a run past the end of an array, a patch of a member that is not an array).
Expected<nlohmann::json, std::string> applyDelta(const nlohmann::json& baseConfig,
                                                 const Delta& delta);

}  // namespace meshgate::api::stream
