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
// The spec is valid and (ApiRoute) its namespace may claim its hosts, no older route holds them.
inline constexpr std::string_view kAccepted = "Accepted";
// Every object the spec names exists (MeshService backends, auth Secrets).
inline constexpr std::string_view kResolvedRefs = "ResolvedRefs";
// MeshService: the identity Secret holds a valid certificate for its SPIFFE ID.
inline constexpr std::string_view kCertificateReady = "CertificateReady";
// The children are applied and every connected proxy that carries the object serves its
// generation.
inline constexpr std::string_view kProgrammed = "Programmed";
// The sum of the others: the object is served (ApiRoute) or has ready endpoints (MeshService).
inline constexpr std::string_view kReady = "Ready";
}  // namespace condition_type

// Every reason meshgate writes, grouped by the condition type that carries it. Ready repeats the
// reason of the condition that keeps it False (Invalid, NothingToServe, Pending, Refused, …).
namespace condition_reason {
// Accepted=True.
inline constexpr std::string_view kAccepted = "Accepted";
// Accepted=False: an older ApiRoute holds some of this route's (host, match) claims.
inline constexpr std::string_view kConflicted = "Conflicted";
// Accepted=False and Ready=False: the spec does not validate.
inline constexpr std::string_view kInvalid = "Invalid";
// Accepted=False: the namespace's meshgate.io/allowed-hosts denies some of the route's hosts.
inline constexpr std::string_view kNotAllowed = "NotAllowed";

// ResolvedRefs=True.
inline constexpr std::string_view kResolvedRefs = "ResolvedRefs";
// ResolvedRefs=False: a backend names no MeshService port (its rules are left out).
inline constexpr std::string_view kBackendNotFound = "BackendNotFound";
// ResolvedRefs=False: a Secret (or key) the route's auth names is missing (its rules answer 503).
inline constexpr std::string_view kSecretNotFound = "SecretNotFound";

// CertificateReady=True: the identity Secret holds a certificate valid until its notAfter.
inline constexpr std::string_view kIssued = "Issued";
// CertificateReady=False: the certificate could not be issued or its Secret not written.
inline constexpr std::string_view kIssueFailed = "IssueFailed";

// Programmed=True: every connected proxy that carries the object serves its generation.
inline constexpr std::string_view kProgrammed = "Programmed";
// Programmed=False: some proxies that carry the object do not serve its generation yet.
inline constexpr std::string_view kPending = "Pending";
// Programmed=False: a proxy refused the config holding the object (the message is its error).
inline constexpr std::string_view kRefused = "Refused";
// Programmed=False: no connected proxy carries the object (a MeshService stays Ready on its
// endpoints all the same).
inline constexpr std::string_view kNoDataplane = "NoDataplane";
// Programmed=False: applying or deleting a child (Service, EndpointSlice, Ingress) failed.
inline constexpr std::string_view kApplyFailed = "ApplyFailed";
// Programmed=False and Ready=False: no host, match and backend of the ApiRoute is left to serve.
inline constexpr std::string_view kNothingToServe = "NothingToServe";

// Ready=True.
inline constexpr std::string_view kReady = "Ready";
// Ready=False: a child could not be applied (Programmed=False, ApplyFailed).
inline constexpr std::string_view kNotProgrammed = "NotProgrammed";
// Ready=False: the certificate the object needs could not be issued.
inline constexpr std::string_view kCertificateNotReady = "CertificateNotReady";
// Ready=False: a MeshService has no ready endpoint (static or matching its selector).
inline constexpr std::string_view kNoReadyEndpoints = "NoReadyEndpoints";
}  // namespace condition_reason

}  // namespace meshgate::api
