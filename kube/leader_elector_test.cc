// LeaderElector against an in-memory Lease endpoint (GET/POST/PUT with resourceVersion checks)
// behind FakeTransport, with FakeClock time: acquisition, expiry, renewal, loss, release.
#include "kube/leader_elector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <thread>

#include "kube/fake_clock.h"
#include "kube/fake_transport.h"

namespace kube {
namespace {

using std::chrono::seconds;
using Json = nlohmann::json;

constexpr char kLeasePath[] =
    "/apis/coordination.k8s.io/v1/namespaces/meshgate-system/leases/meshgate-operator";
constexpr char kLeasesPath[] = "/apis/coordination.k8s.io/v1/namespaces/meshgate-system/leases";

// 2026-01-02T03:04:05.123456Z: a wall start with microseconds, to check the MicroTime format.
Clock::WallTimePoint wallStart() {
  return Clock::WallTimePoint(std::chrono::seconds(1767323045) + std::chrono::microseconds(123456));
}

HttpResponse statusResponse(int code, const std::string& reason) {
  HttpResponse response;
  response.status = code;
  response.body =
      Json{{"kind", "Status"}, {"status", "Failure"}, {"code", code}, {"reason", reason}}.dump();
  return response;
}

HttpResponse objectResponse(int code, const Json& object) {
  HttpResponse response;
  response.status = code;
  response.body = object.dump();
  return response;
}

class LeaderElectorTest : public ::testing::Test {
 protected:
  LeaderElectorTest() {
    transport_->setFallback([this](const HttpRequest& request) { return serve(request); });
    RestClientOptions options;
    options.qps = 0;
    options.sleep = [](std::chrono::milliseconds) {};
    client_ = std::make_unique<RestClient>(transport_, options);
  }

  ~LeaderElectorTest() override {
    {
      std::lock_guard lock(mutex_);
      holdPuts_ = false;
      changed_.notify_all();
    }
    if (elector_) elector_->stop();
    if (runner_.joinable()) runner_.join();
  }

  LeaderElectorConfig config() {
    LeaderElectorConfig config;
    config.leaseNamespace = "meshgate-system";
    config.leaseName = "meshgate-operator";
    config.identity = "me";
    config.callbacks.onStartedLeading = [this] { note("started"); };
    config.callbacks.onStoppedLeading = [this] { note("stopped"); };
    config.callbacks.onNewLeader = [this](const std::string& id) { note("leader " + id); };
    return config;
  }

  void start(LeaderElectorConfig config) {
    elector_ = std::make_unique<LeaderElector>(*client_, clock_, std::move(config));
    runner_ = std::thread([this] { elector_->run(); });
  }
  void start() { start(config()); }

  void stopAndJoin() {
    elector_->stop();
    runner_.join();
  }

  // A Lease as another candidate would have written it.
  void storeLease(const std::string& holder, int transitions, const std::string& renewTime,
                  int durationSeconds = 15) {
    std::lock_guard lock(mutex_);
    Json spec = {{"holderIdentity", holder},
                 {"leaseDurationSeconds", durationSeconds},
                 {"acquireTime", renewTime},
                 {"renewTime", renewTime},
                 {"leaseTransitions", transitions}};
    store(Json{{"apiVersion", "coordination.k8s.io/v1"},
               {"kind", "Lease"},
               {"metadata", {{"name", "meshgate-operator"}, {"namespace", "meshgate-system"}}},
               {"spec", spec}});
  }

  std::optional<Json> storedLease() {
    std::lock_guard lock(mutex_);
    return lease_;
  }

  // Log entries are "<METHOD> <status>" for each request and "started", "stopped",
  // "leader <id>" for callbacks, in the order they happened.
  std::vector<std::string> log() {
    std::lock_guard lock(mutex_);
    return log_;
  }
  size_t count(const std::string& prefix) {
    std::lock_guard lock(mutex_);
    return countLocked(prefix);
  }
  // Waits (real time, bounded) until at least n log entries start with prefix.
  bool await(const std::string& prefix, size_t n = 1) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, seconds(5), [&] { return countLocked(prefix) >= n; });
  }

  void failEverything(int status) {
    std::lock_guard lock(mutex_);
    failAll_ = status;
  }
  void failNext(const std::string& method, int status, const std::string& reason) {
    std::lock_guard lock(mutex_);
    failures_.push_back({method, status, reason});
  }
  void holdPuts(bool hold) {
    std::lock_guard lock(mutex_);
    holdPuts_ = hold;
    changed_.notify_all();
  }
  // Run when a POST arrives, before it is answered (simulates a racing candidate).
  std::function<void()> beforeCreate_;

  std::vector<Json> bodiesOf(const std::string& method) {
    std::vector<Json> bodies;
    for (const auto& request : transport_->sent()) {
      if (request.method == method) bodies.push_back(Json::parse(request.body));
    }
    return bodies;
  }

  FakeClock clock_{wallStart()};
  std::shared_ptr<FakeTransport> transport_ = std::make_shared<FakeTransport>();
  std::unique_ptr<RestClient> client_;
  std::unique_ptr<LeaderElector> elector_;
  std::thread runner_;

 private:
  struct Failure {
    std::string method;
    int status;
    std::string reason;
  };

  void note(const std::string& entry) {
    std::lock_guard lock(mutex_);
    log_.push_back(entry);
    changed_.notify_all();
  }
  size_t countLocked(const std::string& prefix) const {
    size_t n = 0;
    for (const auto& entry : log_)
      n += entry.rfind(prefix, 0) == 0;
    return n;
  }
  void store(Json lease) {
    lease["metadata"]["resourceVersion"] = std::to_string(++resourceVersion_);
    lease_ = std::move(lease);
  }
  Result<HttpResponse> answer(std::unique_lock<std::mutex>&, const HttpRequest& request,
                              HttpResponse response) {
    log_.push_back(request.method + " " + std::to_string(response.status));
    changed_.notify_all();
    return response;
  }

  Result<HttpResponse> serve(const HttpRequest& request) {
    if (request.method == "POST" && beforeCreate_) beforeCreate_();
    std::unique_lock lock(mutex_);
    if (request.method == "PUT" && holdPuts_) {
      log_.push_back("PUT held");
      changed_.notify_all();
      changed_.wait(lock, [this] { return !holdPuts_; });
    }
    if (failAll_ != 0) return answer(lock, request, statusResponse(failAll_, "InternalError"));
    if (!failures_.empty() && failures_.front().method == request.method) {
      auto failure = failures_.front();
      failures_.pop_front();
      return answer(lock, request, statusResponse(failure.status, failure.reason));
    }
    if (request.method == "GET" && request.target == kLeasePath) {
      if (!lease_) return answer(lock, request, statusResponse(404, "NotFound"));
      return answer(lock, request, objectResponse(200, *lease_));
    }
    if (request.method == "POST" && request.target == kLeasesPath) {
      if (lease_) return answer(lock, request, statusResponse(409, "AlreadyExists"));
      store(Json::parse(request.body));
      return answer(lock, request, objectResponse(201, *lease_));
    }
    if (request.method == "PUT" && request.target == kLeasePath) {
      Json lease = Json::parse(request.body);
      if (!lease_ || lease["metadata"].value("resourceVersion", "") !=
                         (*lease_)["metadata"]["resourceVersion"].get<std::string>()) {
        return answer(lock, request, statusResponse(409, "Conflict"));
      }
      store(std::move(lease));
      return answer(lock, request, objectResponse(200, *lease_));
    }
    return answer(lock, request, statusResponse(400, "BadRequest"));
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> log_;
  std::optional<Json> lease_;
  int resourceVersion_ = 0;
  int failAll_ = 0;
  std::deque<Failure> failures_;
  bool holdPuts_ = false;
};

TEST_F(LeaderElectorTest, AcquiresAFreeLeaseByCreatingIt) {
  start();
  ASSERT_TRUE(await("started"));
  EXPECT_TRUE(elector_->isLeader());
  EXPECT_EQ(elector_->leader(), "me");
  EXPECT_EQ(log(), (std::vector<std::string>{"GET 404", "POST 201", "leader me", "started"}));

  const Json created = bodiesOf("POST").at(0);
  EXPECT_EQ(created["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(created["kind"], "Lease");
  EXPECT_EQ(created["metadata"]["name"], "meshgate-operator");
  EXPECT_EQ(created["spec"], (Json{{"holderIdentity", "me"},
                                   {"leaseDurationSeconds", 15},
                                   {"acquireTime", "2026-01-02T03:04:05.123456Z"},
                                   {"renewTime", "2026-01-02T03:04:05.123456Z"},
                                   {"leaseTransitions", 0}}));
}

TEST_F(LeaderElectorTest, DoesNotAcquireALeaseHeldByAnotherUnexpiredHolder) {
  // The other machine's clock is years behind: its renewTime must not make the Lease look
  // expired, only our own observation of changes counts.
  storeLease("other", 3, "2020-01-01T00:00:00.000000Z");
  start();
  ASSERT_TRUE(await("leader other"));
  clock_.advance(seconds(14));
  ASSERT_TRUE(await("GET", 2));
  storeLease("other", 3, "2020-01-01T00:00:14.000000Z");  // the holder renews
  clock_.advance(seconds(14));
  ASSERT_TRUE(await("GET", 3));
  clock_.advance(seconds(14));  // 14 s after we saw the renewal: still valid
  ASSERT_TRUE(await("GET", 4));

  EXPECT_FALSE(elector_->isLeader());
  EXPECT_EQ(count("PUT"), 0u);
  EXPECT_EQ(count("started"), 0u);
  EXPECT_EQ(elector_->leader(), "other");
}

TEST_F(LeaderElectorTest, AcquiresOnceTheOtherHoldersLeaseExpires) {
  storeLease("other", 4, "2026-01-02T03:04:00.000000Z");
  start();
  ASSERT_TRUE(await("leader other"));
  clock_.advance(seconds(14));
  ASSERT_TRUE(await("GET", 2));
  EXPECT_EQ(count("PUT"), 0u);

  clock_.advance(seconds(2));  // 16 s since we first saw it unchanged: expired
  ASSERT_TRUE(await("started"));
  EXPECT_TRUE(elector_->isLeader());
  const Json taken = bodiesOf("PUT").at(0);
  EXPECT_EQ(taken["metadata"]["resourceVersion"], "1");
  EXPECT_EQ(taken["spec"], (Json{{"holderIdentity", "me"},
                                 {"leaseDurationSeconds", 15},
                                 {"acquireTime", "2026-01-02T03:04:21.123456Z"},
                                 {"renewTime", "2026-01-02T03:04:21.123456Z"},
                                 {"leaseTransitions", 5}}));
  EXPECT_EQ(log().back(), "started");
}

TEST_F(LeaderElectorTest, TakesOverAReleasedLeaseAtOnceAndCountsTheTransition) {
  storeLease("", 2, "2026-01-02T03:04:05.000000Z", 1);
  start();
  ASSERT_TRUE(await("started"));
  const Json taken = bodiesOf("PUT").at(0);
  EXPECT_EQ(taken["spec"]["holderIdentity"], "me");
  EXPECT_EQ(taken["spec"]["leaseDurationSeconds"], 15);
  EXPECT_EQ(taken["spec"]["leaseTransitions"], 3);
}

TEST_F(LeaderElectorTest, RenewsEveryRetryPeriodWhileLeading) {
  start();
  ASSERT_TRUE(await("started"));
  clock_.advance(seconds(2));
  ASSERT_TRUE(await("PUT 200", 1));
  clock_.advance(seconds(2));
  ASSERT_TRUE(await("PUT 200", 2));

  const auto renewals = bodiesOf("PUT");
  ASSERT_EQ(renewals.size(), 2u);
  EXPECT_EQ(renewals[0]["metadata"]["resourceVersion"], "1");
  EXPECT_EQ(renewals[1]["metadata"]["resourceVersion"], "2");
  EXPECT_EQ(renewals[0]["spec"]["renewTime"], "2026-01-02T03:04:07.123456Z");
  EXPECT_EQ(renewals[1]["spec"]["renewTime"], "2026-01-02T03:04:09.123456Z");
  for (const auto& renewal : renewals) {
    EXPECT_EQ(renewal["spec"]["holderIdentity"], "me");
    EXPECT_EQ(renewal["spec"]["acquireTime"], "2026-01-02T03:04:05.123456Z");
    EXPECT_EQ(renewal["spec"]["leaseTransitions"], 0);
  }
  // A leader renews from its cached Lease without reading it again.
  EXPECT_EQ(count("GET"), 1u);
  EXPECT_TRUE(elector_->isLeader());
  EXPECT_EQ(count("stopped"), 0u);
}

TEST_F(LeaderElectorTest, StopsLeadingWhenRenewalsFailPastTheRenewDeadline) {
  start();
  ASSERT_TRUE(await("started"));
  failEverything(500);
  for (int attempt = 1; attempt <= 4; attempt++) {  // renewals at +2 s … +8 s all fail
    clock_.advance(seconds(2));
    ASSERT_TRUE(await("GET 500", attempt));
  }
  EXPECT_TRUE(elector_->isLeader());
  EXPECT_EQ(count("stopped"), 0u);

  clock_.advance(seconds(2));  // +10 s: the renew deadline
  EXPECT_FALSE(elector_->isLeader());
  ASSERT_TRUE(await("stopped"));
  EXPECT_EQ(count("started"), 1u);
}

TEST_F(LeaderElectorTest, BecomesACandidateAgainAfterLosingTheLease) {
  start();
  ASSERT_TRUE(await("started"));
  failEverything(500);
  clock_.advance(seconds(10));
  ASSERT_TRUE(await("stopped"));

  failEverything(0);
  clock_.advance(seconds(2));  // nobody took it over: our Lease is still there to renew
  ASSERT_TRUE(await("started", 2));
  EXPECT_TRUE(elector_->isLeader());
  const auto log = this->log();
  EXPECT_EQ(std::count(log.begin(), log.end(), "stopped"), 1);
}

TEST_F(LeaderElectorTest, StopsLeadingAtTheDeadlineEvenWhileARenewalHangs) {
  start();
  ASSERT_TRUE(await("started"));
  holdPuts(true);
  clock_.advance(seconds(2));
  ASSERT_TRUE(await("PUT held"));

  clock_.advance(seconds(8));  // the renewal sent at +2 s is still stuck at +10 s
  ASSERT_TRUE(await("stopped"));
  EXPECT_FALSE(elector_->isLeader());

  elector_->stop();
  holdPuts(false);
  runner_.join();
  EXPECT_EQ(count("started"), 1u);
  EXPECT_EQ(count("stopped"), 1u);
}

TEST_F(LeaderElectorTest, ReleasesTheLeaseOnStopAfterStoppingWork) {
  start();
  ASSERT_TRUE(await("started"));
  clock_.advance(seconds(1));
  stopAndJoin();

  const auto log = this->log();
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[log.size() - 2], "stopped");  // the controller stops before a successor can start
  EXPECT_EQ(log.back(), "PUT 200");
  const Json released = bodiesOf("PUT").back();
  EXPECT_EQ(released["spec"], (Json{{"holderIdentity", ""},
                                    {"leaseDurationSeconds", 1},
                                    {"acquireTime", "2026-01-02T03:04:06.123456Z"},
                                    {"renewTime", "2026-01-02T03:04:06.123456Z"},
                                    {"leaseTransitions", 0}}));
  EXPECT_EQ((*storedLease())["spec"]["holderIdentity"], "");
  EXPECT_FALSE(elector_->isLeader());
}

TEST_F(LeaderElectorTest, KeepsTheLeaseOnStopWhenReleaseOnCancelIsOff) {
  auto config = this->config();
  config.releaseOnCancel = false;
  start(config);
  ASSERT_TRUE(await("started"));
  stopAndJoin();
  EXPECT_EQ(count("PUT"), 0u);
  EXPECT_EQ(log().back(), "stopped");
  EXPECT_EQ((*storedLease())["spec"]["holderIdentity"], "me");
}

TEST_F(LeaderElectorTest, RetriesAConflictingUpdateNextPeriod) {
  storeLease("", 0, "2026-01-02T03:04:05.000000Z", 1);
  failNext("PUT", 409, "Conflict");
  start();
  ASSERT_TRUE(await("PUT 409"));
  EXPECT_FALSE(elector_->isLeader());
  EXPECT_EQ(count("started"), 0u);

  clock_.advance(seconds(2));
  ASSERT_TRUE(await("started"));
  EXPECT_EQ(count("GET"), 2u);
  EXPECT_EQ(count("PUT 200"), 1u);
}

TEST_F(LeaderElectorTest, ReadsTheWinnersLeaseWhenCreateRacesAnotherCandidate) {
  beforeCreate_ = [this] { storeLease("other", 0, "2026-01-02T03:04:05.000000Z"); };
  start();
  ASSERT_TRUE(await("leader other"));
  EXPECT_EQ(log(), (std::vector<std::string>{"GET 404", "POST 409", "GET 200", "leader other"}));
  EXPECT_FALSE(elector_->isLeader());
}

TEST_F(LeaderElectorTest, StopWhileCampaigningWritesNothing) {
  storeLease("other", 0, "2026-01-02T03:04:05.000000Z");
  start();
  ASSERT_TRUE(await("leader other"));
  stopAndJoin();
  EXPECT_EQ(count("PUT"), 0u);
  EXPECT_EQ(count("stopped"), 0u);
}

TEST_F(LeaderElectorTest, StopBeforeRunReturnsAtOnce) {
  elector_ = std::make_unique<LeaderElector>(*client_, clock_, config());
  elector_->stop();
  elector_->run();
  EXPECT_TRUE(transport_->sent().empty());
}

TEST_F(LeaderElectorTest, RejectsTimingsThatCannotWork) {
  auto config = this->config();
  config.renewDeadline = config.leaseDuration;
  EXPECT_THROW({ LeaderElector elector(*client_, clock_, config); }, std::invalid_argument);
  config = this->config();
  config.retryPeriod = config.renewDeadline;
  EXPECT_THROW({ LeaderElector elector(*client_, clock_, config); }, std::invalid_argument);
  config = this->config();
  config.leaseName.clear();
  EXPECT_THROW({ LeaderElector elector(*client_, clock_, config); }, std::invalid_argument);
}

TEST_F(LeaderElectorTest, DefaultIdentityIsHostnameWithARandomSuffix) {
  const std::string a = defaultLeaderIdentity();
  const std::string b = defaultLeaderIdentity();
  EXPECT_NE(a, b);
  ASSERT_NE(a.rfind('_'), std::string::npos);
  EXPECT_EQ(a.size() - a.rfind('_') - 1, 16u);
  auto config = this->config();
  config.identity.clear();
  LeaderElector elector(*client_, clock_, config);
  EXPECT_NE(elector.identity().find('_'), std::string::npos);
}

}  // namespace
}  // namespace kube
