// Manager over a scripted apiserver (FakeTransport): parts start in order and stop in reverse;
// a real SIGTERM (through TerminationSignals) at each phase — while caches sync, while it
// campaigns, in the middle of a leader's bootstrap, while running, during the stop that follows
// lost leadership — ends run() with 0, every started part stopped, the Lease released. Failures
// (a part that cannot start, caches that never sync, lost leadership) end it with 1. Run under
// ASan by `make test`, so a use of a destroyed object or a leaked thread fails it.
#include "kube/manager.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>

#include "base/termination_signals.h"
#include "base/testing/eventually.h"
#include "kube/fake_transport.h"

namespace kube {
namespace {

using Json = nlohmann::json;

constexpr char kLeasePath[] =
    "/apis/coordination.k8s.io/v1/namespaces/meshgate-system/leases/meshgate-operator";
constexpr char kLeasesPath[] = "/apis/coordination.k8s.io/v1/namespaces/meshgate-system/leases";

HttpResponse respond(int status, const Json& body) {
  HttpResponse response;
  response.status = status;
  response.body = body.dump();
  return response;
}

HttpResponse failure(int status, const std::string& reason) {
  return respond(status,
                 {{"kind", "Status"}, {"status", "Failure"}, {"code", status}, {"reason", reason}});
}

// The apiserver the manager talks to: ConfigMap lists (empty, or refused while listsFail), quiet
// watches, and one Lease.
class FakeApiserver {
 public:
  FakeApiserver() {
    transport_->setFallback([this](const HttpRequest& request) { return serve(request); });
    for (int i = 0; i < 64; i++) {
      transport_->enqueueStream([](const HttpRequest&) -> Result<ResponseStreamPtr> {
        return ResponseStreamPtr(
            std::make_unique<FakeResponseStream>(std::deque<std::string>{}, /*holdOpen=*/true));
      });
    }
    RestClientOptions options;
    options.qps = 0;
    options.sleep = [](std::chrono::milliseconds) {};
    client_ = std::make_unique<RestClient>(transport_, options);
  }

  RestClient& client() { return *client_; }

  void failLists(bool fail) {
    std::lock_guard lock(mutex_);
    listsFail_ = fail;
  }
  void failLeaseWrites(bool fail) {
    std::lock_guard lock(mutex_);
    leaseWritesFail_ = fail;
  }
  void holdLease(const std::string& holder) {
    std::lock_guard lock(mutex_);
    lease_ = Json{{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata",
                   {{"name", "meshgate-operator"},
                    {"namespace", "meshgate-system"},
                    {"resourceVersion", "1"}}},
                  {"spec", {{"holderIdentity", holder}, {"leaseDurationSeconds", 3600}}}};
  }
  std::string leaseHolder() {
    std::lock_guard lock(mutex_);
    if (!lease_) return "<none>";
    return (*lease_)["spec"].value("holderIdentity", "");
  }

 private:
  Result<HttpResponse> serve(const HttpRequest& request) {
    std::lock_guard lock(mutex_);
    if (request.target.rfind("/api/v1/namespaces/ns/configmaps", 0) == 0) {
      if (listsFail_) return failure(403, "Forbidden");
      return respond(200, {{"kind", "ConfigMapList"},
                           {"metadata", {{"resourceVersion", "7"}}},
                           {"items", Json::array()}});
    }
    if (request.method == "GET" && request.target == kLeasePath) {
      if (!lease_) return failure(404, "NotFound");
      return respond(200, *lease_);
    }
    if (leaseWritesFail_) return failure(500, "InternalError");
    if ((request.method == "POST" && request.target == kLeasesPath) ||
        (request.method == "PUT" && request.target == kLeasePath)) {
      Json lease = Json::parse(request.body);
      lease["metadata"]["resourceVersion"] = std::to_string(++version_);
      lease_ = lease;
      return respond(request.method == "POST" ? 201 : 200, lease);
    }
    return failure(400, "BadRequest");
  }

  std::shared_ptr<FakeTransport> transport_ = std::make_shared<FakeTransport>();
  std::unique_ptr<RestClient> client_;
  std::mutex mutex_;
  bool listsFail_ = false;
  bool leaseWritesFail_ = false;
  std::optional<Json> lease_;
  int version_ = 1;
};

class ManagerTest : public ::testing::Test {
 protected:
  ManagerTest() {
    InformerOptions options;
    options.reflector.initialBackoff = std::chrono::milliseconds(5);
    options.reflector.maxBackoff = std::chrono::milliseconds(20);
    informer_ = std::make_unique<Informer>(apiserver_.client(), resources::kConfigMaps, "ns",
                                           options, clock_);
  }

  ManagerOptions options(bool leaderElection) {
    ManagerOptions out;
    out.name = "test-manager";
    out.onPhase = [this](ManagerPhase phase) { note(std::string("phase ") + toString(phase)); };
    if (leaderElection) {
      LeaderElectorConfig config;
      config.leaseNamespace = "meshgate-system";
      config.leaseName = "meshgate-operator";
      config.identity = "me";
      config.leaseDuration = std::chrono::milliseconds(900);
      config.renewDeadline = std::chrono::milliseconds(600);
      config.retryPeriod = std::chrono::milliseconds(100);
      out.leaderElection.emplace(ManagerLeaderElection{apiserver_.client(), config});
    }
    return out;
  }

  // A part that logs its start and stop; `problem` is what its start returns.
  ManagedPart part(const std::string& name, std::string problem = "") {
    return {.name = name,
            .start =
                [this, name, problem](const StopToken&) {
                  note("start " + name);
                  return problem;
                },
            .stop = [this, name] { note("stop " + name); }};
  }

  void wire(Manager& manager) {
    manager.addServer(part("metrics"));
    manager.addServer(part("probes"));
    manager.addInformer(*informer_);
    manager.addSyncedPart(part("config-stream"));
    manager.addLeaderPart(part("bootstrap"));
    manager.addLeaderPart(part("controllers"));
  }

  void note(const std::string& entry) {
    std::lock_guard lock(mutex_);
    log_.push_back(entry);
    changed_.notify_all();
  }
  bool await(const std::string& entry) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(20), [&] {
      return std::find(log_.begin(), log_.end(), entry) != log_.end();
    });
  }
  // The log without the phase lines.
  std::vector<std::string> parts() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& entry : log_) {
      if (entry.rfind("phase ", 0) != 0) out.push_back(entry);
    }
    return out;
  }

  // run() on a thread of its own, stopped by a real SIGTERM once `phase` is logged.
  int runAndSignalAt(Manager& manager, const std::string& awaited) {
    meshgate::TerminationSignals signals;  // before any thread: none of them may take SIGTERM
    signals.start([&manager](int) { manager.requestStop(); });
    int exitCode = -1;
    std::thread runner([&] { exitCode = manager.run(); });
    const bool reached = await(awaited);
    EXPECT_TRUE(reached) << awaited;
    EXPECT_EQ(kill(getpid(), SIGTERM), 0);
    runner.join();
    return exitCode;
  }

  SystemClock clock_;
  FakeApiserver apiserver_;
  std::unique_ptr<Informer> informer_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> log_;
};

TEST_F(ManagerTest, StartsInOrderAndStopsInReverseOnSigterm) {
  Manager manager(clock_, options(false));
  wire(manager);
  EXPECT_EQ(runAndSignalAt(manager, "phase running"), 0);
  EXPECT_EQ(parts(), (std::vector<std::string>{
                         "start metrics", "start probes", "start config-stream", "start bootstrap",
                         "start controllers", "stop controllers", "stop bootstrap",
                         "stop config-stream", "stop probes", "stop metrics"}));
  EXPECT_EQ(manager.phase(), ManagerPhase::kStopped);
  EXPECT_FALSE(manager.ready());
}

TEST_F(ManagerTest, SigtermWhileCachesSyncStopsTheServersAndExitsZero) {
  apiserver_.failLists(true);  // RBAC not there yet: the list is refused, the informer retries
  Manager manager(clock_, options(false));
  wire(manager);
  EXPECT_EQ(runAndSignalAt(manager, "phase syncing caches"), 0);
  EXPECT_EQ(parts(), (std::vector<std::string>{"start metrics", "start probes", "stop probes",
                                               "stop metrics"}));
}

TEST_F(ManagerTest, SigtermWhileCampaigningStartsNoLeaderPart) {
  apiserver_.holdLease("another-replica");
  Manager manager(clock_, options(true));
  wire(manager);
  EXPECT_EQ(runAndSignalAt(manager, "phase campaigning for the Lease"), 0);
  EXPECT_EQ(parts(),
            (std::vector<std::string>{"start metrics", "start probes", "start config-stream",
                                      "stop config-stream", "stop probes", "stop metrics"}));
  EXPECT_EQ(apiserver_.leaseHolder(), "another-replica");
}

TEST_F(ManagerTest, AStandbyReplicaServesButIsNotReadyUntilItLeads) {
  apiserver_.holdLease("another-replica");
  Manager manager(clock_, options(true));
  wire(manager);
  EXPECT_FALSE(manager.serving());
  meshgate::TerminationSignals signals;
  signals.start([&manager](int) { manager.requestStop(); });
  int exitCode = -1;
  std::thread runner([&] { exitCode = manager.run(); });
  ASSERT_TRUE(await("phase campaigning for the Lease"));
  EXPECT_TRUE(manager.serving());
  EXPECT_FALSE(manager.ready());
  EXPECT_EQ(kill(getpid(), SIGTERM), 0);
  runner.join();
  EXPECT_EQ(exitCode, 0);
  EXPECT_FALSE(manager.serving());
}

TEST_F(ManagerTest, SigtermDuringABootstrapThatRetriesEndsItAndReleasesTheLease) {
  Manager manager(clock_, options(true));
  manager.addServer(part("metrics"));
  manager.addInformer(*informer_);
  manager.addLeaderPart({.name = "bootstrap",
                         .start = [this](const StopToken& stop) -> std::string {
                           note("bootstrap retrying");
                           // The CA Secret cannot be written yet: retry until stopped.
                           while (!stop.waitFor(std::chrono::milliseconds(50))) {
                           }
                           note("bootstrap gave up");
                           return "stopped while retrying";
                         },
                         .stop = [this] { note("stop bootstrap"); }});
  manager.addLeaderPart(part("controllers"));
  EXPECT_EQ(runAndSignalAt(manager, "bootstrap retrying"), 0);
  // The bootstrap never finished, so it is not stopped, and nothing after it started.
  EXPECT_EQ(parts(), (std::vector<std::string>{"start metrics", "bootstrap retrying",
                                               "bootstrap gave up", "stop metrics"}));
  EXPECT_EQ(apiserver_.leaseHolder(), "");
}

TEST_F(ManagerTest, SigtermWhileLeadingStopsTheControllersThenReleasesTheLease) {
  Manager manager(clock_, options(true));
  wire(manager);
  manager.addLeaderPart({.name = "lease-check",
                         .start = [this](const StopToken&) -> std::string {
                           note("holder at start: " + apiserver_.leaseHolder());
                           return "";
                         },
                         .stop =
                             [this] {
                               // Still held while the leader's parts stop: no overlap with a
                               // successor.
                               note("holder at stop: " + apiserver_.leaseHolder());
                             }});
  EXPECT_EQ(runAndSignalAt(manager, "phase running"), 0);
  EXPECT_TRUE(await("holder at start: me"));
  EXPECT_TRUE(await("holder at stop: me"));
  EXPECT_EQ(apiserver_.leaseHolder(), "");
}

TEST_F(ManagerTest, LostLeadershipStopsEverythingAndExitsOne) {
  Manager manager(clock_, options(true));
  wire(manager);
  int exitCode = -1;
  std::thread runner([&] { exitCode = manager.run(); });
  ASSERT_TRUE(await("phase running"));
  apiserver_.failLeaseWrites(true);  // renewals fail until the renew deadline passes
  runner.join();
  EXPECT_EQ(exitCode, 1);
  EXPECT_EQ(parts(), (std::vector<std::string>{
                         "start metrics", "start probes", "start config-stream", "start bootstrap",
                         "start controllers", "stop controllers", "stop bootstrap",
                         "stop config-stream", "stop probes", "stop metrics"}));
}

TEST_F(ManagerTest, SigtermDuringTheStopAfterLostLeadershipExitsZero) {
  Manager manager(clock_, options(true));
  manager.addServer(part("metrics"));
  manager.addInformer(*informer_);
  std::atomic<bool> signalled{false};
  manager.addLeaderPart(
      {.name = "controllers",
       .start = [this](const StopToken&) -> std::string {
         note("start controllers");
         return "";
       },
       .stop =
           [this, &signalled] {
             note("stop controllers");
             // The kubelet gives up waiting, and this stop outlasts the
             // signal's handling (on the signal thread), as a slow one would.
             EXPECT_EQ(kill(getpid(), SIGTERM), 0);
             EXPECT_TRUE(meshgate::testing::eventually([&signalled] { return signalled.load(); }));
           }});
  meshgate::TerminationSignals signals;
  signals.start([&](int) {
    manager.requestStop();
    signalled.store(true);
  });
  int exitCode = -1;
  std::thread runner([&] { exitCode = manager.run(); });
  ASSERT_TRUE(await("phase running"));
  apiserver_.failLeaseWrites(true);
  runner.join();
  EXPECT_TRUE(signalled.load());
  EXPECT_EQ(exitCode, 0);
  EXPECT_EQ(parts(), (std::vector<std::string>{"start metrics", "start controllers",
                                               "stop controllers", "stop metrics"}));
}

TEST_F(ManagerTest, APartThatCannotStartStopsTheOthersAndExitsOne) {
  Manager manager(clock_, options(false));
  manager.addServer(part("metrics"));
  manager.addServer(part("probes", "bind: address in use"));
  manager.addServer(part("never"));
  manager.addInformer(*informer_);
  EXPECT_EQ(manager.run(), 1);
  EXPECT_EQ(parts(), (std::vector<std::string>{"start metrics", "start probes", "stop metrics"}));
}

TEST_F(ManagerTest, CachesThatNeverSyncEndItWithOne) {
  apiserver_.failLists(true);
  ManagerOptions opts = options(false);
  opts.cacheSyncTimeout = std::chrono::milliseconds(300);
  Manager manager(clock_, std::move(opts));
  wire(manager);
  EXPECT_EQ(manager.run(), 1);
  EXPECT_EQ(parts(), (std::vector<std::string>{"start metrics", "start probes", "stop probes",
                                               "stop metrics"}));
}

}  // namespace
}  // namespace kube
