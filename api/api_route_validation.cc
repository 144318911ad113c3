// ApiRoute validation; see api/api_route_validation.h. The order of the checks is the order of
// the fields in docs/API.md, which is the order the errors are reported in.
#include "api/api_route_validation.h"

#include <algorithm>
#include <exception>
#include <set>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "api/auth_validation.h"
#include "api/object_meta_validation.h"
#include "api/retries_validation.h"
#include "api/route_regex.h"
#include "api/schema_defaults.h"
#include "api/value_rules.h"

namespace meshgate::api {
namespace {

constexpr std::size_t kMaxRateLimitKeyNameLength = 256;
constexpr std::int64_t kMaxRateLimit = 1000000;

std::vector<std::string> toStrings(std::initializer_list<std::string_view> values) {
  return {values.begin(), values.end()};
}

const std::vector<std::string>& pathMatchTypes() {
  static const auto values =
      toStrings({path_match::kPathPrefix, path_match::kExact, path_match::kRegularExpression});
  return values;
}

const std::vector<std::string>& valueMatchTypes() {
  static const auto values = toStrings({value_match::kExact, value_match::kRegularExpression});
  return values;
}

const std::vector<std::string>& redirectSchemes() {
  static const std::vector<std::string> values = {"http", "https"};
  return values;
}

const std::vector<std::string>& redirectStatusCodes() {
  static const std::vector<std::string> values = {"301", "302", "303", "307", "308"};
  return values;
}

const std::vector<std::string>& rateLimitUnits() {
  static const auto values =
      toStrings({rate_limit_unit::kSecond, rate_limit_unit::kMinute, rate_limit_unit::kHour});
  return values;
}

const std::vector<std::string>& rateLimitKeyTypes() {
  static const auto values = toStrings({rate_limit_key::kClientIP, rate_limit_key::kHeader,
                                        rate_limit_key::kApiKey, rate_limit_key::kJwtClaim});
  return values;
}

const std::vector<std::string>& corsMethods() {
  static const std::vector<std::string> values = [] {
    auto v = httpMethods();
    v.push_back("*");
    return v;
  }();
  return values;
}

const RE2& plainPathPattern() {
  static const RE2 re(R"(^/[^\s?#]*$)");
  return re;
}

const RE2& corsOriginPattern() {
  static const RE2 re(
      R"(^(\*|https?://(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?)$)");
  return re;
}

bool matches(std::string_view value, const RE2& re) {
  return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), re);
}

// Appends an error unless `pattern` compiles with the proxy's RE2 options.
void validateRegex(const std::string& pattern, const FieldPath& path, ErrorList& errors) {
  const std::string error = routeRegexError(pattern);
  if (!error.empty()) {
    errors.push_back(
        FieldError::invalid(path, pattern, "must be a valid RE2 regular expression: " + error));
  }
}

// Validates `type` (an enum) and reports whether it is one of `supported`.
bool validateType(const std::string& type, const std::vector<std::string>& supported,
                  const FieldPath& path, ErrorList& errors) {
  const std::size_t before = errors.size();
  validateEnum(type, supported, path, errors);
  return errors.size() == before;
}

void validateStartsWithSlash(const std::string& value, const FieldPath& path, ErrorList& errors) {
  if (value.empty() || value.front() != '/') {
    errors.push_back(FieldError::invalid(path, value, "must start with \"/\""));
  }
}

void validatePathMatch(const PathMatch& pm, const FieldPath& path, ErrorList& errors) {
  const std::string type = pm.type.value_or(std::string(kDefaultPathMatchType));
  const bool typeValid = validateType(type, pathMatchTypes(), path.child("type"), errors);
  const std::string value = pm.value.value_or(std::string(kDefaultPathMatchValue));
  const FieldPath valuePath = path.child("value");
  if (!validateMaxLength(value, kMaxPathValueLength, valuePath, errors) || !typeValid) return;
  if (type == path_match::kRegularExpression) {
    validateRegex(value, valuePath, errors);
  } else if (!matches(value, plainPathPattern())) {
    errors.push_back(FieldError::invalid(
        valuePath, value, "must start with \"/\" and contain no whitespace, \"?\" or \"#\""));
  }
}

// Header and query-parameter matches differ only in how their name is checked.
enum class MatchedName { kHeader, kQueryParam };

void validateValueMatches(const std::vector<HeaderMatch>& list, MatchedName kind,
                          const FieldPath& path, ErrorList& errors) {
  validateMaxItems(list.size(), kMaxValueMatches, path, errors);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const HeaderMatch& m = list[i];
    const FieldPath item = path.index(i);
    const FieldPath name = item.child("name");
    if (validateRequired(m.name, name, errors)) {
      if (kind == MatchedName::kHeader) {
        validateHeaderName(m.name, name, errors);
      } else {
        validateMaxLength(m.name, kMaxQueryParamNameLength, name, errors);
      }
    }
    const std::string type = m.type.value_or(std::string(kDefaultValueMatchType));
    const bool typeValid = validateType(type, valueMatchTypes(), item.child("type"), errors);
    const FieldPath value = item.child("value");
    if (validateRequired(m.value, value, errors) &&
        validateMaxLength(m.value, kMaxHeaderValueLength, value, errors) && typeValid &&
        type == value_match::kRegularExpression) {
      validateRegex(m.value, value, errors);
    }
  }
}

void validateMatches(const std::vector<RouteMatch>& matchList, const FieldPath& path,
                     ErrorList& errors) {
  validateMaxItems(matchList.size(), kMaxMatches, path, errors);
  for (std::size_t i = 0; i < matchList.size(); ++i) {
    const RouteMatch& m = matchList[i];
    const FieldPath item = path.index(i);
    if (m.path) validatePathMatch(*m.path, item.child("path"), errors);
    if (m.method) validateEnum(*m.method, httpMethods(), item.child("method"), errors);
    validateValueMatches(m.headers, MatchedName::kHeader, item.child("headers"), errors);
    validateValueMatches(m.queryParams, MatchedName::kQueryParam, item.child("queryParams"),
                         errors);
  }
}

void validateBackends(const std::vector<Backend>& backends, bool redirects, const FieldPath& path,
                      ErrorList& errors) {
  if (backends.empty()) {
    if (!redirects) {
      errors.push_back(FieldError::required(path, "a rule needs backends unless it redirects"));
    }
    return;
  }
  validateMaxItems(backends.size(), kMaxBackends, path, errors);
  bool anyWeight = false;
  for (std::size_t i = 0; i < backends.size(); ++i) {
    const Backend& b = backends[i];
    const FieldPath item = path.index(i);
    if (validateRequired(b.service, item.child("service"), errors)) {
      validateDnsLabel(b.service, item.child("service"), errors);
    }
    if (b.port == 0) {
      errors.push_back(FieldError::required(item.child("port")));
    } else {
      validatePort(b.port, item.child("port"), errors);
    }
    const std::int64_t weight = b.weight.value_or(kDefaultBackendWeight);
    validateRange(weight, 0, 1000, item.child("weight"), errors);
    if (weight > 0) anyWeight = true;
    if (b.subset) validateDnsLabel(*b.subset, item.child("subset"), errors);
  }
  if (!anyWeight) {
    errors.push_back(FieldError::invalid(path, "array",
                                         "at least one backend must have a weight greater than 0"));
  }
}

void validateHeaderValues(const std::vector<HeaderValue>& list, const FieldPath& path,
                          ErrorList& errors) {
  validateMaxItems(list.size(), kMaxHeaderModifications, path, errors);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const FieldPath item = path.index(i);
    if (validateRequired(list[i].name, item.child("name"), errors)) {
      validateHeaderName(list[i].name, item.child("name"), errors);
    }
    validateMaxLength(list[i].value, kMaxHeaderValueLength, item.child("value"), errors);
  }
}

void validateHeaderModifier(const HeaderModifier& mod, const FieldPath& path, ErrorList& errors) {
  validateHeaderValues(mod.set, path.child("set"), errors);
  validateHeaderValues(mod.add, path.child("add"), errors);
  const FieldPath remove = path.child("remove");
  validateMaxItems(mod.remove.size(), kMaxHeaderModifications, remove, errors);
  for (std::size_t i = 0; i < mod.remove.size(); ++i) {
    validateHeaderName(mod.remove[i], remove.index(i), errors);
  }
}

void validateFilters(const Filters& filters, const FieldPath& path, ErrorList& errors) {
  if (filters.requestHeaders) {
    validateHeaderModifier(*filters.requestHeaders, path.child("requestHeaders"), errors);
  }
  if (filters.responseHeaders) {
    validateHeaderModifier(*filters.responseHeaders, path.child("responseHeaders"), errors);
  }
  if (filters.rewrite) {
    const Rewrite& rw = *filters.rewrite;
    const FieldPath rwPath = path.child("rewrite");
    if (rw.pathPrefix) validateStartsWithSlash(*rw.pathPrefix, rwPath.child("pathPrefix"), errors);
    if (rw.hostname) validateDnsSubdomain(*rw.hostname, rwPath.child("hostname"), errors);
  }
  if (filters.redirect) {
    const Redirect& rd = *filters.redirect;
    const FieldPath rdPath = path.child("redirect");
    if (rd.scheme) validateEnum(*rd.scheme, redirectSchemes(), rdPath.child("scheme"), errors);
    if (rd.hostname) validateDnsSubdomain(*rd.hostname, rdPath.child("hostname"), errors);
    if (rd.port) validatePort(*rd.port, rdPath.child("port"), errors);
    if (rd.path) validateStartsWithSlash(*rd.path, rdPath.child("path"), errors);
    const std::int64_t code = rd.statusCode.value_or(kDefaultRedirectStatusCode);
    const auto& codes = redirectStatusCodes();
    if (std::find(codes.begin(), codes.end(), std::to_string(code)) == codes.end()) {
      errors.push_back(
          FieldError::unsupported(rdPath.child("statusCode"), code, redirectStatusCodes()));
    }
  }
  if (filters.rewrite && filters.redirect) {
    errors.push_back(
        FieldError::invalid(path, "object", "rewrite and redirect cannot both be set"));
  }
}

void validateRateLimit(const RateLimit& rl, const FieldPath& path, ErrorList& errors) {
  if (rl.requests == 0) {
    errors.push_back(FieldError::required(path.child("requests")));
  } else {
    validateRange(rl.requests, 1, kMaxRateLimit, path.child("requests"), errors);
  }
  if (validateRequired(rl.unit, path.child("unit"), errors)) {
    validateEnum(rl.unit, rateLimitUnits(), path.child("unit"), errors);
  }
  if (rl.burst) validateRange(*rl.burst, 1, kMaxRateLimit, path.child("burst"), errors);
  if (rl.key) {
    const FieldPath keyPath = path.child("key");
    const std::string type = rl.key->type.value_or(std::string(kDefaultRateLimitKeyType));
    validateType(type, rateLimitKeyTypes(), keyPath.child("type"), errors);
    const bool needsName = type == rate_limit_key::kHeader || type == rate_limit_key::kJwtClaim;
    const FieldPath name = keyPath.child("name");
    if (!rl.key->name || rl.key->name->empty()) {
      if (needsName) {
        errors.push_back(FieldError::required(name, "needed when type is Header or JwtClaim"));
      }
    } else if (validateMaxLength(*rl.key->name, kMaxRateLimitKeyNameLength, name, errors) &&
               type == rate_limit_key::kHeader) {
      validateHeaderName(*rl.key->name, name, errors);
    }
  }
}

void validateCors(const Cors& cors, const FieldPath& path, ErrorList& errors) {
  const FieldPath origins = path.child("allowOrigins");
  validateMaxItems(cors.allowOrigins.size(), kMaxCorsOrigins, origins, errors);
  bool anyOrigin = false;
  for (std::size_t i = 0; i < cors.allowOrigins.size(); ++i) {
    const std::string& origin = cors.allowOrigins[i];
    if (origin == "*") anyOrigin = true;
    if (!matches(origin, corsOriginPattern())) {
      errors.push_back(
          FieldError::invalid(origins.index(i), origin,
                              "must be \"*\" or an origin like https://app.example.com[:port]"));
    }
  }
  const FieldPath methods = path.child("allowMethods");
  for (std::size_t i = 0; i < cors.allowMethods.size(); ++i) {
    validateEnum(cors.allowMethods[i], corsMethods(), methods.index(i), errors);
  }
  for (const auto& [name, list] : {std::pair{"allowHeaders", &cors.allowHeaders},
                                   std::pair{"exposeHeaders", &cors.exposeHeaders}}) {
    const FieldPath headers = path.child(name);
    validateMaxItems(list->size(), kMaxCorsHeaders, headers, errors);
    for (std::size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i] != "*") validateHeaderName((*list)[i], headers.index(i), errors);
    }
  }
  if (cors.maxAge) validateRange(*cors.maxAge, 0, 86400, path.child("maxAge"), errors);
  if (cors.allowCredentials.value_or(false) && anyOrigin) {
    errors.push_back(FieldError::forbidden(path.child("allowCredentials"),
                                           "cannot be true when allowOrigins contains \"*\""));
  }
}

void validateRule(const RouteRule& rule, const FieldPath& path, ErrorList& errors) {
  validateMatches(rule.matches, path.child("matches"), errors);
  const bool redirects = rule.filters && rule.filters->redirect;
  validateBackends(rule.backends, redirects, path.child("backends"), errors);
  if (rule.filters) validateFilters(*rule.filters, path.child("filters"), errors);
  if (rule.timeout) validateDuration(*rule.timeout, path.child("timeout"), errors);
  if (rule.retries) validateRetries(*rule.retries, path.child("retries"), errors);
  if (rule.rateLimit) validateRateLimit(*rule.rateLimit, path.child("rateLimit"), errors);
  if (rule.auth) validateAuth(*rule.auth, AuthScope::kRuleOverride, path.child("auth"), errors);
  if (rule.cors) validateCors(*rule.cors, path.child("cors"), errors);
}

void validateSpec(const ApiRouteSpec& spec, const FieldPath& path, ErrorList& errors) {
  if (spec.ingressClassName) {
    validateDnsSubdomain(*spec.ingressClassName, path.child("ingressClassName"), errors);
  }

  const FieldPath hosts = path.child("hosts");
  if (spec.hosts.empty()) errors.push_back(FieldError::required(hosts));
  validateMaxItems(spec.hosts.size(), kMaxHosts, hosts, errors);
  std::set<std::string> seenHosts;
  for (std::size_t i = 0; i < spec.hosts.size(); ++i) {
    validateHost(spec.hosts[i], hosts.index(i), errors);
    if (!seenHosts.insert(spec.hosts[i]).second) {
      errors.push_back(FieldError::duplicate(hosts.index(i), spec.hosts[i]));
    }
  }

  if (spec.tls && spec.tls->secretName) {
    validateDnsSubdomain(*spec.tls->secretName, path.child("tls").child("secretName"), errors);
  }
  if (spec.auth) validateAuth(*spec.auth, AuthScope::kRouteDefault, path.child("auth"), errors);

  const FieldPath rules = path.child("rules");
  if (spec.rules.empty()) errors.push_back(FieldError::required(rules));
  validateMaxItems(spec.rules.size(), kMaxRules, rules, errors);
  for (std::size_t i = 0; i < spec.rules.size(); ++i) {
    validateRule(spec.rules[i], rules.index(i), errors);
  }
}

}  // namespace

ErrorList validateApiRoute(const ApiRoute& input) {
  ErrorList errors;
  try {
    ApiRoute route = input;
    applySchemaDefaults(route);
    validateObjectMeta(route.metadata, FieldPath("metadata"), errors);
    validateSpec(route.spec, FieldPath("spec"), errors);
  } catch (const std::exception& e) {
    errors.push_back(FieldError::internal(FieldPath(), e.what()));
  }
  return errors;
}

}  // namespace meshgate::api
