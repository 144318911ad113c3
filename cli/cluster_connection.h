// How meshgatectl reaches an apiserver for `diff`: the kubeconfig kubectl would use (--kubeconfig,
// else $KUBECONFIG, else in-cluster; kube/kubeconfig_loader.h) and a REST client made for a
// command line rather than a controller: 10 s per request and 5 s to connect, and one retry of a
// failed connection instead of five, so an unreachable apiserver fails the command in seconds.
#pragma once

#include <string>

#include "kube/clock.h"
#include "kube/rest_client.h"
#include "kube/result.h"

namespace meshgate::cli {

// `clock` must outlive the client.
kube::Result<kube::RestClientPtr> connectToCluster(const std::string& kubeconfigPath,
                                                   kube::Clock& clock);

}  // namespace meshgate::cli
