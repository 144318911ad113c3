// Building blocks of the kind codecs (api/*_codec.cc): decodeInto() overloads that read one JSON
// value into a C++ field and record a FieldError on a wrong type instead of throwing, an
// ObjectReader that walks an object's known fields (unknown ones are ignored, null counts as
// absent), and an ObjectWriter that leaves absent optionals out, as Go's `omitempty` does.
// Struct codecs add their own decodeInto()/to_json() overloads in namespace meshgate::api, where
// the templates below find them by argument-dependent lookup.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/decode_result.h"
#include "api/field_error.h"
#include "api/field_path.h"

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                std::string& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                std::int64_t& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, bool& out);
// A map of strings (labels, selectors); entry errors name `path[key]`.
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                std::map<std::string, std::string>& out);

template <typename T>
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                std::vector<T>& out) {
  if (!j.is_array()) {
    errors.push_back(FieldError::invalid(path, j, "expected an array"));
    return;
  }
  out.clear();
  out.resize(j.size());
  for (std::size_t i = 0; i < j.size(); ++i)
    decodeInto(j[i], path.index(i), errors, out[i]);
}

template <typename T>
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                std::optional<T>& out) {
  T value{};
  decodeInto(j, path, errors, value);
  out = std::move(value);
}

// Reads the fields of one JSON object. Constructed on a non-object, it records
// `<path>: Invalid value: …: expected an object` once and every read() is then a no-op.
class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& j, const FieldPath& path, ErrorList& errors);

  // Absent and null fields leave `out` untouched.
  template <typename T>
  void read(const char* name, T& out) {
    if (object_ == nullptr) return;
    const auto it = object_->find(name);
    if (it == object_->end() || it->is_null()) return;
    decodeInto(*it, path_.child(name), errors_, out);
  }

 private:
  const nlohmann::json* object_ = nullptr;
  FieldPath path_;
  ErrorList& errors_;
};

// Checks the apiVersion and kind of a top-level object; absent ones are accepted because the
// caller already chose the kind (e.g. from an AdmissionReview's resource).
void checkTypeMeta(const nlohmann::json& j, std::string_view apiVersion, std::string_view kind,
                   ErrorList& errors);

// Decodes a whole MeshService or ApiRoute (TypeMeta, metadata, spec, status) without throwing:
// every wrong type becomes a field error. Instantiated where T's codec overloads are visible.
template <typename T>
DecodeResult<T> decodeTopLevel(const nlohmann::json& j) {
  DecodeResult<T> result;
  try {
    T out;
    checkTypeMeta(j, T::kApiVersion, T::kKind, result.errors);
    ObjectReader r(j, FieldPath(), result.errors);
    r.read("metadata", out.metadata);
    r.read("spec", out.spec);
    r.read("status", out.status);
    if (result.errors.empty()) result.object = std::move(out);
  } catch (const std::exception& e) {
    result.object.reset();
    result.errors = {FieldError::internal(FieldPath(), e.what())};
  }
  return result;
}

class ObjectWriter {
 public:
  // Written even when empty: required fields, as Go encodes fields without `omitempty`.
  template <typename T>
  ObjectWriter& always(const char* name, const T& value) {
    nlohmann::json encoded = value;
    json_[name] = std::move(encoded);
    return *this;
  }

  template <typename T>
  ObjectWriter& optional(const char* name, const std::optional<T>& value) {
    if (value.has_value()) always(name, *value);
    return *this;
  }

  // Strings, lists and maps: left out when empty.
  template <typename T>
  ObjectWriter& nonEmpty(const char* name, const T& value) {
    if (!value.empty()) always(name, value);
    return *this;
  }

  ObjectWriter& nonZero(const char* name, std::int64_t value) {
    if (value != 0) json_[name] = value;
    return *this;
  }

  nlohmann::json take() { return std::move(json_); }

 private:
  nlohmann::json json_ = nlohmann::json::object();
};

// Encodes a whole MeshService or ApiRoute the way the apiserver shows it: status only when set.
template <typename T>
nlohmann::json encodeTopLevel(const T& in) {
  ObjectWriter w;
  w.always("apiVersion", std::string(T::kApiVersion))
      .always("kind", std::string(T::kKind))
      .always("metadata", in.metadata)
      .always("spec", in.spec);
  if (in.status != decltype(in.status){}) w.always("status", in.status);
  return w.take();
}

}  // namespace meshgate::api
