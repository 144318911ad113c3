// Condition mirrors Kubernetes metav1.Condition; the status of both kinds carries a list of them
// that the operator maintains (lastTransitionTime changes only when status flips). The type,
// status and reason strings meshgate uses are listed here so controllers share one spelling.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace meshgate::api {

struct Condition {
  std::string type{};
  // "True", "False" or "Unknown".
  std::string status{};
  std::string reason{};
  std::string message{};
  std::int64_t observedGeneration = 0;
  // RFC 3339.
  std::string lastTransitionTime{};

  bool operator==(const Condition&) const = default;
};

namespace condition_status {
inline constexpr std::string_view kTrue = "True";
inline constexpr std::string_view kFalse = "False";
inline constexpr std::string_view kUnknown = "Unknown";
}  // namespace condition_status

namespace condition_type {
inline constexpr std::string_view kAccepted = "Accepted";
inline constexpr std::string_view kResolvedRefs = "ResolvedRefs";
inline constexpr std::string_view kCertificateReady = "CertificateReady";
inline constexpr std::string_view kProgrammed = "Programmed";
inline constexpr std::string_view kReady = "Ready";
}  // namespace condition_type

namespace condition_reason {
inline constexpr std::string_view kAccepted = "Accepted";
inline constexpr std::string_view kConflicted = "Conflicted";
inline constexpr std::string_view kInvalid = "Invalid";
inline constexpr std::string_view kNotAllowed = "NotAllowed";
inline constexpr std::string_view kResolvedRefs = "ResolvedRefs";
inline constexpr std::string_view kBackendNotFound = "BackendNotFound";
inline constexpr std::string_view kSecretNotFound = "SecretNotFound";
}  // namespace condition_reason

}  // namespace meshgate::api
