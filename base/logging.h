// The log settings every meshgate process takes from --log-level and --log-format: the level, and
// for "json" one JSON object per line naming the component (what log collectors in a cluster
// parse). Called once at the start of main().
#pragma once

#include <string>

#include <spdlog/spdlog.h>

namespace meshgate {

// `level`: trace|debug|info|warn|error; `format`: text|json (the flags check both).
inline void configureLogging(const std::string& level, const std::string& format,
                             const std::string& component) {
  spdlog::set_level(spdlog::level::from_str(level));
  if (format == "json") {
    spdlog::set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":")" + component + R"(","msg":"%v"})",
        spdlog::pattern_time_type::utc);
  }
}

}  // namespace meshgate
