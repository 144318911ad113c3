// Duration in the Gateway API format of docs/API.md: `^([0-9]{1,5}(h|m|s|ms)){1,4}$`, e.g.
// `500ms`, `10s`, `1m30s`. Spec fields keep the text the user wrote (so validation errors can
// quote it); the validators, the operator and the proxy call Duration::parse to get the value.
#pragma once

#include <chrono>
#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace meshgate::api {

class Duration {
 public:
  constexpr Duration() = default;
  constexpr explicit Duration(std::chrono::milliseconds value) : value_(value) {}

  // Accepts exactly the strings the contract regex accepts (up to four `<1-5 digits><unit>`
  // groups, units in any order and repeatable, summed); anything else returns nullopt and, when
  // `error` is given, a sentence saying what is wrong.
  static std::optional<Duration> parse(std::string_view text, std::string* error = nullptr);

  constexpr std::chrono::milliseconds value() const { return value_; }

  // Canonical text: non-zero components in h, m, s, ms order (`1m30s`, `1s500ms`, `0s`). It parses
  // back to the same value as long as the hours fit the format's five digits (< 100000h).
  std::string format() const;

  constexpr auto operator<=>(const Duration&) const = default;

 private:
  std::chrono::milliseconds value_{0};
};

// The value of an optional duration field, or `fallback` when it is absent (or unparsable, which
// validation has already refused).
std::chrono::milliseconds durationOr(const std::optional<std::string>& text,
                                     std::chrono::milliseconds fallback);

}  // namespace meshgate::api
