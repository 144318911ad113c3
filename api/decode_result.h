// DecodeResult: what the JSON decoders return instead of throwing. Either the decoded object, or
// every field whose JSON type was wrong (`spec.ports[0].port: Invalid value: "abc": expected an
// integer`), so the webhook can deny with a useful message and the CLI can print it.
#pragma once

#include <optional>

#include "api/field_error.h"

namespace meshgate::api {

template <typename T>
struct DecodeResult {
  // Set exactly when `errors` is empty.
  std::optional<T> object;
  ErrorList errors;

  bool ok() const { return errors.empty() && object.has_value(); }
};

}  // namespace meshgate::api
