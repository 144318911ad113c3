// Route regex compilation options; see api/route_regex.h.
#include "api/route_regex.h"

namespace meshgate::api {

RE2::Options routeRegexOptions() {
  RE2::Options options;
  options.set_max_mem(kRouteRegexMaxMem);
  // Compile errors are returned to the caller; RE2 must not also write them to stderr.
  options.set_log_errors(false);
  return options;
}

std::string routeRegexError(std::string_view pattern) {
  const RE2 re(re2::StringPiece(pattern.data(), pattern.size()), routeRegexOptions());
  if (re.ok()) return {};
  return re.error();
}

}  // namespace meshgate::api
