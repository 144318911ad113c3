// meshgatectl's apiserver client; see cli/cluster_connection.h.
#include "cli/cluster_connection.h"

#include <chrono>

#include "kube/beast_transport.h"
#include "kube/kubeconfig_loader.h"

namespace meshgate::cli {

kube::Result<kube::RestClientPtr> connectToCluster(const std::string& kubeconfigPath,
                                                   kube::Clock& clock) {
  auto config = kube::resolveConfig(kubeconfigPath);
  if (!config) return config.error();
  config->timeout = std::chrono::seconds(10);
  config->connectTimeout = std::chrono::seconds(5);
  config->userAgent = "meshgatectl";
  auto transport = kube::BeastTransport::create(*config);
  if (!transport) return transport.error();
  kube::RestClientOptions options;
  options.qps = config->qps;
  options.burst = config->burst;
  options.maxRetries = 1;
  options.clock = &clock;
  return std::make_unique<kube::RestClient>(kube::TransportSharedPtr(std::move(transport).value()),
                                            options);
}

}  // namespace meshgate::cli
