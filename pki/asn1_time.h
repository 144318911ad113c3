// Conversions between X.509 validity times (ASN1_TIME, whole seconds, UTC) and
// std::chrono::system_clock, plus the RFC 3339 text pki/ uses in messages. Used by the
// certificate accessors, the issuer and the renewal policy. Internal to pki/.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <openssl/asn1.h>

namespace pki {

using TimePoint = std::chrono::system_clock::time_point;

// nullopt when the ASN1_TIME is malformed.
std::optional<TimePoint> fromAsn1Time(const ASN1_TIME* time);

// Writes t (truncated to whole seconds) into `out`; UTCTime before 2050, GeneralizedTime after,
// as RFC 5280 requires. False when t is outside what X.509 can express.
bool setAsn1Time(ASN1_TIME* out, TimePoint t);

// "2030-01-01T00:00:00Z".
std::string formatTime(TimePoint t);

}  // namespace pki
