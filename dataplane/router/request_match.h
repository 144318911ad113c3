// One compiled match of an ApiRoute rule: path (Exact; PathPrefix on segment boundaries, so
// "/api" matches "/api" and "/api/x" but not "/apix"; RegularExpression as an RE2 full match),
// method, headers and query parameters (exact or RE2 full match; header names case-insensitive).
// Every condition must hold. Regexes are compiled once, with api::routeRegexOptions().
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "api/api_route.h"
#include "base/expected.h"
#include "dataplane/router/request_view.h"

namespace meshgate::dp {

// PathPrefix on segment boundaries ("/api" matches "/api" and "/api/x", not "/apix"); a trailing
// "/" of the prefix is not significant. Also used by the proxy's path-prefix rewrite.
bool pathPrefixMatches(std::string_view prefix, std::string_view path);

enum class PathKind { Exact = 0, Prefix = 1, Regex = 2 };

class RequestMatch {
 public:
  // Fails with RE2's reason when a regex does not compile (the webhook refuses such routes; the
  // proxy checks again because a config can come from a file).
  static Expected<RequestMatch, std::string> compile(const api::RouteMatch& match);

  bool matches(const RequestView& request) const;

  // What precedence looks at (route_table.h).
  PathKind pathKind() const { return pathKind_; }
  size_t pathLength() const { return path_.size(); }
  bool hasMethod() const { return method_.has_value(); }
  size_t headerCount() const { return headers_.size(); }
  size_t queryCount() const { return query_.size(); }

 private:
  struct ValueMatch {
    std::string name;
    std::string value;
    std::shared_ptr<const RE2> regex;  // set for RegularExpression
    bool matches(std::string_view actual) const;
  };

  PathKind pathKind_ = PathKind::Prefix;
  std::string path_ = "/";
  std::shared_ptr<const RE2> pathRegex_;
  std::optional<std::string> method_;
  std::vector<ValueMatch> headers_;
  std::vector<ValueMatch> query_;
};

}  // namespace meshgate::dp
