// Apply-if-changed: whether a live object already holds what a desired (server-side apply)
// object says — the check that keeps the operator at zero writes when nothing changed.
// Two tests together:
//  - the live object carries the hash of the last desired state we applied (an annotation), so a
//    field we *stopped* setting is noticed (SSA removes it only if we apply again);
//  - every field we set is present in the live object with an equal value (desired ⊆ live), so
//    drift made by someone else is noticed. The live object carries more than we asked for
//    (defaults, other managers' fields, status), hence a subset test, lists compared in order.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace meshgate::op {

inline constexpr const char* kAppliedHashAnnotation = "meshgate.io/applied-hash";

bool isSubsetOf(const nlohmann::json& desired, const nlohmann::json& live);

// Adds metadata.annotations[kAppliedHashAnnotation] = hash of `desired` as it is now.
void stampAppliedHash(nlohmann::json& desired);

// True when `live` (may be null: absent) does not yet hold the stamped `desired`.
bool needsApply(const nlohmann::json& stampedDesired, const nlohmann::json* live);

}  // namespace meshgate::op
