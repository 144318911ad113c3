// RFC 3339 formatting in UTC for metav1.Time and metav1.MicroTime.
#include "kube/wire_time.h"

#include <cstdio>
#include <ctime>

namespace kube {

namespace {
// Splits a time into whole seconds and microseconds, flooring for times before the epoch.
std::tm toUtc(std::chrono::system_clock::time_point t, int64_t& micros) {
  const int64_t total =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  int64_t seconds = total / 1000000;
  micros = total % 1000000;
  if (micros < 0) {
    micros += 1000000;
    seconds -= 1;
  }
  const std::time_t tt = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}
}  // namespace

std::string formatTime(std::chrono::system_clock::time_point t) {
  int64_t micros = 0;
  const std::tm tm = toUtc(t, micros);
  char buffer[96];  // room for any int fields, which keeps -Wformat-truncation quiet
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buffer;
}

std::string formatMicroTime(std::chrono::system_clock::time_point t) {
  int64_t micros = 0;
  const std::tm tm = toUtc(t, micros);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(micros));
  return buffer;
}

}  // namespace kube
