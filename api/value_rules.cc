// Shared value rules; see api/value_rules.h. The patterns are the contract's regexes verbatim and
// run in RE2, whose syntax matches the Go regexp the apiserver uses for the CRD schema patterns,
// so the webhook and the schema accept exactly the same strings.
#include "api/value_rules.h"

#include <arpa/inet.h>

#include <re2/re2.h>

namespace meshgate::api {
namespace {

// Compiled once; RE2 objects are safe to share between threads.
struct Patterns {
  RE2 dnsLabel{R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?$)"};
  RE2 dnsSubdomain{R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)"};
  RE2 host{R"(^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)"};
  RE2 token{R"(^[A-Za-z0-9!#$%&'*+.^_\x60|~-]+$)"};
  RE2 labelName{R"(^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$)"};
};

const Patterns& patterns() {
  static const Patterns p;
  return p;
}

bool fullMatch(std::string_view value, const RE2& re) {
  return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), re);
}

}  // namespace

const std::vector<std::string>& httpMethods() {
  static const std::vector<std::string> methods = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                   "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  return methods;
}

bool isDnsLabel(std::string_view value) {
  return value.size() <= kMaxDnsLabelLength && fullMatch(value, patterns().dnsLabel);
}

bool isDnsSubdomain(std::string_view value) {
  return value.size() <= kMaxDnsSubdomainLength && fullMatch(value, patterns().dnsSubdomain);
}

bool isHost(std::string_view value) {
  return value.size() <= kMaxDnsSubdomainLength && fullMatch(value, patterns().host);
}

bool isHeaderName(std::string_view value) {
  return value.size() <= kMaxHeaderNameLength && fullMatch(value, patterns().token);
}

bool isCookieName(std::string_view value) {
  return value.size() <= kMaxHeaderNameLength && fullMatch(value, patterns().token);
}

bool isIpAddress(std::string_view value) {
  // inet_pton reads a C string: an embedded NUL would hide trailing garbage.
  if (value.find('\0') != std::string_view::npos) return false;
  const std::string text(value);
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool isLabelKey(std::string_view value) {
  std::string_view name = value;
  const auto slash = value.find('/');
  if (slash != std::string_view::npos) {
    const std::string_view prefix = value.substr(0, slash);
    if (!isDnsSubdomain(prefix)) return false;
    name = value.substr(slash + 1);
  }
  return name.size() <= kMaxLabelNameLength && fullMatch(name, patterns().labelName);
}

bool isLabelValue(std::string_view value) {
  return value.empty() ||
         (value.size() <= kMaxLabelNameLength && fullMatch(value, patterns().labelName));
}

bool isHttpMethod(std::string_view value) {
  for (const auto& m : httpMethods()) {
    if (m == value) return true;
  }
  return false;
}

void validateDnsLabel(std::string_view value, const FieldPath& path, ErrorList& errors) {
  if (!isDnsLabel(value)) {
    errors.push_back(FieldError::invalid(path, std::string(value), std::string(kDnsLabelMessage)));
  }
}

void validateDnsSubdomain(std::string_view value, const FieldPath& path, ErrorList& errors) {
  if (!isDnsSubdomain(value)) {
    errors.push_back(
        FieldError::invalid(path, std::string(value), std::string(kDnsSubdomainMessage)));
  }
}

void validateHost(std::string_view value, const FieldPath& path, ErrorList& errors) {
  if (!isHost(value)) {
    errors.push_back(FieldError::invalid(path, std::string(value), std::string(kHostMessage)));
  }
}

void validateHeaderName(std::string_view value, const FieldPath& path, ErrorList& errors) {
  if (!isHeaderName(value)) {
    errors.push_back(
        FieldError::invalid(path, std::string(value), std::string(kHeaderNameMessage)));
  }
}

void validateIpAddress(std::string_view value, const FieldPath& path, ErrorList& errors) {
  if (!isIpAddress(value)) {
    errors.push_back(FieldError::invalid(path, std::string(value), std::string(kIpAddressMessage)));
  }
}

void validateRange(std::int64_t value, std::int64_t min, std::int64_t max, const FieldPath& path,
                   ErrorList& errors) {
  if (value < min || value > max) {
    errors.push_back(FieldError::invalid(
        path, value,
        "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", inclusive"));
  }
}

void validatePort(std::int64_t value, const FieldPath& path, ErrorList& errors) {
  validateRange(value, 1, 65535, path, errors);
}

void validateLabelMap(const std::map<std::string, std::string>& labels, const FieldPath& path,
                      ErrorList& errors) {
  for (const auto& [key, value] : labels) {
    if (!isLabelKey(key)) {
      errors.push_back(FieldError::invalid(path, key, std::string(kLabelKeyMessage)));
    }
    if (!isLabelValue(value)) {
      errors.push_back(FieldError::invalid(path.key(key), value, std::string(kLabelValueMessage)));
    }
  }
}

void validateEnum(std::string_view value, const std::vector<std::string>& supported,
                  const FieldPath& path, ErrorList& errors) {
  for (const auto& s : supported) {
    if (s == value) return;
  }
  errors.push_back(FieldError::unsupported(path, std::string(value), supported));
}

std::optional<Duration> validateDuration(std::string_view value, const FieldPath& path,
                                         ErrorList& errors) {
  auto d = Duration::parse(value);
  if (!d) {
    errors.push_back(FieldError::invalid(path, std::string(value), std::string(kDurationMessage)));
  }
  return d;
}

std::optional<Duration> validatePositiveDuration(std::string_view value, const FieldPath& path,
                                                 ErrorList& errors) {
  auto d = validateDuration(value, path, errors);
  if (d && d->value().count() <= 0) {
    errors.push_back(
        FieldError::invalid(path, std::string(value), std::string(kPositiveDurationMessage)));
    return std::nullopt;
  }
  return d;
}

bool validateRequired(std::string_view value, const FieldPath& path, ErrorList& errors) {
  if (value.empty()) {
    errors.push_back(FieldError::required(path));
    return false;
  }
  return true;
}

bool validateMaxLength(std::string_view value, std::size_t max, const FieldPath& path,
                       ErrorList& errors) {
  if (value.size() > max) {
    errors.push_back(FieldError::tooLong(path, max));
    return false;
  }
  return true;
}

void validateMaxItems(std::size_t count, std::size_t max, const FieldPath& path,
                      ErrorList& errors) {
  if (count > max) errors.push_back(FieldError::tooMany(path, count, max));
}

}  // namespace meshgate::api
