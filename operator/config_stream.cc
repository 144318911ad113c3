// The operator's side of the config stream, assembled; see config_stream.h.
#include "operator/config_stream.h"

#include <spdlog/spdlog.h>

#include "api/config_stream_protocol.h"
#include "operator/auth_secrets.h"
#include "operator/cluster_bootstrap.h"
#include "operator/config_server_certificates.h"
#include "operator/dataplane_report.h"
#include "operator/secret_data.h"
#include "operator/snapshot_inputs.h"

namespace meshgate::op {

namespace {

// Everything but a resync's no-op update (the same object delivered again) and, with
// `ignoreStatus`, updates that change nothing a snapshot reads (snapshot_inputs.h).
kube::EventHandlers onAnyChange(std::function<void()> changed, bool ignoreStatus = false) {
  kube::EventHandlers handlers;
  handlers.onAdd = [changed](const kube::ObjectSharedPtr&) { changed(); };
  handlers.onUpdate = [changed, ignoreStatus](const kube::ObjectSharedPtr& before,
                                              const kube::ObjectSharedPtr& after) {
    if (before.get() == after.get()) return;
    if (ignoreStatus && before && after && !changesSnapshots(*before, *after)) return;
    changed();
  };
  handlers.onDelete = [changed](const kube::ObjectSharedPtr&) { changed(); };
  return handlers;
}

ConfigServerOptions serverOptions(const ConfigStreamOptions& options) {
  ConfigServerOptions out;
  out.bindAddress = options.bindAddress;
  out.gatewayIdentities = {gatewayIdentity(options.trustDomain, options.systemNamespace)};
  out.trustDomain = options.trustDomain;
  return out;
}

}  // namespace

ConfigStream::ConfigStream(ConfigStreamCaches caches, ConfigStreamOptions options,
                           metrics::Registry& registry)
    : caches_(caches),
      options_(std::move(options)),
      publisher_(
          GatewayCaches{caches.apiRoutes.store(), caches.meshServices.store(),
                        caches.endpointSlices.store(), caches.tlsSecrets.store(),
                        caches.namespaces.store(), caches.pods.store(), caches.authSecrets.store()},
          SidecarCaches{caches.meshServices.store(), caches.endpointSlices.store(),
                        caches.pods.store(), caches.services.store()},
          ConfigPublisherOptions{
              .gateway = {.ports = options_.ports, .trustDomain = options_.trustDomain}}),
      registry_([this](const std::string& version) { return publisher_.contentsOf(version); }),
      status_(publisher_, registry_),
      server_(serverOptions(options_), publisher_, registry_),
      verdictBatches_(std::chrono::milliseconds(100),
                      [this](const std::set<std::string>& classes) { enqueueCarried(classes); }) {
  // The leader's status writes touch every route and service: they build nothing.
  caches.apiRoutes.addEventHandlers(onAnyChange(
      [this] { publisher_.changed(ConfigPublisher::Change::kRoutes); }, /*ignoreStatus=*/true));
  caches.meshServices.addEventHandlers(
      onAnyChange([this] { publisher_.changed(ConfigPublisher::Change::kMeshServices); },
                  /*ignoreStatus=*/true));
  caches.namespaces.addEventHandlers(
      onAnyChange([this] { publisher_.changed(ConfigPublisher::Change::kRoutes); }));
  for (kube::Informer* informer : {&caches.endpointSlices, &caches.pods}) {
    informer->addEventHandlers(
        onAnyChange([this] { publisher_.changed(ConfigPublisher::Change::kEndpoints); }));
  }
  caches.tlsSecrets.addEventHandlers(
      onAnyChange([this] { publisher_.changed(ConfigPublisher::Change::kSecrets); }));
  caches.services.addEventHandlers(onAnyChange(
      [this] { publisher_.changed(ConfigPublisher::Change::kServices); }, /*ignoreStatus=*/true));
  // Of all the Opaque Secrets, only those a route names change a snapshot. A Secret cached before
  // the route that names it is read by the route's own (full) build.
  kube::EventHandlers authSecrets;
  const auto authSecretChanged = [this](const kube::ObjectSharedPtr& secret) {
    if (!routesNamingSecret(caches_.apiRoutes.store(), *secret).empty())
      publisher_.changed(ConfigPublisher::Change::kSecrets);
  };
  authSecrets.onAdd = authSecretChanged;
  authSecrets.onUpdate = [authSecretChanged](const kube::ObjectSharedPtr& before,
                                             const kube::ObjectSharedPtr& after) {
    if (before.get() != after.get()) authSecretChanged(after);
  };
  authSecrets.onDelete = authSecretChanged;
  caches.authSecrets.addEventHandlers(std::move(authSecrets));
  for (kube::Informer* informer : {&caches.managedSecrets, &caches.trustBundle}) {
    informer->addEventHandlers(onAnyChange([this] { loadCredentials(); }));
  }
  registry_.onChange([this](const DataplaneState& state) { verdictsMayChange(state); });
  kube::EventHandlers reports;
  reports.onAdd = [this](const kube::ObjectSharedPtr& added) { reportChanged(*added, false); };
  reports.onUpdate = [this](const kube::ObjectSharedPtr& before,
                            const kube::ObjectSharedPtr& after) {
    if (before.get() != after.get()) reportChanged(*after, false);
  };
  reports.onDelete = [this](const kube::ObjectSharedPtr& gone) { reportChanged(*gone, true); };
  caches.dataplaneReports.addEventHandlers(std::move(reports));
  published_ = publisher_.subscribe([this] {
    if (leading_.load()) markRemoteClasses();
  });

  propagation_ = &registry
                      .histogram("meshgate_config_propagation_seconds",
                                 "From the first change folded into a gateway snapshot version to "
                                 "the last ACK of it by the connected gateways of its class",
                                 {}, {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})
                      .with({});
  collector_ = registry.addCollector([this](metrics::SampleWriter& writer) {
    for (const std::string_view mode : {api::stream::kModeGateway, api::stream::kModeSidecar}) {
      writer.gauge("meshgate_config_dataplanes_connected",
                   "Proxies connected to this replica's config server, by mode",
                   {{"mode", std::string(mode)}},
                   static_cast<double>(registry_.connectedCount(std::string(mode))));
    }
    writer.counter("meshgate_config_nacks_total", "Snapshots refused by a proxy", {},
                   static_cast<double>(registry_.nacksTotal()));
    const auto frames = registry_.framesSent();
    writer.counter(
        "meshgate_config_frames_sent_total",
        "Frames sent to proxies: whole snapshots, or deltas from the version sent before",
        {{"type", "snapshot"}}, static_cast<double>(frames.snapshots));
    writer.counter(
        "meshgate_config_frames_sent_total",
        "Frames sent to proxies: whole snapshots, or deltas from the version sent before",
        {{"type", "delta"}}, static_cast<double>(frames.deltas));
    writer.counter("meshgate_config_frame_bytes_sent_total", "Bytes of the frames sent to proxies",
                   {{"type", "snapshot"}}, static_cast<double>(frames.snapshotBytes));
    writer.counter("meshgate_config_frame_bytes_sent_total", "Bytes of the frames sent to proxies",
                   {{"type", "delta"}}, static_cast<double>(frames.deltaBytes));
    const auto [full, endpointsOnly] = publisher_.buildCounts();
    writer.counter("meshgate_config_builds_total", "Snapshot builds, by what was built",
                   {{"scope", "full"}}, static_cast<double>(full));
    writer.counter("meshgate_config_builds_total", "Snapshot builds, by what was built",
                   {{"scope", "endpoints"}}, static_cast<double>(endpointsOnly));
    writer.counter("meshgate_config_builds_total", "Snapshot builds, by what was built",
                   {{"scope", "sidecar"}}, static_cast<double>(publisher_.sidecarBuildsTotal()));
    writer.gauge("meshgate_config_sidecar_identities",
                 "Workload identities whose sidecar snapshot this replica keeps", {},
                 static_cast<double>(publisher_.sidecars().size()));
    for (const auto& ingressClass : publisher_.classes()) {
      if (auto current = publisher_.current(ingressClass)) {
        writer.gauge("meshgate_config_snapshot_bytes",
                     "Size of the current gateway snapshot's config, by ingress class",
                     {{"ingress_class", ingressClass}}, static_cast<double>(current->configBytes));
      }
    }
  });
}

ConfigStream::~ConfigStream() {
  stop();
}

void ConfigStream::onVerdictMayChange(std::function<void(const std::string&)> enqueue) {
  enqueue_ = std::move(enqueue);
}

void ConfigStream::onLocalDataplanesChange(std::function<void()> changed) {
  localChange_ = std::move(changed);
}

void ConfigStream::startedLeading() {
  leading_.store(true);
  markRemoteClasses();
}

void ConfigStream::markRemoteClasses() {
  for (const auto& ingressClass : registry_.remoteClasses())
    verdictBatches_.mark(ingressClass);
}

Expected<unsigned short, std::string> ConfigStream::start() {
  return server_.start();
}

void ConfigStream::cachesSynced() {
  {
    std::lock_guard lock(credentialsMutex_);
    synced_ = true;
  }
  loadCredentials();
  publisher_.ready();
  markRemoteClasses();  // classes to build now that the publisher can
}

void ConfigStream::stop() {
  server_.stop();
  verdictBatches_.stop();
  publisher_.stop();
  collector_.reset();
}

void ConfigStream::loadCredentials() {
  std::lock_guard lock(credentialsMutex_);
  if (!synced_) return;
  const auto secret =
      caches_.managedSecrets.store().get(options_.systemNamespace + "/" + kConfigServerSecretName);
  const auto bundle =
      caches_.trustBundle.store().get(options_.systemNamespace + "/" + kTrustBundleConfigMap);
  if (!secret || !bundle) return;  // the leader writes them; this replica waits for its cache
  ConfigServerCredentials credentials;
  credentials.certificatePem = secretData(*secret, "tls.crt");
  credentials.privateKeyPem = secretData(*secret, "tls.key");
  const auto data = (*bundle).value("data", nlohmann::json::object());
  credentials.trustBundlePem = data.is_object() ? data.value("ca.crt", "") : "";
  // The resourceVersions say whether anything changed; the key never leaves this function.
  const std::string fingerprint = (*secret)["metadata"].value("resourceVersion", "") + "/" +
                                  (*bundle)["metadata"].value("resourceVersion", "");
  if (fingerprint == credentialsFingerprint_) return;
  if (auto problem = server_.setCredentials(credentials); !problem.empty()) {
    spdlog::warn("config server: credentials from Secret {} not loaded: {}",
                 kConfigServerSecretName, problem);
    return;
  }
  credentialsFingerprint_ = fingerprint;
  spdlog::info("config server: serving certificate and trust bundle loaded");
}

void ConfigStream::verdictsMayChange(const DataplaneState& state) {
  // Sidecars carry no ApiRoute or MeshService status, and reports list gateways only.
  if (state.info.mode != api::stream::kModeGateway) return;
  if (localChange_) localChange_();
  verdictBatches_.mark(state.info.ingressClass);
  const auto current = publisher_.current(state.info.ingressClass);
  if (!current) return;
  // Propagation: the current version is ACKed by every gateway of the class.
  if (state.ackedVersion != current->snapshot->version ||
      !registry_.allAcked(state.info.ingressClass, current->snapshot->version))
    return;
  std::lock_guard lock(propagationMutex_);
  auto& measured = measuredVersion_[state.info.ingressClass];
  if (measured == current->snapshot->version) return;
  measured = current->snapshot->version;
  propagation_->observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - current->firstChangeAt)
          .count());
}

void ConfigStream::reportChanged(const nlohmann::json& configMap, bool deleted) {
  const auto metadata = configMap.value("metadata", nlohmann::json::object());
  const std::string name = metadata.is_object() ? metadata.value("name", "") : "";
  if (name == dataplaneReportName(options_.replica)) return;  // its own proxies count directly
  std::vector<DataplaneState> states;
  if (!deleted) {
    const auto data = configMap.value("data", nlohmann::json::object());
    const auto text = data.is_object() ? data.find(kDataplaneReportKey) : data.end();
    auto report = decodeDataplaneReport(
        text != data.end() && text->is_string() ? text->get<std::string>() : "");
    if (!report) {
      spdlog::warn("dataplane report {}: ignored: {}", name, report.error());
    } else if (report->replica != options_.replica) {
      states = reportedStates(*report);
    }
  }
  for (const auto& ingressClass : registry_.setRemote(name, std::move(states)))
    verdictBatches_.mark(ingressClass);
}

void ConfigStream::enqueueCarried(const std::set<std::string>& ingressClasses) {
  if (!enqueue_) return;
  const auto remote = leading_.load() ? registry_.remoteClasses() : std::set<std::string>{};
  for (const auto& ingressClass : ingressClasses) {
    // A class only other replicas' proxies serve is built here too (the first time, now), so
    // that the versions they ACK name contents this replica knows.
    if (remote.count(ingressClass) > 0 && !publisher_.current(ingressClass))
      publisher_.gatewaySnapshot(ingressClass);
    const auto current = publisher_.current(ingressClass);
    if (!current) continue;
    for (const auto& [objectKey, generation] : current->contents->generations)
      enqueue_(objectKey);
  }
}

}  // namespace meshgate::op
