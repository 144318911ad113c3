// Compiling and evaluating one route match.
#include "dataplane/router/request_match.h"

#include "base/ascii.h"

#include <algorithm>
#include <cctype>

#include "api/route_regex.h"

namespace meshgate::dp {

namespace {
Expected<std::shared_ptr<const RE2>, std::string> compileRegex(const std::string& pattern,
                                                               const std::string& where) {
  auto regex = std::make_shared<const RE2>(pattern, api::routeRegexOptions());
  if (!regex->ok()) return where + ": invalid regular expression: " + regex->error();
  return std::shared_ptr<const RE2>(std::move(regex));
}

}  // namespace

bool pathPrefixMatches(std::string_view prefix, std::string_view path) {
  while (prefix.size() > 1 && prefix.back() == '/')
    prefix.remove_suffix(1);
  if (prefix == "/") return !path.empty() && path.front() == '/';
  if (path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

namespace {}  // namespace

bool RequestMatch::ValueMatch::matches(std::string_view actual) const {
  if (regex) return RE2::FullMatch(actual, *regex);
  return actual == value;
}

Expected<RequestMatch, std::string> RequestMatch::compile(const api::RouteMatch& match) {
  RequestMatch out;
  if (match.path) {
    const std::string type = match.path->type.value_or(std::string(api::path_match::kPathPrefix));
    out.path_ = match.path->value.value_or("/");
    if (type == api::path_match::kExact) {
      out.pathKind_ = PathKind::Exact;
    } else if (type == api::path_match::kRegularExpression) {
      out.pathKind_ = PathKind::Regex;
      auto regex = compileRegex(out.path_, "path");
      if (!regex) return regex.error();
      out.pathRegex_ = std::move(regex).value();
    }
  }
  if (match.method) out.method_ = *match.method;
  auto compileValues = [](const std::vector<api::HeaderMatch>& items, bool lowerNames,
                          const char* what,
                          std::vector<ValueMatch>& into) -> std::optional<std::string> {
    for (const auto& item : items) {
      ValueMatch value{lowerNames ? asciiLower(item.name) : item.name, item.value, nullptr};
      if (item.type.value_or(std::string(api::value_match::kExact)) ==
          api::value_match::kRegularExpression) {
        auto regex = compileRegex(item.value, std::string(what) + " " + item.name);
        if (!regex) return regex.error();
        value.regex = std::move(regex).value();
      }
      into.push_back(std::move(value));
    }
    return std::nullopt;
  };
  if (auto failed = compileValues(match.headers, true, "header", out.headers_)) return *failed;
  if (auto failed = compileValues(match.queryParams, false, "query parameter", out.query_))
    return *failed;
  return out;
}

bool RequestMatch::matches(const RequestView& request) const {
  switch (pathKind_) {
    case PathKind::Exact:
      if (request.path != path_) return false;
      break;
    case PathKind::Prefix:
      if (!pathPrefixMatches(path_, request.path)) return false;
      break;
    case PathKind::Regex:
      if (!RE2::FullMatch(request.path, *pathRegex_)) return false;
      break;
  }
  if (method_ && request.method != *method_) return false;
  for (const auto& header : headers_) {
    const auto actual = request.header(header.name);
    if (!actual || !header.matches(*actual)) return false;
  }
  for (const auto& param : query_) {
    const auto actual = request.queryParam(param.name);
    if (!actual || !param.matches(*actual)) return false;
  }
  return true;
}

}  // namespace meshgate::dp
