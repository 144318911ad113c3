// Command-line options of meshgate-operator (names follow controller-runtime's flags).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace meshgate::op {

struct OperatorOptions {
  std::string kubeconfig;  // else $KUBECONFIG, else in-cluster
  std::string systemNamespace = "meshgate-system";
  std::string watchNamespace;  // empty: all namespaces
  std::string trustDomain = "cluster.local";
  bool leaderElect = false;
  std::string leaderElectionId = "meshgate-operator";
  std::string metricsBindAddress = "127.0.0.1:8080";
  std::string healthProbeBindAddress = "127.0.0.1:8081";
  int workers = 2;
  // Client-side rate limit of the controllers' requests (kube-controller-manager's
  // --kube-api-qps/--kube-api-burst); Events and the Lease have a client of their own.
  // Every cached object is reconciled again this often (controller-runtime's SyncPeriod).
  int resyncSeconds = 600;
  double kubeApiQps = 50;
  int kubeApiBurst = 100;
  // The config stream (docs/CONFIG_STREAM.md): every replica serves it; "" disables it.
  std::string configServerBindAddress = ":15012";
  std::vector<std::string> configServerDnsNames;  // extra DNS SANs of its certificate
  int gatewayHttpPort = 8080;                     // the `http` listener of gateway snapshots
  int gatewayHttpsPort = 8443;                    // the `https` listener, when a route has TLS
  // How long a CA root that signs no leaf any more stays in the trust bundle, so that pods still
  // waiting for their updated Secret volume keep trusting it (trust_rotation.h).
  std::chrono::milliseconds trustBundleGrace = std::chrono::minutes(5);
  std::string logLevel = "info";
  std::string logFormat = "text";  // text | json
};

}  // namespace meshgate::op
