// Kubernetes wire formats for time: metav1.Time (RFC 3339, seconds, UTC) and metav1.MicroTime
// (six fractional digits). Used by leader election, events and the operator's status writes.
#pragma once

#include <chrono>
#include <string>

namespace kube {

// 2026-01-02T03:04:05Z
std::string formatTime(std::chrono::system_clock::time_point t);
// 2026-01-02T03:04:05.123456Z
std::string formatMicroTime(std::chrono::system_clock::time_point t);

}  // namespace kube
