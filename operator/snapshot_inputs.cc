// Status-only updates are not snapshot changes; see snapshot_inputs.h.
#include "operator/snapshot_inputs.h"

namespace meshgate::op {

namespace {

using nlohmann::json;

// Whether `a` and `b` are equal once `ignored` members are left out (neither may be missing one
// the other has, outside `ignored`).
bool equalExcept(const json& a, const json& b, std::initializer_list<const char*> ignored) {
  if (!a.is_object() || !b.is_object()) return a == b;
  auto skipped = [&](const std::string& key) {
    for (const char* name : ignored)
      if (key == name) return true;
    return false;
  };
  std::size_t compared = 0;
  for (const auto& [key, value] : a.items()) {
    if (skipped(key)) continue;
    const auto other = b.find(key);
    if (other == b.end() || *other != value) return false;
    compared++;
  }
  std::size_t present = 0;
  for (const auto& [key, value] : b.items())
    if (!skipped(key)) present++;
  return compared == present;
}

}  // namespace

bool changesSnapshots(const json& before, const json& after) {
  if (!before.is_object() || !after.is_object()) return before != after;
  if (!equalExcept(before, after, {"status", "metadata"})) return true;
  const auto metaBefore = before.find("metadata");
  const auto metaAfter = after.find("metadata");
  if ((metaBefore == before.end()) != (metaAfter == after.end())) return true;
  if (metaBefore == before.end()) return false;
  return !equalExcept(*metaBefore, *metaAfter, {"resourceVersion", "managedFields"});
}

}  // namespace meshgate::op
