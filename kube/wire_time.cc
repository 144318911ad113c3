// RFC 3339 in UTC for metav1.Time and metav1.MicroTime: formatting and parsing.
#include "kube/wire_time.h"

#include <cctype>
#include <cstdint>
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

std::optional<std::chrono::system_clock::time_point> parseTime(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const auto digits = [&](std::size_t at, std::size_t count, int& out) {
    if (at + count > text.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  if (!digits(0, 4, year) || text.size() < 20 || text[4] != '-' || !digits(5, 2, month) ||
      text[7] != '-' || !digits(8, 2, day) || text[10] != 'T' || !digits(11, 2, hour) ||
      text[13] != ':' || !digits(14, 2, minute) || text[16] != ':' || !digits(17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::size_t at = 19;
  std::int64_t nanos = 0;
  if (text[at] == '.') {
    std::size_t count = 0;
    for (++at; at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])); ++at) {
      if (++count > 9) return std::nullopt;
      nanos = nanos * 10 + (text[at] - '0');
    }
    if (count == 0) return std::nullopt;
    for (; count < 9; ++count)
      nanos *= 10;
  }
  if (at + 1 != text.size() || text[at] != 'Z') return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t seconds = timegm(&tm);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos)));
}

}  // namespace kube
