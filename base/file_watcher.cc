// inotify watch of a directory; see base/file_watcher.h.
#include "base/file_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>

#include <spdlog/spdlog.h>

namespace meshgate {

FileWatcher::FileWatcher(boost::asio::io_context& context, const std::string& path,
                         std::function<void()> changed)
    : FileWatcher(context,
                  std::filesystem::path(path).has_parent_path()
                      ? std::filesystem::path(path).parent_path().string()
                      : std::string("."),
                  {std::filesystem::path(path).filename().string()}, std::move(changed)) {}

FileWatcher::FileWatcher(boost::asio::io_context& context, std::string directory,
                         std::set<std::string> fileNames, std::function<void()> changed)
    : directory_(std::move(directory)),
      fileNames_(std::move(fileNames)),
      changed_(std::move(changed)),
      descriptor_(context),
      settle_(context) {}

FileWatcher::~FileWatcher() {
  boost::system::error_code ignored;
  descriptor_.close(ignored);
}

bool FileWatcher::start() {
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    spdlog::warn("file watch: inotify unavailable ({}); reloads only on request", errno);
    return false;
  }
  if (inotify_add_watch(fd, directory_.c_str(),
                        IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE) < 0) {
    spdlog::warn("file watch: cannot watch {} ({}); reloads only on request", directory_, errno);
    ::close(fd);
    return false;
  }
  descriptor_.assign(fd);
  readEvents();
  return true;
}

void FileWatcher::readEvents() {
  descriptor_.async_read_some(
      boost::asio::buffer(buffer_), [this](const boost::system::error_code& ec, size_t n) {
        if (ec) return;
        bool relevant = false;
        for (size_t offset = 0; offset + sizeof(inotify_event) <= n;) {
          const auto* event = reinterpret_cast<const inotify_event*>(buffer_.data() + offset);
          // Kubernetes volumes swap a "..data" symlink; any change in the directory counts then.
          const std::string name = event->len ? std::string(event->name) : std::string();
          if (fileNames_.count(name) > 0 || name.rfind("..", 0) == 0) relevant = true;
          offset += sizeof(inotify_event) + event->len;
        }
        if (relevant) {
          settle_.expires_after(std::chrono::milliseconds(100));
          settle_.async_wait([this](const boost::system::error_code& wait) {
            if (!wait) changed_();
          });
        }
        readEvents();
      });
}

}  // namespace meshgate
