// ASCII case folding for protocol tokens (host names, header names): locale-independent.
#pragma once

#include <algorithm>
#include <string>

namespace meshgate {

inline std::string asciiLower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : static_cast<char>(c);
  });
  return text;
}

}  // namespace meshgate
