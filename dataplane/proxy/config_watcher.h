// ConfigWatcher: tells the ProxyServer when its config file may have changed, by inotify on the
// file's directory (editors and Kubernetes ConfigMap volumes replace a file by rename, which a
// watch on the file itself would miss). Events are coalesced: one callback per burst, 100 ms after
// its last event. Runs on the main thread's io_context. SIGHUP is handled by the server itself.
#pragma once

#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace meshgate::dp {

class ConfigWatcher {
 public:
  ConfigWatcher(boost::asio::io_context& context, std::string path, std::function<void()> changed);
  ~ConfigWatcher();
  // False (and a warning) when inotify is unavailable; SIGHUP still reloads.
  bool start();

 private:
  void readEvents();

  std::string directory_;
  std::string fileName_;
  std::function<void()> changed_;
  boost::asio::posix::stream_descriptor descriptor_;
  boost::asio::steady_timer settle_;
  std::array<char, 4096> buffer_{};
};

}  // namespace meshgate::dp
