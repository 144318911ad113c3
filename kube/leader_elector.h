// LeaderElector decides which operator replica acts, by holding a coordination.k8s.io/v1 Lease —
// client-go's leaderelection with a LeaseLock. The operator's main() builds one, calls run() on a
// dedicated thread and starts its controllers from onStartedLeading(); onStoppedLeading() must make
// them stop writing at once, because another replica may take the Lease over from then on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/clock.h"
#include "kube/rest_client.h"

namespace kube {

/**
 * What the elector tells its owner. All three run on the thread that called run(), one at a time,
 * and must return promptly (start or stop work, do not do it): while a callback runs the elector
 * cannot renew. Started and stopped alternate, started first; a replica that lost the Lease
 * becomes a candidate again, so they may come in several pairs during one run().
 */
struct LeaderCallbacks {
  std::function<void()> onStartedLeading;
  // Called when the renew deadline passes without a successful renewal, and on stop() while
  // leading (before the Lease is released, so a successor never overlaps with us).
  std::function<void()> onStoppedLeading;
  // The Lease was seen with a new holder (ourselves included); not called for an empty holder.
  std::function<void(const std::string& identity)> onNewLeader;
};

struct LeaderElectorConfig {
  std::string leaseNamespace;
  std::string leaseName;
  // Unique among the candidates; empty means defaultLeaderIdentity().
  std::string identity;
  // How long candidates wait, from the moment *they* last saw the Lease change, before taking it
  // over. Written to the Lease as leaseDurationSeconds (rounded up to whole seconds).
  std::chrono::milliseconds leaseDuration{std::chrono::seconds(15)};
  // How long the leader keeps trying to renew before giving up leadership; < leaseDuration so the
  // leader stops acting before any candidate can consider the Lease expired.
  std::chrono::milliseconds renewDeadline{std::chrono::seconds(10)};
  // Between attempts to acquire or renew; < renewDeadline.
  std::chrono::milliseconds retryPeriod{std::chrono::seconds(2)};
  // On stop() while leading, hand the Lease back so a successor need not wait for it to expire.
  bool releaseOnCancel = true;
  LeaderCallbacks callbacks;
};

/**
 * One candidate in the election. run() is called once, from one thread; stop(), isLeader(),
 * leader() and identity() are thread-safe and may be called from anywhere, including callbacks.
 *
 * Expiry is judged as client-go does: by the local steady clock at which this candidate last saw
 * the Lease record change, plus its leaseDurationSeconds — never by comparing the Lease's
 * renewTime with our wall clock, so clock skew between machines does not matter.
 */
class LeaderElector {
 public:
  // Throws std::invalid_argument when the config cannot work (empty lease name or namespace,
  // retryPeriod <= 0, renewDeadline <= retryPeriod, leaseDuration <= renewDeadline). client and
  // clock must outlive the elector.
  LeaderElector(RestClient& client, Clock& clock, LeaderElectorConfig config);
  // run() must have returned.
  ~LeaderElector();

  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  /**
   * Campaigns, leads and renews until stop(). On the way out: onStoppedLeading() if leading, then
   * (releaseOnCancel) the Lease is released if we still hold it. Returns once the request in
   * flight, if any, and the release have completed; returns at once if stop() came first.
   */
  void run();
  // Asks run() to return; never blocks on I/O.
  void stop();

  // True between onStartedLeading() and onStoppedLeading(), and false as soon as the renew
  // deadline has passed on the clock, even before the elector thread has noticed.
  bool isLeader() const;
  // The holder of the Lease as last observed ("" before the first read or when released).
  std::string leader() const;
  const std::string& identity() const { return identity_; }

 private:
  struct Attempt {
    bool holding = false;  // the Lease is ours after the attempt
    Clock::TimePoint startedAt;
    std::string holder;
  };

  void attemptLoop();
  void handleAttempt(const Attempt& attempt, std::unique_lock<std::mutex>& lock);
  void loseLeadership(const char* why, std::unique_lock<std::mutex>& lock);

  // Lease I/O: only the attempt thread touches the members below, and run() after joining it.
  bool tryAcquireOrRenew();
  bool writeSpec(const nlohmann::json& spec, const char* what);
  void observe(const nlohmann::json& lease, Clock::TimePoint now);
  bool observedLeaseValid(Clock::TimePoint now) const;
  bool weHoldObservedLease() const;
  void release();

  RestClient& client_;
  Clock& clock_;
  LeaderElectorConfig config_;
  const std::string identity_;
  const int64_t leaseDurationSeconds_;

  nlohmann::json lease_;         // last Lease read or written: resourceVersion, unknown fields
  nlohmann::json observedSpec_;  // its spec, the "record" whose changes restart the expiry clock
  Clock::TimePoint observedTime_{};
  bool observed_ = false;

  mutable std::mutex mutex_;
  std::condition_variable cv_;  // wakes run() and the attempt thread
  bool stopRequested_ = false;
  bool attemptRequested_ = false;
  std::optional<Attempt> finished_;  // an attempt result run() has not handled yet
  bool leading_ = false;
  Clock::TimePoint renewDeadlineAt_{};
  std::string reportedLeader_;
};

using LeaderElectorPtr = std::unique_ptr<LeaderElector>;

// <hostname>_<16 random hex digits>: stable enough to read in logs, unique across restarts.
std::string defaultLeaderIdentity();

}  // namespace kube
