// Kubernetes wire formats for time: metav1.Time (RFC 3339, seconds, UTC) and metav1.MicroTime
// (six fractional digits). Used by leader election, events and the operator's status writes.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kube {

// 2026-01-02T03:04:05Z
std::string formatTime(std::chrono::system_clock::time_point t);
// 2026-01-02T03:04:05.123456Z
std::string formatMicroTime(std::chrono::system_clock::time_point t);
// The inverse of both: "2026-01-02T03:04:05Z" or with up to nine fractional digits; UTC ("Z")
// only. nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parseTime(std::string_view text);

}  // namespace kube
