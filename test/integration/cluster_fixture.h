// Test access to the local control plane started by test/e2e/cluster/up.sh: clients built from
// $KUBECONFIG, fresh namespaces, and control of the cluster's processes (restart the apiserver,
// compact etcd). Used only by the integration tests.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "kube/rest_client.h"

namespace meshgate::testing {

class ClusterFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  kube::RestConfig config() const { return config_; }
  kube::RestClient& client() { return *client_; }
  // The clock client() runs on; give it to every other client a test creates.
  kube::Clock& clock() { return clock_; }
  // A namespace unique to this test, deleted at TearDown.
  const std::string& ns() const { return namespace_; }

  // Runs `test/e2e/cluster/up.sh <dir> <action>`; fails the test when the script does.
  void clusterScript(const std::string& action);
  // Compacts etcd up to its current revision (through etcd's JSON gateway), so older
  // resourceVersions answer 410 Gone.
  void compactEtcd();
  std::string clusterDir() const { return clusterDir_; }

  static bool eventually(std::chrono::milliseconds timeout, const std::function<bool()>& condition);

 private:
  kube::RestConfig config_;
  kube::SystemClock clock_;  // declared before client_, which uses it until destroyed
  kube::RestClientPtr client_;
  std::string clusterDir_;
  std::string namespace_;
};

// Runs a shell command, returning its exit status and standard output.
int runCommand(const std::string& command, std::string* output = nullptr);

}  // namespace meshgate::testing
