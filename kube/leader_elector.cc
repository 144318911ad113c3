// LeaderElector: the election loop (run() thread) and the Lease reads and writes (attempt thread).
//
// run() never does I/O itself: it asks a helper thread for one acquire-or-renew attempt per
// retryPeriod and waits, on the injected clock, for whichever comes first — the attempt's result,
// the next attempt time, the renew deadline or stop(). A renew request stuck in the transport
// therefore cannot delay onStoppedLeading() past the deadline. All callbacks run on the run()
// thread, so they never overlap.
#include "kube/leader_elector.h"
#include "kube/wire_time.h"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <ctime>
#include <random>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

namespace kube {

namespace {

std::string holderOf(const nlohmann::json& spec) {
  auto it = spec.find("holderIdentity");
  return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t integerField(const nlohmann::json& spec, const char* name, int64_t fallback) {
  auto it = spec.find(name);
  return it != spec.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

LeaderElectorConfig validated(LeaderElectorConfig config) {
  if (config.leaseName.empty() || config.leaseNamespace.empty()) {
    throw std::invalid_argument("LeaderElector: lease name and namespace are required");
  }
  if (config.retryPeriod <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("LeaderElector: retryPeriod must be > 0");
  }
  if (config.renewDeadline <= config.retryPeriod) {
    throw std::invalid_argument("LeaderElector: renewDeadline must be > retryPeriod");
  }
  if (config.leaseDuration <= config.renewDeadline) {
    throw std::invalid_argument("LeaderElector: leaseDuration must be > renewDeadline");
  }
  return config;
}

int64_t wholeSecondsRoundedUp(std::chrono::milliseconds d) {
  return std::chrono::ceil<std::chrono::seconds>(d).count();
}

}  // namespace

std::string defaultLeaderIdentity() {
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof host, "%s", "unknown");
  }
  std::random_device random;
  const uint64_t suffix = (static_cast<uint64_t>(random()) << 32) | random();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(suffix));
  return std::string(host) + "_" + hex;
}

LeaderElector::LeaderElector(RestClient& client, Clock& clock, LeaderElectorConfig config)
    : client_(client),
      clock_(clock),
      config_(validated(std::move(config))),
      identity_(config_.identity.empty() ? defaultLeaderIdentity() : config_.identity),
      leaseDurationSeconds_(wholeSecondsRoundedUp(config_.leaseDuration)) {}

LeaderElector::~LeaderElector() = default;

void LeaderElector::stop() {
  std::lock_guard lock(mutex_);
  stopRequested_ = true;
  cv_.notify_all();
}

bool LeaderElector::isLeader() const {
  std::lock_guard lock(mutex_);
  return leading_ && clock_.now() < renewDeadlineAt_;
}

std::string LeaderElector::leader() const {
  std::lock_guard lock(mutex_);
  return reportedLeader_;
}

void LeaderElector::run() {
  spdlog::info("leader election: {} campaigning for lease {}/{}", identity_, config_.leaseNamespace,
               config_.leaseName);
  std::thread attempts([this] { attemptLoop(); });

  std::unique_lock lock(mutex_);
  Clock::TimePoint nextAttemptAt = clock_.now();
  bool inFlight = false;
  while (!stopRequested_) {
    const Clock::TimePoint now = clock_.now();
    if (leading_ && now >= renewDeadlineAt_) {
      loseLeadership("renew deadline passed", lock);
      continue;
    }
    if (finished_) {
      const Attempt attempt = *finished_;
      finished_.reset();
      inFlight = false;
      // Paced from the start of the attempt, so a slow apiserver does not stretch the period.
      nextAttemptAt = attempt.startedAt + config_.retryPeriod;
      handleAttempt(attempt, lock);
      continue;
    }
    if (!inFlight && now >= nextAttemptAt) {
      inFlight = true;
      attemptRequested_ = true;
      cv_.notify_all();
      continue;
    }
    std::optional<Clock::TimePoint> wakeAt;
    if (!inFlight) wakeAt = nextAttemptAt;
    if (leading_ && (!wakeAt || renewDeadlineAt_ < *wakeAt)) wakeAt = renewDeadlineAt_;
    if (wakeAt) {
      clock_.waitUntil(cv_, lock, *wakeAt);
    } else {
      cv_.wait(lock);  // only the attempt's result or stop() can change anything
    }
  }

  const bool wasLeading = leading_;
  leading_ = false;
  lock.unlock();
  if (wasLeading) {
    spdlog::info("leader election: {} stopping, giving up leadership of lease {}/{}", identity_,
                 config_.leaseNamespace, config_.leaseName);
    if (config_.callbacks.onStoppedLeading) config_.callbacks.onStoppedLeading();
  }
  // The attempt thread finishes the request in flight (stopRequested_ prevents another); after
  // join() the Lease state below is ours alone.
  attempts.join();
  if (config_.releaseOnCancel) release();
}

void LeaderElector::attemptLoop() {
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [this] { return attemptRequested_ || stopRequested_; });
    if (stopRequested_) return;
    attemptRequested_ = false;
    lock.unlock();
    Attempt attempt;
    attempt.startedAt = clock_.now();
    attempt.holding = tryAcquireOrRenew();
    attempt.holder = observed_ ? holderOf(observedSpec_) : std::string();
    lock.lock();
    finished_ = attempt;
    cv_.notify_all();
  }
}

void LeaderElector::handleAttempt(const Attempt& attempt, std::unique_lock<std::mutex>& lock) {
  if (attempt.holder != reportedLeader_) {
    reportedLeader_ = attempt.holder;
    if (!attempt.holder.empty()) {
      lock.unlock();
      spdlog::info("leader election: lease {}/{} is held by {}", config_.leaseNamespace,
                   config_.leaseName, attempt.holder);
      if (config_.callbacks.onNewLeader) config_.callbacks.onNewLeader(attempt.holder);
      lock.lock();
    }
  }
  if (!attempt.holding || stopRequested_) return;
  // The Lease is safe for us until others could judge it expired; they started their timers no
  // earlier than when our write left, so measure the deadline from the attempt's start.
  const Clock::TimePoint deadline = attempt.startedAt + config_.renewDeadline;
  if (leading_) {
    renewDeadlineAt_ = deadline;
    return;
  }
  // A renewal that completed after we had already given up cannot restart leadership late.
  if (deadline <= clock_.now()) return;
  leading_ = true;
  renewDeadlineAt_ = deadline;
  lock.unlock();
  spdlog::info("leader election: {} acquired lease {}/{}, now leading", identity_,
               config_.leaseNamespace, config_.leaseName);
  if (config_.callbacks.onStartedLeading) config_.callbacks.onStartedLeading();
  lock.lock();
}

void LeaderElector::loseLeadership(const char* why, std::unique_lock<std::mutex>& lock) {
  leading_ = false;
  lock.unlock();
  spdlog::error("leader election: {} lost lease {}/{}: {}", identity_, config_.leaseNamespace,
                config_.leaseName, why);
  if (config_.callbacks.onStoppedLeading) config_.callbacks.onStoppedLeading();
  lock.lock();
}

bool LeaderElector::weHoldObservedLease() const {
  return observed_ && holderOf(observedSpec_) == identity_;
}

bool LeaderElector::observedLeaseValid(Clock::TimePoint now) const {
  const int64_t seconds =
      integerField(observedSpec_, "leaseDurationSeconds", leaseDurationSeconds_);
  return observedTime_ + std::chrono::seconds(seconds) > now;
}

void LeaderElector::observe(const nlohmann::json& lease, Clock::TimePoint now) {
  nlohmann::json spec = lease.contains("spec") && lease["spec"].is_object()
                            ? lease["spec"]
                            : nlohmann::json::object();
  if (!observed_ || spec != observedSpec_) {
    observedSpec_ = std::move(spec);
    observedTime_ = now;
    observed_ = true;
  }
  lease_ = lease;
}

bool LeaderElector::writeSpec(const nlohmann::json& spec, const char* what) {
  nlohmann::json lease = lease_;
  lease["spec"] = spec;
  auto written = client_.update(resources::kLeases, lease);
  if (!written) {
    if (written.error().isConflict()) {
      spdlog::debug("leader election: {} lease {}/{}: conflict, retrying next period", what,
                    config_.leaseNamespace, config_.leaseName);
    } else {
      spdlog::warn("leader election: {} lease {}/{} failed: {}", what, config_.leaseNamespace,
                   config_.leaseName, written.error().toString());
    }
    return false;
  }
  // Our own write: it is what others now see, and they start their expiry clocks from it.
  observed_ = false;
  observe(*written, clock_.now());
  return true;
}

bool LeaderElector::tryAcquireOrRenew() {
  const Clock::TimePoint now = clock_.now();
  const std::string stamp = formatMicroTime(clock_.wallNow());

  // While we certainly hold it, renew from the cached Lease without reading it first; if that
  // fails (someone else wrote it, or our cache is stale) fall back to reading it.
  if (weHoldObservedLease() && observedLeaseValid(now)) {
    nlohmann::json spec = observedSpec_;
    spec["leaseDurationSeconds"] = leaseDurationSeconds_;
    spec["renewTime"] = stamp;
    if (writeSpec(spec, "renewing")) return true;
  }

  auto current = client_.get(resources::kLeases, config_.leaseNamespace, config_.leaseName);
  if (!current) {
    if (!current.error().isNotFound()) {
      spdlog::warn("leader election: reading lease {}/{} failed: {}", config_.leaseNamespace,
                   config_.leaseName, current.error().toString());
      return false;
    }
    const nlohmann::json lease = {
        {"apiVersion", resources::kLeases.apiVersion()},
        {"kind", resources::kLeases.kind},
        {"metadata", {{"name", config_.leaseName}, {"namespace", config_.leaseNamespace}}},
        {"spec",
         {{"holderIdentity", identity_},
          {"leaseDurationSeconds", leaseDurationSeconds_},
          {"acquireTime", stamp},
          {"renewTime", stamp},
          {"leaseTransitions", 0}}}};
    auto created = client_.create(resources::kLeases, config_.leaseNamespace, lease);
    if (created) {
      observed_ = false;
      observe(*created, clock_.now());
      return true;
    }
    if (!created.error().isAlreadyExists()) {
      spdlog::warn("leader election: creating lease {}/{} failed: {}", config_.leaseNamespace,
                   config_.leaseName, created.error().toString());
      return false;
    }
    // Another candidate created it between our read and our create: judge its Lease below.
    current = client_.get(resources::kLeases, config_.leaseNamespace, config_.leaseName);
    if (!current) {
      spdlog::warn("leader election: reading lease {}/{} failed: {}", config_.leaseNamespace,
                   config_.leaseName, current.error().toString());
      return false;
    }
  }

  observe(*current, now);
  const std::string holder = holderOf(observedSpec_);
  if (!holder.empty() && holder != identity_ && observedLeaseValid(now)) {
    spdlog::debug("leader election: lease {}/{} held by {}, not expired", config_.leaseNamespace,
                  config_.leaseName, holder);
    return false;
  }

  nlohmann::json spec = observedSpec_;  // keeps fields we do not manage (e.g. preferredHolder)
  spec["holderIdentity"] = identity_;
  spec["leaseDurationSeconds"] = leaseDurationSeconds_;
  spec["renewTime"] = stamp;
  if (holder == identity_) {
    if (!spec.contains("acquireTime")) spec["acquireTime"] = stamp;
    return writeSpec(spec, "renewing");
  }
  spec["acquireTime"] = stamp;
  spec["leaseTransitions"] = integerField(observedSpec_, "leaseTransitions", 0) + 1;
  return writeSpec(spec, "acquiring");
}

void LeaderElector::release() {
  if (!weHoldObservedLease()) return;
  const std::string stamp = formatMicroTime(clock_.wallNow());
  nlohmann::json spec = observedSpec_;
  // An empty holder is free to take at once; leaseDurationSeconds 1 covers readers that only
  // look at the duration.
  spec["holderIdentity"] = "";
  spec["leaseDurationSeconds"] = 1;
  spec["acquireTime"] = stamp;
  spec["renewTime"] = stamp;
  if (writeSpec(spec, "releasing")) {
    spdlog::info("leader election: {} released lease {}/{}", identity_, config_.leaseNamespace,
                 config_.leaseName);
  }
}

}  // namespace kube
