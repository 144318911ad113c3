// JSON → block-style YAML; see cli/yaml_writer.h.
#include "cli/yaml_writer.h"

#include <array>
#include <cctype>
#include <string_view>

namespace meshgate::cli {

namespace {

bool isPlainChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '/' ||
         c == '-';
}

// Words some YAML reader takes for a boolean or null (YAML 1.1 adds yes/no/on/off/y/n).
bool isReservedWord(std::string_view s) {
  static constexpr std::array<std::string_view, 11> kWords = {
      "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf"};
  std::string lower(s);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view word : kWords)
    if (lower == word) return true;
  return false;
}

// Plain only when it starts with a letter or "/" and holds nothing but letters, digits and
// ". _ / -": no number, no indicator, no ": " or " #", no leading or trailing space.
bool canBePlain(std::string_view s) {
  if (s.empty()) return false;
  if (std::isalpha(static_cast<unsigned char>(s.front())) == 0 && s.front() != '/') return false;
  for (char c : s)
    if (!isPlainChar(c)) return false;
  return !isReservedWord(s);
}

std::string doubleQuoted(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string scalarText(const nlohmann::json& value) {
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    return canBePlain(s) ? s : doubleQuoted(s);
  }
  if (value.is_object()) return "{}";  // only called for empty ones
  if (value.is_array()) return "[]";
  return value.dump();  // null, booleans and numbers print as YAML reads them
}

bool isInline(const nlohmann::json& value) {
  return !(value.is_object() || value.is_array()) || value.empty();
}

void writeMapping(const nlohmann::json& mapping, int indent, bool onOpenLine, std::string& out);
void writeSequence(const nlohmann::json& sequence, int indent, std::string& out);

// What follows "key:" — a scalar on the same line, or a block below it.
void writeValueOfKey(const nlohmann::json& value, int indent, std::string& out) {
  if (isInline(value)) {
    out += ' ';
    out += scalarText(value);
    out += '\n';
    return;
  }
  out += '\n';
  if (value.is_object()) {
    writeMapping(value, indent + 2, false, out);
  } else {
    writeSequence(value, indent, out);  // Kubernetes style: "- " at the key's indentation
  }
}

// onOpenLine: the first key goes on a line already started (after "- ").
void writeMapping(const nlohmann::json& mapping, int indent, bool onOpenLine, std::string& out) {
  bool first = true;
  for (const auto& [key, value] : mapping.items()) {
    if (!(first && onOpenLine)) out.append(static_cast<std::size_t>(indent), ' ');
    first = false;
    out += canBePlain(key) ? key : doubleQuoted(key);
    out += ':';
    writeValueOfKey(value, indent, out);
  }
}

void writeSequence(const nlohmann::json& sequence, int indent, std::string& out) {
  for (const auto& item : sequence) {
    out.append(static_cast<std::size_t>(indent), ' ');
    out += '-';
    if (isInline(item)) {
      out += ' ';
      out += scalarText(item);
      out += '\n';
    } else if (item.is_object()) {
      out += ' ';
      writeMapping(item, indent + 2, true, out);
    } else {
      out += '\n';
      writeSequence(item, indent + 2, out);
    }
  }
}

}  // namespace

std::string toYaml(const nlohmann::json& value) {
  std::string out;
  if (isInline(value)) {
    out = scalarText(value) + "\n";
  } else if (value.is_object()) {
    writeMapping(value, 0, false, out);
  } else {
    writeSequence(value, 0, out);
  }
  return out;
}

}  // namespace meshgate::cli
