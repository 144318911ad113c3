// WorkloadIdentityWatcher keeps a sidecar's current workload identity (workload_identity.h): it
// reads --cert-dir at start and again whenever the directory changes — an inotify watch
// (base/file_watcher.h; the kubelet swaps the Secret volume's "..data" symlink when the Secret
// first appears and whenever the operator renews the certificate) and, for a change that escapes
// it, a poll. A new set that does not check is refused with an error naming the file and the
// reason, and the last good identity stays; when all three files are gone the identity goes too
// (the Secret was deleted: no MeshService uses the service account any more). ProxyServer owns
// one in sidecar mode; its /ready, /identity and /stats report status().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "base/secret_volume_watch.h"
#include "dataplane/proxy/workload_identity.h"
#include "metrics/registry.h"

namespace meshgate::dp {

// The wall clock certificates are judged by; tests pass one they move by hand.
using WallClock = std::function<std::chrono::system_clock::time_point()>;

struct WorkloadIdentityStatus {
  WorkloadIdentitySharedPtr identity;  // the last good identity; null: none
  bool filesPresent = false;           // the last reading found identity files
  std::string lastRejected;            // why the files read last were refused; empty otherwise
};

/**
 * reload() and watch() run on one thread (the io_context's, the sidecar's main thread); status()
 * may be called from any thread. After watch(), destroy on that thread or once the io_context has
 * stopped, and before the io_context itself.
 */
class WorkloadIdentityWatcher {
 public:
  static constexpr std::chrono::milliseconds kDefaultPollInterval = std::chrono::seconds(10);

  // `reloads`, when set, counts each set of files read that differs from the last one, by result:
  // {"ok"} adopted, {"rejected"} refused. Both series exist from the start.
  WorkloadIdentityWatcher(std::string directory, WallClock clock,
                          metrics::CounterFamily* reloads = nullptr);
  ~WorkloadIdentityWatcher();
  WorkloadIdentityWatcher(const WorkloadIdentityWatcher&) = delete;
  WorkloadIdentityWatcher& operator=(const WorkloadIdentityWatcher&) = delete;

  /**
   * Reads the directory and adopts or refuses what it holds; logs when the outcome changed
   * (`trigger` says what caused the reading). Files identical to the identity held are not checked
   * again: an identity that expires in place stays held, and /ready reports it expired. Files
   * refused before are checked again quietly, so a set refused as not yet valid is adopted once
   * it is.
   */
  void reload(std::string_view trigger);

  // Calls reload() on `context`'s thread when the directory changes (inotify; without it, or for a
  // directory that does not exist yet, the poll alone) and every pollInterval. Call at most once.
  void watch(boost::asio::io_context& context,
             std::chrono::milliseconds pollInterval = kDefaultPollInterval);

  WorkloadIdentityStatus status() const;
  // Called on the reading thread after the identity held changed (adopted or dropped). Set it
  // before the first reload().
  void setOnChange(std::function<void()> onChange) { onChange_ = std::move(onChange); }
  const std::string& directory() const { return directory_; }

 private:
  void adopt(WorkloadIdentity identity, std::string digest, std::string_view trigger);
  void refuse(const std::string& reason, std::string digest, std::string_view trigger);
  void forget(std::string_view trigger);

  const std::string directory_;
  const WallClock clock_;
  metrics::Counter* reloadsOk_ = nullptr;
  metrics::Counter* reloadsRejected_ = nullptr;

  // The reading thread's own: digests of the files adopted and refused last ("" when none).
  std::string adoptedDigest_;
  std::string refusedDigest_;
  bool firstReading_ = true;

  mutable std::mutex mutex_;
  WorkloadIdentityStatus status_;  // guarded by mutex_

  std::unique_ptr<SecretVolumeWatch> watch_;
  std::function<void()> onChange_;
};

}  // namespace meshgate::dp
