// YAML to JSON conversion with yaml-cpp; see api/yaml_loader.h.
#include "api/yaml_loader.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <system_error>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace meshgate::api {
namespace {

// Kubernetes objects nest a dozen levels at most; the limits stop self-referencing aliases and
// "billion laughs" alias expansion before they exhaust the stack or memory.
constexpr int kMaxDepth = 128;
constexpr std::size_t kMaxNodes = 1000000;

constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";

std::string position(std::string_view source, const YAML::Mark& mark) {
  std::string out(source);
  if (mark.line >= 0) {
    out += ':' + std::to_string(mark.line + 1) + ':' + std::to_string(mark.column + 1);
  }
  return out;
}

bool isOneOf(std::string_view s, std::initializer_list<std::string_view> options) {
  for (auto o : options) {
    if (s == o) return true;
  }
  return false;
}

bool allOf(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

bool isDecimal(char c) {
  return c >= '0' && c <= '9';
}
bool isOctal(char c) {
  return c >= '0' && c <= '7';
}
bool isHex(char c) {
  return isDecimal(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Integer in `digits` (no sign) and base, as a JSON integer; falls back to a float when it does
// not fit 64 bits, as JSON parsers do.
nlohmann::json parseInteger(std::string_view digits, bool negative, int base) {
  std::uint64_t magnitude = 0;
  const auto [ptr, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec == std::errc() && ptr == digits.data() + digits.size()) {
    if (!negative) return magnitude;
    if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1) {
      return static_cast<std::int64_t>(0 - magnitude);
    }
  }
  double value = 0;
  for (char c : digits) {
    value = value * base + (isDecimal(c) ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return negative ? -value : value;
}

bool isFloatSyntax(std::string_view s) {
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t intDigits = 0;
  while (i < s.size() && isDecimal(s[i]))
    ++i, ++intDigits;
  std::size_t fracDigits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && isDecimal(s[i]))
      ++i, ++fracDigits;
  }
  if (intDigits == 0 && fracDigits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t expDigits = 0;
    while (i < s.size() && isDecimal(s[i]))
      ++i, ++expDigits;
    if (expDigits == 0) return false;
  }
  return i == s.size();
}

// An integer too large even for a double (over 308 digits) has no JSON form: like .inf, it stays
// the string it was written as.
nlohmann::json finiteOr(nlohmann::json number, const std::string& s) {
  if (number.is_number_float() && !std::isfinite(number.get<double>())) return s;
  return number;
}

// Resolves a plain (unquoted, untagged) scalar with the YAML 1.2 core schema.
nlohmann::json resolvePlain(const std::string& s) {
  if (isOneOf(s, {"true", "True", "TRUE"})) return true;
  if (isOneOf(s, {"false", "False", "FALSE"})) return false;
  if (isOneOf(s, {"null", "Null", "NULL", "~", ""})) return nullptr;
  std::string_view v = s;
  if (v.size() > 2 && v.substr(0, 2) == "0x" && allOf(v.substr(2), isHex)) {
    return finiteOr(parseInteger(v.substr(2), false, 16), s);
  }
  if (v.size() > 2 && v.substr(0, 2) == "0o" && allOf(v.substr(2), isOctal)) {
    return finiteOr(parseInteger(v.substr(2), false, 8), s);
  }
  const bool negative = !v.empty() && v[0] == '-';
  std::string_view unsigned_part = (!v.empty() && (v[0] == '-' || v[0] == '+')) ? v.substr(1) : v;
  if (allOf(unsigned_part, isDecimal))
    return finiteOr(parseInteger(unsigned_part, negative, 10), s);
  if (isFloatSyntax(v)) {
    double d = 0;
    const auto [ptr, ec] =
        std::from_chars(v.data() + (v[0] == '+' ? 1 : 0), v.data() + v.size(), d);
    if (ec == std::errc() && ptr == v.data() + v.size()) return d;
  }
  // .inf and .nan have no JSON form; like every other plain scalar they stay strings.
  return s;
}

// yaml-cpp 0.7 takes a token that cannot start a node where a document should start (a ',' outside
// a flow collection, as in ",a") for an empty document without consuming it, so YAML::LoadAll
// adds empty documents until memory runs out. This parses the stream as events only and returns
// where that happens: the place a document starts at twice in a row.
class DocumentStarts : public YAML::EventHandler {
 public:
  YAML::Mark start;

  // YAML::EventHandler
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

std::optional<YAML::Mark> findUnparsableToken(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  std::optional<YAML::Mark> previous;
  while (parser.HandleNextDocument(starts)) {
    if (previous && previous->pos == starts.start.pos) return previous;
    previous = starts.start;
  }
  return std::nullopt;
}

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF. yaml-cpp passes bytes of a
// UTF-8 stream through unchecked, and a JSON document must hold only valid UTF-8 (nlohmann::json
// throws when it dumps anything else).
bool isValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto byte = static_cast<unsigned char>(s[i]);
    if (byte < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    char32_t code = 0;
    char32_t min = 0;
    if ((byte & 0xE0) == 0xC0) {
      length = 2, code = byte & 0x1F, min = 0x80;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3, code = byte & 0x0F, min = 0x800;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4, code = byte & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i < length) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

class Converter {
 public:
  explicit Converter(std::string_view source) : source_(source) {}

  bool convert(const YAML::Node& node, nlohmann::json& out, int depth) {
    if (depth > kMaxDepth) return fail(node.Mark(), "document nests too deeply");
    if (++nodes_ > kMaxNodes) return fail(node.Mark(), "document expands to too many nodes");
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out = nullptr;
        return true;
      case YAML::NodeType::Scalar:
        if (!isValidUtf8(node.Scalar())) return fail(node.Mark(), "invalid UTF-8");
        out = convertScalar(node);
        return true;
      case YAML::NodeType::Sequence: {
        out = nlohmann::json::array();
        for (const auto& item : node) {
          nlohmann::json value;
          if (!convert(item, value, depth + 1)) return false;
          out.push_back(std::move(value));
        }
        return true;
      }
      case YAML::NodeType::Map: {
        out = nlohmann::json::object();
        for (const auto& entry : node) {
          std::string key;
          if (entry.first.IsScalar()) {
            key = entry.first.Scalar();
            if (!isValidUtf8(key)) return fail(entry.first.Mark(), "invalid UTF-8");
          } else if (entry.first.IsNull()) {
            key = "null";
          } else {
            return fail(entry.first.Mark(), "mapping keys must be scalars");
          }
          if (out.contains(key)) return fail(entry.first.Mark(), "duplicate key \"" + key + "\"");
          nlohmann::json value;
          if (!convert(entry.second, value, depth + 1)) return false;
          out[key] = std::move(value);
        }
        return true;
      }
    }
    return fail(node.Mark(), "unknown node type");
  }

  const std::string& error() const { return error_; }

 private:
  static nlohmann::json convertScalar(const YAML::Node& node) {
    const std::string& tag = node.Tag();
    // "!" marks quoted and block scalars: always strings. "?" marks plain ones.
    if (tag == "!" || tag == kStrTag) return node.Scalar();
    return resolvePlain(node.Scalar());
  }

  bool fail(const YAML::Mark& mark, const std::string& message) {
    error_ = position(source_, mark) + ": " + message;
    return false;
  }

  std::string source_;
  std::string error_;
  std::size_t nodes_ = 0;
};

bool looksLikeJson(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

}  // namespace

YamlLoadResult loadYaml(std::string_view text, std::string_view source) {
  YamlLoadResult result;
  try {
    // Plain JSON is parsed as JSON: it is what kubectl -o json and the apiserver produce, and
    // JSON's number and escape rules are then applied exactly.
    if (looksLikeJson(text)) {
      auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (!j.is_discarded()) {
        if (!j.is_null()) result.documents.push_back(std::move(j));
        return result;
      }
    }
    // YAML allows no NUL in a stream, and yaml-cpp would take one for the end of the input and
    // quietly drop what follows.
    if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
      YAML::Mark mark;
      mark.line = static_cast<int>(std::count(text.begin(), text.begin() + nul, '\n'));
      const size_t lineStart = text.rfind('\n', nul);
      mark.column =
          static_cast<int>(lineStart == std::string_view::npos ? nul : nul - lineStart - 1);
      result.error = position(source, mark) + ": a NUL byte, which YAML does not allow";
      return result;
    }
    const std::string yamlText(text);
    if (const auto unparsable = findUnparsableToken(yamlText)) {
      result.error = position(source, *unparsable) + ": unexpected token: no node starts here";
      return result;
    }
    const std::vector<YAML::Node> nodes = YAML::LoadAll(yamlText);
    Converter converter(source);
    for (const auto& node : nodes) {
      if (node.IsNull()) continue;
      nlohmann::json doc;
      if (!converter.convert(node, doc, 0)) {
        result.documents.clear();
        result.error = converter.error();
        return result;
      }
      // A document that is only a tag or an anchor on nothing is as empty as an empty one.
      if (doc.is_null()) continue;
      result.documents.push_back(std::move(doc));
    }
  } catch (const YAML::Exception& e) {
    result.documents.clear();
    result.error = position(source, e.mark) + ": " + e.msg;
  } catch (const std::exception& e) {
    result.documents.clear();
    result.error = std::string(source) + ": " + e.what();
  }
  return result;
}

YamlLoadResult loadYamlFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    YamlLoadResult result;
    result.error = path + ": is a directory";
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    YamlLoadResult result;
    result.error = path + ": " + std::strerror(errno);
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    YamlLoadResult result;
    result.error = path + ": read failed";
    return result;
  }
  return loadYaml(text.str(), path);
}

}  // namespace meshgate::api
