// inotify watch of the config file's directory.
#include "dataplane/proxy/config_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>

#include <spdlog/spdlog.h>

namespace meshgate::dp {

ConfigWatcher::ConfigWatcher(boost::asio::io_context& context, std::string path,
                             std::function<void()> changed)
    : changed_(std::move(changed)), descriptor_(context), settle_(context) {
  const std::filesystem::path file(path);
  directory_ = file.has_parent_path() ? file.parent_path().string() : ".";
  fileName_ = file.filename().string();
}

ConfigWatcher::~ConfigWatcher() {
  boost::system::error_code ignored;
  descriptor_.close(ignored);
}

bool ConfigWatcher::start() {
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    spdlog::warn("config watch: inotify unavailable ({}); reload with SIGHUP", errno);
    return false;
  }
  if (inotify_add_watch(fd, directory_.c_str(),
                        IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE) < 0) {
    spdlog::warn("config watch: cannot watch {} ({}); reload with SIGHUP", directory_, errno);
    ::close(fd);
    return false;
  }
  descriptor_.assign(fd);
  readEvents();
  return true;
}

void ConfigWatcher::readEvents() {
  descriptor_.async_read_some(
      boost::asio::buffer(buffer_), [this](const boost::system::error_code& ec, size_t n) {
        if (ec) return;
        bool relevant = false;
        for (size_t offset = 0; offset + sizeof(inotify_event) <= n;) {
          const auto* event = reinterpret_cast<const inotify_event*>(buffer_.data() + offset);
          // Kubernetes volumes swap a "..data" symlink; any change in the directory counts then.
          const std::string name = event->len ? std::string(event->name) : std::string();
          if (name == fileName_ || name.rfind("..", 0) == 0) relevant = true;
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

}  // namespace meshgate::dp
