// Informer benchmark tool, run by bench/kube/run.sh:
//   informer_sync_bench populate N NAMESPACE   creates N ConfigMaps of 1 KiB data (8 writers)
//   informer_sync_bench sync                   one informer sync of every ConfigMap: seconds to
//                                              synced, objects cached, resident memory before and
//                                              after (/proc/self/status), as one line of JSON
// The kubeconfig comes from $KUBECONFIG.
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "kube/clock.h"
#include "kube/informer.h"
#include "kube/kubeconfig_loader.h"

namespace {

// A field of /proc/self/status in KiB (VmRSS, VmHWM).
long statusKiB(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

}  // namespace

int populate(kube::RestClient& client, int count, const std::string& ns) {
  const std::string payload(1024, 'x');
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; w++) {
    writers.emplace_back([&, w] {
      for (int i = w; i < count; i += 8) {
        nlohmann::json cm = {
            {"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", "bench-" + std::to_string(i)}, {"namespace", ns}}},
            {"data", {{"payload", payload}}}};
        auto created = client.create(kube::resources::kConfigMaps, ns, cm);
        if (!created && !created.error().isAlreadyExists()) failures++;
      }
    });
  }
  for (auto& t : writers)
    t.join();
  if (failures.load() > 0) {
    std::cerr << failures.load() << " creates failed\n";
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "sync" && !(mode == "populate" && argc == 4)) {
    std::cerr << "usage: informer_sync_bench sync | populate N NAMESPACE\n";
    return 2;
  }
  auto config = kube::resolveConfig("");
  if (!config) {
    std::cerr << config.error().toString() << "\n";
    return 1;
  }
  config->qps = 1000;
  config->burst = 1000;
  kube::SystemClock clock;
  auto client = kube::RestClient::create(*config, clock);
  if (!client) {
    std::cerr << client.error().toString() << "\n";
    return 1;
  }
  if (mode == "populate") return populate(**client, std::stoi(argv[2]), argv[3]);
  const long rssBefore = statusKiB("VmRSS");
  const auto started = std::chrono::steady_clock::now();
  kube::Informer informer(**client, kube::resources::kConfigMaps, "", {}, clock);
  informer.start();
  if (!informer.waitForSync(std::chrono::minutes(5))) {
    std::cerr << "informer did not sync\n";
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const long rssAfter = statusKiB("VmRSS");
  const long rssPeak = statusKiB("VmHWM");
  std::cout << "{\"seconds\":" << seconds << ",\"objects\":" << informer.store().size()
            << ",\"rss_before_kib\":" << rssBefore << ",\"rss_after_kib\":" << rssAfter
            << ",\"rss_peak_kib\":" << rssPeak << "}\n";
  informer.stop();
  return 0;
}
