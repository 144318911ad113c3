// FieldError printing, kept byte-for-byte compatible with Kubernetes' field.Error.
#include "api/field_error.h"

#include <cstdio>
#include <utility>

namespace meshgate::api {

std::string_view errorTypeText(ErrorType type) {
  switch (type) {
    case ErrorType::kRequired:
      return "Required value";
    case ErrorType::kInvalid:
      return "Invalid value";
    case ErrorType::kUnsupported:
      return "Unsupported value";
    case ErrorType::kForbidden:
      return "Forbidden";
    case ErrorType::kDuplicate:
      return "Duplicate value";
    case ErrorType::kTooMany:
      return "Too many";
    case ErrorType::kTooLong:
      return "Too long";
    case ErrorType::kNotFound:
      return "Not found";
    case ErrorType::kInternal:
      return "Internal error";
  }
  return "Unknown error";
}

std::string FieldError::toString() const {
  std::string out;
  if (!field.empty()) {
    out += field;
    out += ": ";
  }
  out += errorTypeText(type);
  if (!value.empty()) {
    out += ": ";
    out += value;
  }
  if (!detail.empty()) {
    out += ": ";
    out += detail;
  }
  return out;
}

FieldError FieldError::required(const FieldPath& path, std::string detail) {
  return {ErrorType::kRequired, path.str(), {}, std::move(detail)};
}

FieldError FieldError::invalid(const FieldPath& path, const nlohmann::json& value,
                               std::string detail) {
  return {ErrorType::kInvalid, path.str(), renderValue(value), std::move(detail)};
}

FieldError FieldError::unsupported(const FieldPath& path, const nlohmann::json& value,
                                   const std::vector<std::string>& supported) {
  std::string detail = "supported values: ";
  for (std::size_t i = 0; i < supported.size(); ++i) {
    if (i > 0) detail += ", ";
    detail += quote(supported[i]);
  }
  return {ErrorType::kUnsupported, path.str(), renderValue(value), std::move(detail)};
}

FieldError FieldError::forbidden(const FieldPath& path, std::string detail) {
  return {ErrorType::kForbidden, path.str(), {}, std::move(detail)};
}

FieldError FieldError::duplicate(const FieldPath& path, const nlohmann::json& value) {
  return {ErrorType::kDuplicate, path.str(), renderValue(value), {}};
}

FieldError FieldError::tooMany(const FieldPath& path, std::size_t actual, std::size_t max) {
  return {ErrorType::kTooMany, path.str(), std::to_string(actual),
          "must have at most " + std::to_string(max) + " items"};
}

FieldError FieldError::tooLong(const FieldPath& path, std::size_t max) {
  return {ErrorType::kTooLong,
          path.str(),
          {},
          "may not be more than " + std::to_string(max) + " bytes"};
}

FieldError FieldError::notFound(const FieldPath& path, const nlohmann::json& value,
                                std::string detail) {
  return {ErrorType::kNotFound, path.str(), renderValue(value), std::move(detail)};
}

FieldError FieldError::internal(const FieldPath& path, std::string detail) {
  return {ErrorType::kInternal, path.str(), {}, std::move(detail)};
}

std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[5];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

std::string renderValue(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::string:
      return quote(value.get_ref<const std::string&>());
    case nlohmann::json::value_t::object:
      return quote("object");
    case nlohmann::json::value_t::array:
      return quote("array");
    case nlohmann::json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::number_integer:
      return std::to_string(value.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return std::to_string(value.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float:
      return value.dump();
    case nlohmann::json::value_t::null:
      return "null";
    default:
      return quote(value.type_name());
  }
}

std::string formatErrors(const ErrorList& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += e.toString();
    out += '\n';
  }
  return out;
}

std::string joinErrors(const ErrorList& errors) {
  std::string out;
  for (const auto& error : errors) {
    if (!out.empty()) out += "; ";
    out += error.toString();
  }
  return out;
}

}  // namespace meshgate::api
