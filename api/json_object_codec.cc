// Scalar and map decoders plus the object reader; see api/json_object_codec.h.
#include "api/json_object_codec.h"

#include <limits>

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                std::string& out) {
  if (!j.is_string()) {
    errors.push_back(FieldError::invalid(path, j, "expected a string"));
    return;
  }
  out = j.get_ref<const std::string&>();
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                std::int64_t& out) {
  if (j.is_number_unsigned()) {
    const auto v = j.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      errors.push_back(FieldError::invalid(path, j, "must fit in a 64-bit signed integer"));
      return;
    }
    out = static_cast<std::int64_t>(v);
    return;
  }
  if (!j.is_number_integer()) {
    errors.push_back(FieldError::invalid(path, j, "expected an integer"));
    return;
  }
  out = j.get<std::int64_t>();
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, bool& out) {
  if (!j.is_boolean()) {
    errors.push_back(FieldError::invalid(path, j, "expected a boolean"));
    return;
  }
  out = j.get<bool>();
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                std::map<std::string, std::string>& out) {
  if (!j.is_object()) {
    errors.push_back(FieldError::invalid(path, j, "expected an object"));
    return;
  }
  out.clear();
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) {
      errors.push_back(FieldError::invalid(path.key(key), value, "expected a string"));
      continue;
    }
    out.emplace(key, value.get_ref<const std::string&>());
  }
}

ObjectReader::ObjectReader(const nlohmann::json& j, const FieldPath& path, ErrorList& errors)
    : path_(path), errors_(errors) {
  if (!j.is_object()) {
    errors_.push_back(FieldError::invalid(path_, j, "expected an object"));
    return;
  }
  object_ = &j;
}

namespace {

void checkTypeField(const nlohmann::json& j, const char* name, std::string_view expected,
                    ErrorList& errors) {
  const auto it = j.find(name);
  if (it == j.end() || it->is_null()) return;
  const FieldPath path(name);
  if (!it->is_string()) {
    errors.push_back(FieldError::invalid(path, *it, "expected a string"));
    return;
  }
  if (it->get_ref<const std::string&>() != expected) {
    errors.push_back(FieldError::unsupported(path, *it, {std::string(expected)}));
  }
}

}  // namespace

void checkTypeMeta(const nlohmann::json& j, std::string_view apiVersion, std::string_view kind,
                   ErrorList& errors) {
  if (!j.is_object()) return;
  checkTypeField(j, "apiVersion", apiVersion, errors);
  checkTypeField(j, "kind", kind, errors);
}

}  // namespace meshgate::api
