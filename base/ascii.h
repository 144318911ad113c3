// ASCII case folding for protocol tokens (host names, header names): locale-independent.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace meshgate {

inline char asciiLower(char c) {
  return static_cast<unsigned char>(c - 'A') < 26 ? static_cast<char>(c | 0x20) : c;
}

inline std::string asciiLower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](char c) { return asciiLower(c); });
  return text;
}

// Inline: the proxy compares every header name it forwards.
inline bool asciiEqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  return true;
}

}  // namespace meshgate
