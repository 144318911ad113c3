// Loads a RestConfig from a kubeconfig file (kubectl's format) or from the in-cluster
// environment (service-account token, CA file, KUBERNETES_SERVICE_HOST/PORT). Called once at
// start-up by the operator, the webhook and the tests.
#pragma once

#include <string>

#include "kube/rest_config.h"
#include "kube/result.h"

namespace kube {

struct KubeconfigOptions {
  std::string context;  // empty: the file's current-context
  // insecure-skip-tls-verify in the file is refused unless this is set.
  bool allowInsecure = false;
};

Result<RestConfig> loadKubeconfig(const std::string& path, const KubeconfigOptions& options = {});

// Where pods find their credentials; overridable for tests.
struct InClusterPaths {
  std::string tokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string caFile = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
};
Result<RestConfig> inClusterConfig(const InClusterPaths& paths = {});

// --kubeconfig if given, else $KUBECONFIG (first entry), else in-cluster.
Result<RestConfig> resolveConfig(const std::string& kubeconfigFlag,
                                 const KubeconfigOptions& options = {});

}  // namespace kube
