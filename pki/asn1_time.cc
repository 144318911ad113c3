#include "pki/asn1_time.h"

#include <ctime>

namespace pki {

std::optional<TimePoint> fromAsn1Time(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  using namespace std::chrono;
  const sys_days day =
      year{tm.tm_year + 1900} / month(tm.tm_mon + 1) / std::chrono::day(tm.tm_mday);
  return TimePoint(day + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec});
}

bool setAsn1Time(ASN1_TIME* out, TimePoint t) {
  const std::time_t seconds =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  return ASN1_TIME_set(out, seconds) != nullptr;
}

std::string formatTime(TimePoint t) {
  const std::time_t seconds =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  if (gmtime_r(&seconds, &tm) == nullptr) return "(unrepresentable time)";
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

}  // namespace pki
