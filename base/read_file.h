// Reads a whole file into a string — for configuration, certificates and keys, read once at
// load time. On failure, nullopt and `error` = "cannot read: <reason>" (the caller prefixes the
// path or field).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

namespace meshgate {

inline std::optional<std::string> readFileText(const std::string& path, std::string& error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    error = std::string("cannot read: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  char buffer[8192];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0)
    text.append(buffer, n);
  const bool failed = std::ferror(file) != 0;
  const int readErrno = errno;
  std::fclose(file);
  if (failed) {
    error = std::string("cannot read: ") + std::strerror(readErrno);
    return std::nullopt;
  }
  return text;
}

}  // namespace meshgate
