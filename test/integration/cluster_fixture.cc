// ClusterFixture: everything the kube/ integration tests need from the local control plane.
#include "cluster_fixture.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include "kube/kubeconfig_loader.h"

namespace meshgate::testing {

int runCommand(const std::string& command, std::string* output) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
    if (output != nullptr) output->append(buf, n);
  }
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool ClusterFixture::eventually(std::chrono::milliseconds timeout,
                                const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

void ClusterFixture::SetUp() {
  const char* kubeconfig = std::getenv("KUBECONFIG");
  const char* dir = std::getenv("MESHGATE_CLUSTER_DIR");
  ASSERT_TRUE(kubeconfig != nullptr && dir != nullptr)
      << "run through test/e2e (KUBECONFIG and MESHGATE_CLUSTER_DIR must point at a cluster)";
  clusterDir_ = dir;
  auto loaded = kube::loadKubeconfig(kubeconfig);
  ASSERT_TRUE(loaded.ok()) << loaded.error().toString();
  config_ = loaded.value();
  config_.qps = 1000;
  config_.burst = 1000;
  auto client = kube::RestClient::create(config_, clock_);
  ASSERT_TRUE(client.ok()) << client.error().toString();
  client_ = std::move(client).value();

  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::string lowered;
  for (char c : name) {
    if (std::isupper(static_cast<unsigned char>(c)) && !lowered.empty()) lowered += '-';
    lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  namespace_ =
      "it-" + lowered.substr(0, 40) + "-" + std::to_string(std::random_device{}() % 100000);
  auto created = client_->create(
      kube::resources::kNamespaces, "",
      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", namespace_}}}});
  ASSERT_TRUE(created.ok()) << created.error().toString();
}

void ClusterFixture::TearDown() {
  if (client_ && !namespace_.empty()) {
    (void)client_->remove(kube::resources::kNamespaces, "", namespace_);
  }
}

void ClusterFixture::clusterScript(const std::string& action) {
  std::string output;
  const std::string command =
      "bash test/e2e/cluster/up.sh '" + clusterDir_ + "' " + action + " 2>&1";
  const int rc = runCommand(command, &output);
  ASSERT_EQ(rc, 0) << command << "\n" << output;
}

void ClusterFixture::compactEtcd() {
  std::ifstream env(clusterDir_ + "/cluster.env");
  std::string line, port;
  while (std::getline(env, line)) {
    if (line.rfind("ETCD_PORT=", 0) == 0) port = line.substr(10);
  }
  ASSERT_FALSE(port.empty()) << "no ETCD_PORT in " << clusterDir_ << "/cluster.env";
  std::string status;
  ASSERT_EQ(runCommand("curl -sS --max-time 10 -X POST http://127.0.0.1:" + port +
                           "/v3/kv/range -d '{\"key\":\"AA==\"}'",
                       &status),
            0);
  auto revision = nlohmann::json::parse(status, nullptr, false)["header"]["revision"];
  ASSERT_TRUE(revision.is_string()) << status;
  std::string compacted;
  ASSERT_EQ(runCommand("curl -sS --max-time 30 -X POST http://127.0.0.1:" + port +
                           "/v3/kv/compaction -d '{\"revision\":\"" + revision.get<std::string>() +
                           "\",\"physical\":true}'",
                       &compacted),
            0)
      << compacted;
}

}  // namespace meshgate::testing
