// FileWatcher: tells its owner when files it reads may have changed — the proxy's config file, the
// webhook's config file and its serving certificate — by inotify on their directory (editors and
// Kubernetes ConfigMap/Secret volumes replace a file by rename or swap a "..data" symlink, which a
// watch on the file itself would miss). Events are coalesced: one callback per burst, 100 ms after
// its last event. Runs on the caller's io_context; the callback runs there too.
#pragma once

#include <array>
#include <functional>
#include <set>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace meshgate {

class FileWatcher {
 public:
  // Watches one file.
  FileWatcher(boost::asio::io_context& context, const std::string& path,
              std::function<void()> changed);
  // Watches the named files of one directory (e.g. tls.crt and tls.key).
  FileWatcher(boost::asio::io_context& context, std::string directory,
              std::set<std::string> fileNames, std::function<void()> changed);
  ~FileWatcher();
  // False (and a warning) when inotify is unavailable; the caller then relies on its other
  // reload trigger (SIGHUP, a poll).
  bool start();

 private:
  void readEvents();

  std::string directory_;
  std::set<std::string> fileNames_;
  std::function<void()> changed_;
  boost::asio::posix::stream_descriptor descriptor_;
  boost::asio::steady_timer settle_;
  std::array<char, 4096> buffer_{};
};

}  // namespace meshgate
