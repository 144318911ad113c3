// RFC 3339 text of a wall-clock time, in UTC and whole seconds ("2030-01-01T00:00:00Z"): how the
// admin pages (/config_dump, /identity) and the logs show times.
#pragma once

#include <chrono>
#include <ctime>
#include <string>

namespace meshgate::dp {

inline std::string rfc3339(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace meshgate::dp
