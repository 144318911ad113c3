// The RE2 options every ApiRoute regular expression (path, header and query-parameter matches) is
// compiled with. The validator checks patterns with them and the gateway proxy compiles with
// them, so a pattern accepted at admission always compiles in the dataplane. RE2 runs in linear
// time; the memory cap bounds the compiled program so one route cannot bloat the proxy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <re2/re2.h>

namespace meshgate::api {

// Memory budget of one compiled route regex (RE2 max_mem).
inline constexpr std::int64_t kRouteRegexMaxMem = 1 << 20;

RE2::Options routeRegexOptions();

// Empty when `pattern` compiles with routeRegexOptions(); otherwise RE2's error text, e.g.
// "missing ): (a" or "pattern too large - compile failed".
std::string routeRegexError(std::string_view pattern);

}  // namespace meshgate::api
