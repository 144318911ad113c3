// Inotify plus a poll on a Secret volume; see base/secret_volume_watch.h.
#include "base/secret_volume_watch.h"

namespace meshgate {

SecretVolumeWatch::SecretVolumeWatch(boost::asio::io_context& context, std::string directory,
                                     std::set<std::string> fileNames,
                                     std::chrono::milliseconds pollInterval,
                                     std::function<void(std::string_view trigger)> changed)
    : changed_(std::move(changed)), pollInterval_(pollInterval), pollTimer_(context) {
  fileNames.insert("..data");
  watcher_ = std::make_unique<FileWatcher>(context, std::move(directory), std::move(fileNames),
                                           [this] { changed_("file change"); });
  // Without inotify (FileWatcher has said why) the poll alone reloads.
  watcher_->start();
  schedulePoll();
}

void SecretVolumeWatch::schedulePoll() {
  pollTimer_.expires_after(pollInterval_);
  pollTimer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    changed_("poll");
    schedulePoll();
  });
}

}  // namespace meshgate
