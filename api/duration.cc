// Duration parsing: a hand-written scanner for the contract's regex. Tokens cannot be read two
// ways (every group starts with a digit, so an `m` followed by `s` can only be the unit `ms`),
// which lets a single left-to-right pass accept exactly the regex's language.
#include "api/duration.h"

#include <cstdint>
#include <utility>

namespace meshgate::api {
namespace {

constexpr int kMaxDigits = 5;
constexpr int kMaxGroups = 4;

void setError(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::optional<Duration> Duration::parse(std::string_view text, std::string* error) {
  if (text.empty()) {
    setError(error, "empty duration");
    return std::nullopt;
  }
  std::int64_t totalMs = 0;
  std::size_t pos = 0;
  int groups = 0;
  while (pos < text.size()) {
    if (groups == kMaxGroups) {
      setError(error, "more than 4 number-unit groups");
      return std::nullopt;
    }
    const std::size_t start = pos;
    std::int64_t number = 0;
    while (pos < text.size() && isDigit(text[pos])) {
      if (pos - start == kMaxDigits) {
        setError(error, "a number has more than 5 digits");
        return std::nullopt;
      }
      number = number * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == start) {
      setError(error, "expected a digit at offset " + std::to_string(pos));
      return std::nullopt;
    }
    if (pos == text.size()) {
      setError(error, "missing unit after the number (units h, m, s, ms)");
      return std::nullopt;
    }
    std::int64_t unitMs = 0;
    if (text.substr(pos, 2) == "ms") {
      unitMs = 1;
      pos += 2;
    } else if (text[pos] == 'h') {
      unitMs = 3600 * 1000;
      ++pos;
    } else if (text[pos] == 'm') {
      unitMs = 60 * 1000;
      ++pos;
    } else if (text[pos] == 's') {
      unitMs = 1000;
      ++pos;
    } else {
      setError(error, "unknown unit at offset " + std::to_string(pos) + " (units h, m, s, ms)");
      return std::nullopt;
    }
    // At most 4 * 99999h, far below the int64 range of milliseconds.
    totalMs += number * unitMs;
    ++groups;
  }
  return Duration(std::chrono::milliseconds(totalMs));
}

std::string Duration::format() const {
  const std::int64_t count = value_.count();
  if (count == 0) return "0s";
  std::string out;
  // Negative values are not producible by parse(); printed with a sign rather than hidden.
  if (count < 0) out += '-';
  std::uint64_t ms = count < 0 ? 0 - static_cast<std::uint64_t>(count) : count;
  const std::uint64_t hours = ms / (3600 * 1000);
  ms %= 3600 * 1000;
  const std::uint64_t minutes = ms / (60 * 1000);
  ms %= 60 * 1000;
  const std::uint64_t seconds = ms / 1000;
  ms %= 1000;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (minutes > 0) out += std::to_string(minutes) + "m";
  if (seconds > 0) out += std::to_string(seconds) + "s";
  if (ms > 0) out += std::to_string(ms) + "ms";
  return out;
}

std::chrono::milliseconds durationOr(const std::optional<std::string>& text,
                                     std::chrono::milliseconds fallback) {
  if (!text) return fallback;
  const auto parsed = Duration::parse(*text);
  return parsed ? parsed->value() : fallback;
}

}  // namespace meshgate::api
