// Atomic, private writes and tolerant reads of the persisted snapshot; see persisted_snapshot.h.
#include "dataplane/proxy/persisted_snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/read_file.h"

namespace meshgate::dp {

namespace {

std::string failure(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

Expected<Ok, std::string> writePersistedSnapshot(const std::string& path, std::string_view text) {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return failure("cannot create", temporary);
  // An older PATH.tmp may have been created with other permissions: O_CREAT does not change them.
  if (::fchmod(fd, 0600) != 0) {
    const std::string error = failure("cannot chmod", temporary);
    ::close(fd);
    return error;
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string error = failure("cannot write", temporary);
      ::close(fd);
      return error;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string error = failure("cannot sync", temporary);
    ::close(fd);
    return error;
  }
  if (::close(fd) != 0) return failure("cannot close", temporary);
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return failure("cannot rename to", path);
  return Ok{};
}

Expected<std::optional<nlohmann::json>, std::string> readPersistedSnapshot(
    const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 && errno == ENOENT) return std::optional<nlohmann::json>();
  std::string error;
  const auto text = readFileText(path, error);
  if (!text) return path + ": " + error;
  nlohmann::json document = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return path + ": not a JSON document";
  if (!document.is_object()) return path + ": not a JSON object";
  return std::optional<nlohmann::json>(std::move(document));
}

}  // namespace meshgate::dp
