// Reloading a sidecar's workload identity when its directory changes; see
// workload_identity_watcher.h.
#include "dataplane/proxy/workload_identity_watcher.h"

#include <set>
#include <utility>

#include <spdlog/spdlog.h>

#include "dataplane/proxy/rfc3339_time.h"

namespace meshgate::dp {

namespace {

// What the sidecar goes on with after a refusal, for the log.
std::string stillHolding(const WorkloadIdentitySharedPtr& identity) {
  if (!identity) return "no workload identity";
  return "still holding " + identity->spiffeId + " (serial " + identity->serialHex + ", notAfter " +
         rfc3339(identity->notAfter) + ")";
}

}  // namespace

WorkloadIdentityWatcher::WorkloadIdentityWatcher(std::string directory, WallClock clock,
                                                 metrics::CounterFamily* reloads)
    : directory_(std::move(directory)), clock_(std::move(clock)) {
  if (reloads) {
    reloadsOk_ = &reloads->with({"ok"});
    reloadsRejected_ = &reloads->with({"rejected"});
  }
}

WorkloadIdentityWatcher::~WorkloadIdentityWatcher() = default;

WorkloadIdentityStatus WorkloadIdentityWatcher::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void WorkloadIdentityWatcher::reload(std::string_view trigger) {
  auto files = readWorkloadIdentityFiles(directory_);
  const bool firstReading = std::exchange(firstReading_, false);
  if (!files) {
    // One file missing or unreadable: a distinct state of its own, refused once, not per poll.
    refuse(files.error(), "unreadable: " + files.error(), trigger);
    return;
  }
  if (!files->has_value()) {
    if (firstReading)
      spdlog::info(
          "no workload identity in {} yet (no MeshService uses this service account); watching "
          "for it",
          directory_);
    forget(trigger);
    return;
  }
  std::string digest = (*files)->digest();
  if (digest == adoptedDigest_) {
    // Back to the files of the identity held (a refused set was rolled back), or nothing new.
    refusedDigest_.clear();
    std::lock_guard lock(mutex_);
    status_.lastRejected.clear();
    status_.filesPresent = true;
    return;
  }
  auto identity = checkWorkloadIdentity(**files, directory_, clock_());
  if (!identity) {
    refuse(identity.error(), std::move(digest), trigger);
    return;
  }
  adopt(std::move(*identity), std::move(digest), trigger);
}

void WorkloadIdentityWatcher::adopt(WorkloadIdentity identity, std::string digest,
                                    std::string_view trigger) {
  auto adopted = std::make_shared<const WorkloadIdentity>(std::move(identity));
  adoptedDigest_ = std::move(digest);
  refusedDigest_.clear();
  // Counted before it shows, so that whoever sees the new status sees it counted.
  if (reloadsOk_) reloadsOk_->inc();
  {
    std::lock_guard lock(mutex_);
    status_ = {.identity = adopted, .filesPresent = true, .lastRejected = {}};
  }
  spdlog::info("workload identity {} loaded from {} ({}): serial {}, valid {} to {}",
               adopted->spiffeId, directory_, trigger, adopted->serialHex,
               rfc3339(adopted->notBefore), rfc3339(adopted->notAfter));
  if (onChange_) onChange_();
}

void WorkloadIdentityWatcher::refuse(const std::string& reason, std::string digest,
                                     std::string_view trigger) {
  WorkloadIdentitySharedPtr held;
  {
    std::lock_guard lock(mutex_);
    // The same files refused for the same reason again (the poll): nothing new to say.
    if (digest == refusedDigest_ && reason == status_.lastRejected) return;
    if (reloadsRejected_) reloadsRejected_->inc();
    status_.filesPresent = true;
    status_.lastRejected = reason;
    held = status_.identity;
  }
  refusedDigest_ = std::move(digest);
  spdlog::error("workload identity files refused ({}): {}; {}", trigger, reason,
                stillHolding(held));
}

void WorkloadIdentityWatcher::forget(std::string_view trigger) {
  WorkloadIdentitySharedPtr dropped;
  bool hadFiles;
  {
    std::lock_guard lock(mutex_);
    dropped = std::exchange(status_.identity, nullptr);
    hadFiles = std::exchange(status_.filesPresent, false);
    status_.lastRejected.clear();
  }
  adoptedDigest_.clear();
  refusedDigest_.clear();
  if (dropped)
    spdlog::warn("workload identity files removed from {} ({}): {} (serial {}) dropped", directory_,
                 trigger, dropped->spiffeId, dropped->serialHex);
  else if (hadFiles)
    spdlog::info("workload identity files removed from {} ({})", directory_, trigger);
  if (dropped && onChange_) onChange_();
}

void WorkloadIdentityWatcher::watch(boost::asio::io_context& context,
                                    std::chrono::milliseconds pollInterval) {
  watch_ = std::make_unique<SecretVolumeWatch>(
      context, directory_,
      std::set<std::string>{WorkloadIdentity::kCertificateFile, WorkloadIdentity::kKeyFile,
                            WorkloadIdentity::kTrustBundleFile},
      pollInterval, [this](std::string_view trigger) { reload(trigger); });
}

}  // namespace meshgate::dp
