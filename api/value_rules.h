// The shared value rules of docs/API.md ("Shared value rules" table): DNS labels and subdomains,
// hosts, header and cookie names, ports, IP addresses, label maps, durations, enums and list/string
// limits. Each rule has a predicate and a validateX() that appends the contract's exact error;
// the MeshService and ApiRoute validators are written in terms of these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/duration.h"
#include "api/field_error.h"
#include "api/field_path.h"

namespace meshgate::api {

// Detail parts of the contract's messages.
inline constexpr std::string_view kDurationMessage =
    "must be a duration like 500ms, 10s or 1m30s (units h, m, s, ms)";
inline constexpr std::string_view kPositiveDurationMessage = "must be greater than 0";
inline constexpr std::string_view kDnsLabelMessage =
    "must be a lowercase RFC 1123 label (a-z, 0-9, '-', starting and ending with an alphanumeric), "
    "at most 63 characters";
inline constexpr std::string_view kDnsSubdomainMessage =
    "must be a lowercase RFC 1123 subdomain, at most 253 characters";
inline constexpr std::string_view kHostMessage =
    "must be a lowercase RFC 1123 hostname, optionally prefixed by \"*.\" (a wildcard is only "
    "allowed as the leftmost label)";
inline constexpr std::string_view kHeaderNameMessage =
    "must be a valid HTTP header name (RFC 7230 token)";
inline constexpr std::string_view kCookieNameMessage = "must be a valid cookie name";
inline constexpr std::string_view kIpAddressMessage = "must be a valid IPv4 or IPv6 address";
inline constexpr std::string_view kLabelKeyMessage = "must be a valid label key";
inline constexpr std::string_view kLabelValueMessage = "must be a valid label value";
// A query parameter's name (matches, an API key's queryParam): 1..256 characters.
inline constexpr std::size_t kMaxQueryParamNameLength = 256;

inline constexpr std::size_t kMaxDnsLabelLength = 63;
inline constexpr std::size_t kMaxDnsSubdomainLength = 253;
inline constexpr std::size_t kMaxHeaderNameLength = 256;
inline constexpr std::size_t kMaxLabelNameLength = 63;

// The nine methods of the contract's "HTTP method" rule, in its order.
const std::vector<std::string>& httpMethods();

bool isDnsLabel(std::string_view value);
bool isDnsSubdomain(std::string_view value);
bool isHost(std::string_view value);
bool isHeaderName(std::string_view value);
bool isCookieName(std::string_view value);
bool isIpAddress(std::string_view value);
bool isLabelKey(std::string_view value);
bool isLabelValue(std::string_view value);
bool isHttpMethod(std::string_view value);

// Each appends `<path>: Invalid value: "<value>": <rule message>` when the rule is broken.
void validateDnsLabel(std::string_view value, const FieldPath& path, ErrorList& errors);
void validateDnsSubdomain(std::string_view value, const FieldPath& path, ErrorList& errors);
void validateHost(std::string_view value, const FieldPath& path, ErrorList& errors);
void validateHeaderName(std::string_view value, const FieldPath& path, ErrorList& errors);
void validateIpAddress(std::string_view value, const FieldPath& path, ErrorList& errors);

// `must be between <min> and <max>, inclusive`.
void validateRange(std::int64_t value, std::int64_t min, std::int64_t max, const FieldPath& path,
                   ErrorList& errors);
void validatePort(std::int64_t value, const FieldPath& path, ErrorList& errors);

// Key errors name the map (`spec.selector: Invalid value: "-app": must be a valid label key`),
// value errors the entry (`spec.selector[app]: Invalid value: "a b": must be a valid label value`).
void validateLabelMap(const std::map<std::string, std::string>& labels, const FieldPath& path,
                      ErrorList& errors);

// Unsupported value unless `value` is one of `supported`.
void validateEnum(std::string_view value, const std::vector<std::string>& supported,
                  const FieldPath& path, ErrorList& errors);

// Return the parsed duration, or nullopt after appending the error.
std::optional<Duration> validateDuration(std::string_view value, const FieldPath& path,
                                         ErrorList& errors);
std::optional<Duration> validatePositiveDuration(std::string_view value, const FieldPath& path,
                                                 ErrorList& errors);

// `Required value` when empty; returns whether `value` is non-empty.
bool validateRequired(std::string_view value, const FieldPath& path, ErrorList& errors);
// `Too long: may not be more than <max> bytes`; returns whether `value` fits.
bool validateMaxLength(std::string_view value, std::size_t max, const FieldPath& path,
                       ErrorList& errors);
// `Too many: <n>: must have at most <max> items`.
void validateMaxItems(std::size_t count, std::size_t max, const FieldPath& path, ErrorList& errors);

}  // namespace meshgate::api
