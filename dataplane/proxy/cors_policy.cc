// CorsPolicy: origin matching and the access-control-* headers of preflights and responses.
#include "dataplane/proxy/cors_policy.h"

#include <algorithm>

#include "base/ascii.h"

namespace meshgate::dp {
namespace {

constexpr std::string_view kVaryOrigin = "origin";
constexpr std::string_view kVaryPreflight =
    "origin, access-control-request-method, access-control-request-headers";

struct OriginParts {
  std::string_view scheme;
  std::string_view host;
  std::string_view port;  // empty when absent
};

bool isAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool allOf(std::string_view text, bool (*predicate)(char)) {
  return std::all_of(text.begin(), text.end(), predicate);
}

bool isSchemeChar(char c) {
  return isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.';
}
bool isHostChar(char c) {
  return isAlpha(c) || isDigit(c) || c == '.' || c == '-' || c == '_';
}
bool isIpv6Char(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

// RFC 9110 tchar: what a method or a header name is made of.
bool isTokenChar(char c) {
  if (isAlpha(c) || isDigit(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view text) {
  return !text.empty() && allOf(text, isTokenChar);
}

// scheme "://" host [":" port], as browsers serialize an Origin (RFC 6454): no path, no user
// info. The host may be a bracketed IPv6 literal, or start with "*." (a policy's wildcard entry).
std::optional<OriginParts> parseOrigin(std::string_view origin) {
  const size_t separator = origin.find("://");
  if (separator == std::string_view::npos || separator == 0) return std::nullopt;
  OriginParts parts;
  parts.scheme = origin.substr(0, separator);
  if (!isAlpha(parts.scheme[0]) || !allOf(parts.scheme, isSchemeChar)) return std::nullopt;
  std::string_view authority = origin.substr(separator + 3);
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || close < 2) return std::nullopt;
    if (!allOf(authority.substr(1, close - 1), isIpv6Char)) return std::nullopt;
    parts.host = authority.substr(0, close + 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority[0] != ':') return std::nullopt;
  } else {
    const size_t colon = authority.find(':');
    parts.host = authority.substr(0, colon);
    std::string_view host = parts.host;
    if (host.size() > 2 && host.substr(0, 2) == "*.") host.remove_prefix(2);
    if (host.empty() || !allOf(host, isHostChar)) return std::nullopt;
    authority.remove_prefix(parts.host.size());
  }
  if (!authority.empty()) {
    parts.port = authority.substr(1);
    if (parts.port.empty() || parts.port.size() > 5 || !allOf(parts.port, isDigit)) {
      return std::nullopt;
    }
  }
  return parts;
}

bool endsWithIgnoreCase(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         asciiEqualsIgnoreCase(text.substr(text.size() - suffix.size()), suffix);
}

std::string join(const std::vector<std::string>& items) {
  std::string joined;
  for (const auto& item : items) {
    if (!joined.empty()) joined += ", ";
    joined += item;
  }
  return joined;
}

std::string_view trimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

CorsPolicy::CorsPolicy(const api::Cors& cors)
    : credentials_(cors.allowCredentials.value_or(false)) {
  for (const auto& entry : cors.allowOrigins) {
    if (entry == "*") {
      anyOrigin_ = true;
      continue;
    }
    // Validation admits only well-formed entries; anything else (such as "null") matches nothing.
    const auto parts = parseOrigin(entry);
    if (!parts || parts->host.front() == '[') continue;
    OriginRule rule{asciiLower(std::string(parts->scheme)), asciiLower(std::string(parts->host)),
                    std::string(parts->port)};
    if (rule.host.size() > 2 && rule.host.substr(0, 2) == "*.") {
      rule.host.erase(0, 1);  // keep the dot: ".example.com"
      rule.wildcard = true;
    }
    origins_.push_back(std::move(rule));
  }

  for (const auto& method : cors.allowMethods) {
    if (method == "*") anyMethod_ = true;
    methods_.push_back(method);
  }
  methodList_ = join(cors.allowMethods);

  for (const auto& header : cors.allowHeaders) {
    if (header == "*") {
      anyHeader_ = true;
    } else {
      headers_.push_back(asciiLower(header));
    }
  }

  std::vector<std::string> exposed;
  for (const auto& header : cors.exposeHeaders) {
    // Under credentials the Fetch standard reads "*" as a header literally named "*".
    if (header == "*" && credentials_) continue;
    exposed.push_back(header);
  }
  exposeList_ = join(exposed);

  if (cors.maxAge && *cors.maxAge >= 0) maxAge_ = std::to_string(*cors.maxAge);
}

bool CorsPolicy::originAllowed(std::string_view origin) const {
  if (origin == "null") return false;
  const auto parts = parseOrigin(origin);
  if (!parts || parts->host.substr(0, 1) == "*") return false;
  if (anyOrigin_) return true;
  for (const auto& rule : origins_) {
    if (!asciiEqualsIgnoreCase(parts->scheme, rule.scheme) || parts->port != rule.port) continue;
    if (rule.wildcard) {
      // The suffix starts with a dot, so "evilexample.com" is not under ".example.com", and at
      // least one label must precede it, so the apex is not either.
      if (parts->host.size() > rule.host.size() && endsWithIgnoreCase(parts->host, rule.host)) {
        return true;
      }
    } else if (asciiEqualsIgnoreCase(parts->host, rule.host)) {
      return true;
    }
  }
  return false;
}

bool CorsPolicy::isPreflight(std::string_view method, std::optional<std::string_view> origin,
                             std::optional<std::string_view> requestMethod) {
  return method == "OPTIONS" && origin.has_value() && requestMethod.has_value();
}

bool CorsPolicy::methodAllowed(std::string_view method) const {
  if (!isToken(method)) return false;
  // CORS-safelisted methods need no permission; methods are case-sensitive.
  if (method == "GET" || method == "HEAD" || method == "POST") return true;
  if (anyMethod_) return true;
  return std::find(methods_.begin(), methods_.end(), method) != methods_.end();
}

std::optional<std::string> CorsPolicy::allowedRequestHeaders(
    std::string_view requestHeaders) const {
  std::string allowed;
  while (!requestHeaders.empty()) {
    const size_t comma = requestHeaders.find(',');
    const std::string_view item = trimSpaces(requestHeaders.substr(0, comma));
    requestHeaders =
        comma == std::string_view::npos ? std::string_view() : requestHeaders.substr(comma + 1);
    if (item.empty()) continue;
    if (!isToken(item)) return std::nullopt;
    std::string name = asciiLower(std::string(item));
    // The Fetch standard never lets a wildcard cover authorization: it must be listed.
    const bool listed = std::find(headers_.begin(), headers_.end(), name) != headers_.end();
    if (!listed && !(anyHeader_ && name != "authorization")) return std::nullopt;
    if (!allowed.empty()) allowed += ", ";
    allowed += name;
  }
  return allowed;
}

void CorsPolicy::appendOrigin(std::string_view origin, HeaderList& out) const {
  // With credentials the browser rejects "*": the origin itself is echoed.
  out.emplace_back("access-control-allow-origin",
                   anyOrigin_ && !credentials_ ? std::string("*") : std::string(origin));
  if (credentials_) out.emplace_back("access-control-allow-credentials", "true");
}

void CorsPolicy::preflightHeaders(std::string_view origin, std::string_view requestMethod,
                                  std::optional<std::string_view> requestHeaders,
                                  HeaderList& out) const {
  std::optional<std::string> headers;
  if (requestHeaders) headers = allowedRequestHeaders(*requestHeaders);
  if (!originAllowed(origin) || !methodAllowed(requestMethod) || (requestHeaders && !headers)) {
    out.emplace_back("vary", kVaryPreflight);
    return;
  }
  appendOrigin(origin, out);
  // Under credentials "*" is a method literally named "*": the requested method is echoed.
  if (credentials_ && anyMethod_) {
    out.emplace_back("access-control-allow-methods", std::string(requestMethod));
  } else if (!methodList_.empty()) {
    out.emplace_back("access-control-allow-methods", methodList_);
  }
  // Echoing the requested names (never "*") also works under credentials.
  if (headers && !headers->empty()) {
    out.emplace_back("access-control-allow-headers", std::move(*headers));
  }
  if (maxAge_) out.emplace_back("access-control-max-age", *maxAge_);
  out.emplace_back("vary", kVaryPreflight);
}

void CorsPolicy::responseHeaders(std::string_view origin, HeaderList& out) const {
  if (originAllowed(origin)) {
    appendOrigin(origin, out);
    if (!exposeList_.empty()) out.emplace_back("access-control-expose-headers", exposeList_);
  }
  out.emplace_back("vary", kVaryOrigin);
}

}  // namespace meshgate::dp
