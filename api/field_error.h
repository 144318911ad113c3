// FieldError and ErrorList: the one error shape of the API model. The decoders (wrong JSON
// types) and the validators (broken rules) both return them, the webhook puts them into its
// AdmissionReview denial and meshgatectl prints them, so they print exactly like Kubernetes'
// field.Error: `spec.rules[0].backends[1].weight: Invalid value: 1001: must be between 0 and
// 1000, inclusive`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/field_path.h"

namespace meshgate::api {

enum class ErrorType {
  kRequired,
  kInvalid,
  kUnsupported,
  kForbidden,
  kDuplicate,
  kTooMany,
  kTooLong,
  // A reference to something that does not exist (Kubernetes' field.NotFound).
  kNotFound,
  // Not a rule violation: something inside the decoder or validator failed unexpectedly.
  kInternal,
};

// The words Kubernetes prints for each type ("Required value", "Too many", …).
std::string_view errorTypeText(ErrorType type);

struct FieldError {
  ErrorType type = ErrorType::kInvalid;
  std::string field;
  // The offending value already rendered (`"abc"`, `1001`, `"object"`); empty for the types
  // that print no value (Required, Forbidden, TooLong, Internal).
  std::string value;
  std::string detail;

  // `<field>: <type>[: <value>][: <detail>]`, as field.Error.Error() does.
  std::string toString() const;

  bool operator==(const FieldError&) const = default;

  static FieldError required(const FieldPath& path, std::string detail = {});
  static FieldError invalid(const FieldPath& path, const nlohmann::json& value, std::string detail);
  // `supported` are printed quoted and comma-separated, in the order given.
  static FieldError unsupported(const FieldPath& path, const nlohmann::json& value,
                                const std::vector<std::string>& supported);
  static FieldError forbidden(const FieldPath& path, std::string detail);
  static FieldError duplicate(const FieldPath& path, const nlohmann::json& value);
  static FieldError tooMany(const FieldPath& path, std::size_t actual, std::size_t max);
  static FieldError tooLong(const FieldPath& path, std::size_t max);
  static FieldError notFound(const FieldPath& path, const nlohmann::json& value,
                             std::string detail = {});
  static FieldError internal(const FieldPath& path, std::string detail);
};

using ErrorList = std::vector<FieldError>;

// Renders a bad value the way field.Error does: strings quoted (Go %q escaping), numbers and
// booleans bare, objects and arrays as "object" and "array".
std::string renderValue(const nlohmann::json& value);

// Go-style double-quoted string with backslash escapes for quotes and control characters.
std::string quote(std::string_view s);

// One error per line, each with toString(); handy for logs and test failure output.
std::string formatErrors(const ErrorList& errors);

// All errors on one line, joined by "; " — for a status condition message or an Event.
std::string joinErrors(const ErrorList& errors);

}  // namespace meshgate::api
