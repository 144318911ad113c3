// SecretVolumeWatch: tells its owner when the files of a mounted Secret (or ConfigMap) volume may
// have changed — by FileWatcher on the named files and the volume's "..data" symlink, and, in case
// a change escapes it (inotify unavailable, a directory that does not exist yet, an event queue
// overflow), by a poll every interval. The callback gets the trigger ("file change" or "poll") and
// runs on the caller's io_context; the owner compares contents itself. Used for the webhook's
// serving certificate and the sidecar's workload identity.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "base/file_watcher.h"

namespace meshgate {

class SecretVolumeWatch {
 public:
  // Starts watching at once. `fileNames` are the files the owner reads ("..data" is added).
  SecretVolumeWatch(boost::asio::io_context& context, std::string directory,
                    std::set<std::string> fileNames, std::chrono::milliseconds pollInterval,
                    std::function<void(std::string_view trigger)> changed);

 private:
  void schedulePoll();

  std::function<void(std::string_view)> changed_;
  std::chrono::milliseconds pollInterval_;
  std::unique_ptr<FileWatcher> watcher_;
  boost::asio::steady_timer pollTimer_;
};

}  // namespace meshgate
