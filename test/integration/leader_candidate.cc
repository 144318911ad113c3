// A leader-election candidate process for the e2e failover test: campaigns for a Lease with the
// kube/ LeaderElector and prints one line per transition, with the wall time in milliseconds:
//   LEADING <identity> <ms> | STOPPED <identity> <ms> | NEWLEADER <identity> <ms>
// SIGTERM/SIGINT stop it cleanly (the Lease is released); kill -9 leaves the Lease to expire.
//   leader_candidate KUBECONFIG NAMESPACE LEASE IDENTITY [LEASE_MS RENEW_MS RETRY_MS]
#include <csignal>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>

#include "kube/clock.h"
#include "kube/kubeconfig_loader.h"
#include "kube/leader_elector.h"

namespace {

long long nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void say(const std::string& what, const std::string& identity) {
  std::cout << what << " " << identity << " " << nowMs() << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 8) {
    std::cerr << "usage: leader_candidate KUBECONFIG NAMESPACE LEASE IDENTITY [LEASE_MS RENEW_MS "
                 "RETRY_MS]\n";
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  auto config = kube::loadKubeconfig(argv[1]);
  if (!config) {
    std::cerr << config.error().toString() << "\n";
    return 1;
  }
  kube::SystemClock clock;
  auto client = kube::RestClient::create(*config, clock);
  if (!client) {
    std::cerr << client.error().toString() << "\n";
    return 1;
  }
  kube::LeaderElectorConfig electorConfig;
  electorConfig.leaseNamespace = argv[2];
  electorConfig.leaseName = argv[3];
  electorConfig.identity = argv[4];
  if (argc == 8) {
    electorConfig.leaseDuration = std::chrono::milliseconds(std::stoll(argv[5]));
    electorConfig.renewDeadline = std::chrono::milliseconds(std::stoll(argv[6]));
    electorConfig.retryPeriod = std::chrono::milliseconds(std::stoll(argv[7]));
  }
  const std::string identity = electorConfig.identity;
  electorConfig.callbacks.onStartedLeading = [identity] { say("LEADING", identity); };
  electorConfig.callbacks.onStoppedLeading = [identity] { say("STOPPED", identity); };
  electorConfig.callbacks.onNewLeader = [](const std::string& leader) { say("NEWLEADER", leader); };

  kube::LeaderElector elector(**client, clock, electorConfig);

  // Signals are taken synchronously on a dedicated thread, which asks the elector to stop.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread signalThread([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    elector.stop();
  });
  elector.run();
  say("EXITED", identity);
  // run() returned because of a signal; the signal thread has finished.
  signalThread.join();
  return 0;
}
