// parseStrictJson: nlohmann::json's SAX parser driving a builder that refuses duplicate keys and
// deep nesting (the DOM parser would silently keep the last duplicate).
#include "dataplane/auth/strict_json.h"

#include <utility>
#include <vector>

namespace meshgate::auth {
namespace {

using nlohmann::json;

// Builds the value like nlohmann's own DOM parser; returning false from any event stops the parse.
class StrictBuilder {
 public:
  explicit StrictBuilder(size_t maxDepth) : maxDepth_(maxDepth) {}

  // nlohmann::json_sax<json>
  bool null() { return put(json(nullptr)) != nullptr; }
  bool boolean(bool value) { return put(json(value)) != nullptr; }
  bool number_integer(json::number_integer_t value) { return put(json(value)) != nullptr; }
  bool number_unsigned(json::number_unsigned_t value) { return put(json(value)) != nullptr; }
  bool number_float(json::number_float_t value, const json::string_t&) {
    return put(json(value)) != nullptr;
  }
  bool string(json::string_t& value) { return put(json(std::move(value))) != nullptr; }
  bool binary(json::binary_t&) { return fail("binary values are not JSON"); }
  bool start_object(size_t) { return open(json::value_t::object); }
  bool key(json::string_t& name) {
    json& object = *stack_.back();
    if (object.contains(name)) return fail("duplicate object key");
    slot_ = &object[std::move(name)];
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool start_array(size_t) { return open(json::value_t::array); }
  bool end_array() {
    stack_.pop_back();
    return true;
  }
  bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception&) {
    return fail("invalid JSON at byte " + std::to_string(position));
  }

  json& root() { return root_; }
  const std::string& error() const { return error_; }

 private:
  bool fail(std::string error) {
    if (error_.empty()) error_ = std::move(error);
    return false;
  }

  bool open(json::value_t type) {
    if (stack_.size() >= maxDepth_) return fail("nesting deeper than " + std::to_string(maxDepth_));
    json* container = put(json(type));
    if (container == nullptr) return false;
    stack_.push_back(container);
    return true;
  }

  // Where the new value lands: the root, the end of the open array or the slot of the last key.
  // Pointers on stack_ stay valid: only the innermost open container ever grows.
  json* put(json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(value));
      return &top.back();
    }
    *slot_ = std::move(value);
    return slot_;
  }

  size_t maxDepth_;
  json root_;
  std::vector<json*> stack_;
  json* slot_ = nullptr;
  std::string error_;
};

}  // namespace

Expected<nlohmann::json, std::string> parseStrictJson(std::string_view text, size_t maxDepth) {
  if (text.starts_with("\xEF\xBB\xBF")) return std::string("byte order mark before JSON");
  // nlohmann's lexer takes a NUL byte for the end of input and would ignore what follows it; JSON
  // has no place for a raw NUL (inside strings it must be escaped), so refuse it outright.
  if (text.find('\0') != std::string_view::npos) return std::string("NUL byte in JSON");
  StrictBuilder builder(maxDepth);
  bool parsed = false;
  try {
    parsed = json::sax_parse(text.data(), text.data() + text.size(), &builder,
                             json::input_format_t::json, /*strict=*/true,
                             /*ignore_comments=*/false);
  } catch (const json::exception&) {
    return std::string("invalid JSON");
  }
  if (!parsed) {
    return builder.error().empty() ? std::string("invalid JSON") : builder.error();
  }
  return std::move(builder.root());
}

}  // namespace meshgate::auth
