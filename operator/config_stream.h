// ConfigStream puts the operator's side of the config stream together (docs/CONFIG_STREAM.md):
// the ConfigPublisher fed by the informers (gateway and sidecar snapshots), the DataplaneRegistry
// of connected proxies, the
// ConfigServer on port 15012 with the serving certificate and trust bundle taken from the caches
// (reloaded when they change), the DataplaneStatus the controllers read, and the metrics. Every
// replica runs one — serving is not leadership — while only the leader's controllers write
// status, counting the proxies of every replica: the other replicas' reports (dataplane_report.h)
// are read from their ConfigMaps into the registry. Owned by main().
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "base/coalescing_batcher.h"
#include "base/expected.h"
#include "kube/informer.h"
#include "metrics/histogram.h"
#include "metrics/registry.h"
#include "operator/config_publisher.h"
#include "operator/config_server.h"
#include "operator/dataplane_registry.h"
#include "operator/dataplane_status.h"

namespace meshgate::op {

struct ConfigStreamCaches {
  kube::Informer& apiRoutes;  // with kApiRoutesByHost and kApiRoutesByAuthSecret
  kube::Informer& meshServices;
  kube::Informer& endpointSlices;  // with kEndpointSlicesByService
  kube::Informer& tlsSecrets;      // type kubernetes.io/tls
  kube::Informer& namespaces;
  kube::Informer& pods;            // their labels, for subsets
  kube::Informer& authSecrets;     // type Opaque: what routes' auth names (auth_secrets.h)
  kube::Informer& managedSecrets;  // where meshgate-config-server-tls is
  kube::Informer& trustBundle;     // the meshgate-ca-bundle ConfigMap
  // The other replicas' reports of their proxies (dataplane_report.h), in the system namespace.
  kube::Informer& dataplaneReports;
  // Services labelled managed-by=meshgate: the MeshServices' cluster IPs, for sidecars.
  kube::Informer& services;
};

struct ConfigStreamOptions {
  std::string bindAddress = ":15012";
  std::string systemNamespace = "meshgate-system";
  std::string trustDomain = "cluster.local";
  GatewayListenerPorts ports;
  std::string replica;  // this replica's label: its own report is not read back
};

class ConfigStream {
 public:
  // Registers the informer handlers: construct before the informers start.
  ConfigStream(ConfigStreamCaches caches, ConfigStreamOptions options, metrics::Registry& registry);
  ~ConfigStream();

  // `enqueue(objectKey)` runs when the Programmed verdict of an object ("ApiRoute/ns/name",
  // "MeshService/ns/name") may have changed. Set before start().
  void onVerdictMayChange(std::function<void(const std::string& objectKey)> enqueue);
  // `changed()` runs after every change of the proxies connected to this replica (the report
  // writer, dataplane_report_writer.h). Set before start().
  void onLocalDataplanesChange(std::function<void()> changed);
  // This replica's controllers write status from now on: the ingress classes other replicas'
  // proxies serve are built here too, so that their ACKed versions can be read.
  void startedLeading();

  // Opens the listener (connections are refused until credentials load). Returns the port.
  Expected<unsigned short, std::string> start();
  // The caches have synced: snapshots can be built, credentials loaded.
  void cachesSynced();
  void stop();

  const DataplaneStatus& status() const { return status_; }
  const DataplaneRegistry& registry() const { return registry_; }

 private:
  void loadCredentials();
  void verdictsMayChange(const DataplaneState& state);
  // A report ConfigMap was added, changed (`deleted` false) or deleted.
  void reportChanged(const nlohmann::json& configMap, bool deleted);
  void markRemoteClasses();
  // Re-queues every object the current snapshots of `ingressClasses` hold.
  void enqueueCarried(const std::set<std::string>& ingressClasses);

  ConfigStreamCaches caches_;
  ConfigStreamOptions options_;
  ConfigPublisher publisher_;
  DataplaneRegistry registry_;
  GatewayDataplaneStatus status_;
  ConfigServer server_;
  std::function<void(const std::string&)> enqueue_;
  std::function<void()> localChange_;
  std::atomic<bool> leading_{false};
  // A new version built here may be one a remote proxy ACKed before this replica knew it.
  SubscriptionPtr published_;
  std::mutex credentialsMutex_;
  std::string credentialsFingerprint_;
  bool synced_ = false;
  metrics::Histogram* propagation_ = nullptr;
  std::mutex propagationMutex_;
  std::map<std::string, std::string> measuredVersion_;  // class → last version measured
  metrics::CollectorHandle collector_;
  // ACKs arrive one per proxy: the objects of a class are re-queued once per 100 ms, not once
  // per ACK. Declared last: its thread stops before the members it uses go.
  CoalescingBatcher verdictBatches_;
};

}  // namespace meshgate::op
