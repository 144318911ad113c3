// Expected<T, E> holds either a value or an error — std::expected before C++23 (g++ 12 lacks it).
// Libraries that never throw across their API (kube/, pki/) return it; each names its error type
// (kube::Result<T> = Expected<T, ApiError>).
#pragma once

#include <utility>
#include <variant>

namespace meshgate {

template <class T, class E>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Expected(E error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const E& error() const { return std::get<1>(state_); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, E> state_;
};

// The value of calls that return nothing on success.
struct Ok {};

}  // namespace meshgate
