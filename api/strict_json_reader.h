// Readers for the strict JSON objects of the proxy config (proxy_config_codec.cc and
// proxy_config_mesh_codec.cc), header-only: an object's unknown fields are errors
// (`<path>.<name>: Invalid value: …: unknown field (known fields: …)`), a member of the wrong type
// is an error with its path, null counts as absent, and every error goes to the caller's ErrorList
// so that one decode reports all of them.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/duration.h"
#include "api/field_error.h"
#include "api/json_object_codec.h"
#include "api/value_rules.h"

namespace meshgate::api::strict_json {

using nlohmann::json;
using FieldNames = std::initializer_list<std::string_view>;

// `<path>.<name>: Invalid value: …: unknown field (known fields: a, b, c)` for every member of an
// object that is not in `known`. Non-objects are left to the caller's type check.
inline void rejectUnknownFields(const json& j, const FieldPath& path, FieldNames known,
                                ErrorList& errors) {
  if (!j.is_object()) return;
  for (const auto& [name, value] : j.items()) {
    bool isKnown = false;
    for (const std::string_view k : known)
      isKnown = isKnown || k == name;
    if (isKnown) continue;
    std::string detail = "unknown field (known fields: ";
    bool first = true;
    for (const std::string_view k : known) {
      if (!first) detail += ", ";
      detail += k;
      first = false;
    }
    detail += ")";
    errors.push_back(FieldError::invalid(path.child(name), value, std::move(detail)));
  }
}

// One proxy-specific JSON object: reports its unknown fields up front, then hands out its known
// ones. Constructed on a non-object it records `expected an object` once and finds nothing.
class StrictObject {
 public:
  StrictObject(const json& j, const FieldPath& path, ErrorList& errors, FieldNames known)
      : path_(path), errors_(errors) {
    if (!j.is_object()) {
      errors_.push_back(FieldError::invalid(path_, j, "expected an object"));
      return;
    }
    object_ = &j;
    rejectUnknownFields(j, path, known, errors);
  }

  // nullptr when absent or null: null counts as absent, as in the api codecs.
  const json* find(std::string_view name) const {
    if (object_ == nullptr) return nullptr;
    const auto it = object_->find(name);
    if (it == object_->end() || it->is_null()) return nullptr;
    return &*it;
  }

  FieldPath path(std::string_view name) const { return path_.child(name); }
  ErrorList& errors() const { return errors_; }

 private:
  const json* object_ = nullptr;
  FieldPath path_;
  ErrorList& errors_;
};

inline void readString(const StrictObject& o, std::string_view name, std::string& out) {
  if (const json* j = o.find(name)) api::decodeInto(*j, o.path(name), o.errors(), out);
}

inline void readOptionalString(const StrictObject& o, std::string_view name,
                               std::optional<std::string>& out) {
  if (const json* j = o.find(name)) {
    std::string value;
    api::decodeInto(*j, o.path(name), o.errors(), value);
    out = std::move(value);
  }
}

inline void readBool(const StrictObject& o, std::string_view name, bool& out) {
  if (const json* j = o.find(name)) api::decodeInto(*j, o.path(name), o.errors(), out);
}

inline void readLabels(const StrictObject& o, std::string_view name,
                       std::map<std::string, std::string>& out) {
  if (const json* j = o.find(name)) api::decodeInto(*j, o.path(name), o.errors(), out);
}

// Reads an integer into a narrower unsigned field. A value the field cannot hold breaks the
// field's rule (`ruleMin`..`ruleMax`, which the validator checks for values it can hold), so it
// gets the validator's exact message.
template <typename T>
inline bool decodeInteger(const json& j, const FieldPath& path, ErrorList& errors,
                          std::int64_t ruleMin, std::int64_t ruleMax, T& out) {
  std::int64_t value = 0;
  const std::size_t before = errors.size();
  api::decodeInto(j, path, errors, value);
  if (errors.size() != before) return false;
  const bool fits =
      value >= 0 && static_cast<std::uint64_t>(value) <= std::numeric_limits<T>::max();
  if (!fits) {
    api::validateRange(value, ruleMin, ruleMax, path, errors);
    if (errors.size() == before) {
      errors.push_back(FieldError::invalid(path, value, "out of range"));
    }
    return false;
  }
  out = static_cast<T>(value);
  return true;
}

template <typename T>
inline void readInteger(const StrictObject& o, std::string_view name, std::int64_t ruleMin,
                        std::int64_t ruleMax, T& out) {
  if (const json* j = o.find(name))
    decodeInteger(*j, o.path(name), o.errors(), ruleMin, ruleMax, out);
}

template <typename T>
inline void readOptionalInteger(const StrictObject& o, std::string_view name, std::int64_t ruleMin,
                                std::int64_t ruleMax, std::optional<T>& out) {
  if (const json* j = o.find(name)) {
    T value{};
    if (decodeInteger(*j, o.path(name), o.errors(), ruleMin, ruleMax, value)) out = value;
  }
}

inline bool decodeDuration(const json& j, const FieldPath& path, ErrorList& errors, Millis& out) {
  std::string text;
  const std::size_t before = errors.size();
  api::decodeInto(j, path, errors, text);
  if (errors.size() != before) return false;
  const auto parsed = api::Duration::parse(text);
  if (!parsed) {
    errors.push_back(FieldError::invalid(path, text, std::string(api::kDurationMessage)));
    return false;
  }
  out = parsed->value();
  return true;
}

inline void readDuration(const StrictObject& o, std::string_view name, Millis& out) {
  if (const json* j = o.find(name)) decodeDuration(*j, o.path(name), o.errors(), out);
}

inline void readOptionalDuration(const StrictObject& o, std::string_view name,
                                 std::optional<Millis>& out) {
  if (const json* j = o.find(name)) {
    Millis value{};
    if (decodeDuration(*j, o.path(name), o.errors(), value)) out = value;
  }
}

template <typename T>
using ElementDecoder = std::function<void(const json&, const FieldPath&, ErrorList&, T&)>;

template <typename T>
inline void readList(const StrictObject& o, std::string_view name, std::vector<T>& out,
                     const ElementDecoder<T>& decode) {
  const json* j = o.find(name);
  if (j == nullptr) return;
  const FieldPath path = o.path(name);
  if (!j->is_array()) {
    o.errors().push_back(FieldError::invalid(path, *j, "expected an array"));
    return;
  }
  out.assign(j->size(), T{});
  for (std::size_t i = 0; i < j->size(); ++i)
    decode((*j)[i], path.index(i), o.errors(), out[i]);
}

// Reads an optional api object with `decode`.
template <typename T>
inline void readOptionalApi(const StrictObject& o, std::string_view name, std::optional<T>& out,
                            void (*decode)(const json&, const FieldPath&, ErrorList&, T&)) {
  if (const json* j = o.find(name)) {
    T value{};
    decode(*j, o.path(name), o.errors(), value);
    out = std::move(value);
  }
}

}  // namespace meshgate::api::strict_json
