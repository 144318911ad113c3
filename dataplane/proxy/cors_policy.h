// CorsPolicy: a rule's CORS policy (Fetch standard, "CORS protocol"), evaluated by the proxy's
// CORS filter: whether an Origin is allowed, the headers of the proxy's 204 answer to a
// preflight, and the headers added to an actual response. Built with the snapshot on the main
// thread, then only read: every method is const and safe from any worker thread.
//
// Origins in allowOrigins are "*" (any origin), an exact origin "https://app.example.com[:port]"
// (scheme and host compared case-insensitively, the port exactly: "https://a.com" does not match
// "https://a.com:8443"), or "https://*.example.com[:port]", which matches subdomains at any depth
// but not the apex "https://example.com" nor "https://evilexample.com". The opaque origin "null"
// (sandboxed iframes, file: pages, some redirects) never matches, not even "*": any page can
// produce it, so allowing it would allow everyone while looking like a restriction.
//
// Every answer carries `vary: origin`, even under a plain "*" policy where the content does not
// depend on the origin: one rule for every policy, and harmless to caches. Preflight answers also
// vary on the request method and headers they echo.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_route.h"
#include "dataplane/proxy/request_filter.h"

namespace meshgate::dp {

class CorsPolicy {
 public:
  explicit CorsPolicy(const api::Cors& cors);

  bool originAllowed(std::string_view origin) const;

  // A preflight is OPTIONS with both Origin and Access-Control-Request-Method.
  static bool isPreflight(std::string_view method, std::optional<std::string_view> origin,
                          std::optional<std::string_view> requestMethod);

  // Appends the headers of the proxy's 204 answer to a preflight. For a disallowed origin, or a
  // requested method or header the policy does not allow, only vary: no access-control-* header,
  // so the browser fails the preflight. `requestHeaders` is Access-Control-Request-Headers.
  void preflightHeaders(std::string_view origin, std::string_view requestMethod,
                        std::optional<std::string_view> requestHeaders, HeaderList& out) const;

  // Appends the headers of an actual (non-preflight) response to a request with an Origin;
  // nothing but vary for a disallowed origin.
  void responseHeaders(std::string_view origin, HeaderList& out) const;

 private:
  // An allowOrigins entry other than "*", lower-cased. `host` of a wildcard entry is the suffix
  // after "*" (".example.com"); `port` is empty when the entry has none.
  struct OriginRule {
    std::string scheme;
    std::string host;
    std::string port;
    bool wildcard = false;
  };

  bool methodAllowed(std::string_view method) const;
  // Parses `requestHeaders` into lower-case names joined by ", ", or nullopt when one of them is
  // not a valid header name or not allowed.
  std::optional<std::string> allowedRequestHeaders(std::string_view requestHeaders) const;
  void appendOrigin(std::string_view origin, HeaderList& out) const;

  std::vector<OriginRule> origins_;
  bool anyOrigin_ = false;
  bool credentials_ = false;
  std::vector<std::string> methods_;
  bool anyMethod_ = false;
  std::string methodList_;            // allowMethods joined by ", "
  std::vector<std::string> headers_;  // allowHeaders other than "*", lower-cased
  bool anyHeader_ = false;
  std::string exposeList_;  // exposeHeaders joined by ", ", without "*" under credentials
  std::optional<std::string> maxAge_;
};

}  // namespace meshgate::dp
