// meshgate-operator: reconciles MeshServices and ApiRoutes into Services, EndpointSlices,
// Ingresses and certificates, and streams gateway config snapshots to meshgate-proxy (port
// 15012, docs/CONFIG_STREAM.md). Loads the client config and starts the informers at once —
// every replica serves the config stream from its own caches — then elects a leader on a Lease;
// the leader bootstraps the mesh CA and the IngressClass and runs the controllers. Serves
// /metrics, /healthz and /readyz. kube::Manager starts the parts in order and, on SIGTERM/SIGINT
// at any moment, stops them in reverse (the Lease released last of the leader's work): exit 0.
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <iostream>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "api/duration.h"
#include "api/route_conflicts.h"
#include "base/logging.h"
#include "base/termination_signals.h"
#include "kube/clock.h"
#include "kube/controller.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/kubeconfig_loader.h"
#include "kube/leader_elector.h"
#include "kube/manager.h"
#include "metrics/probe_server.h"
#include "metrics/registry.h"
#include "operator/api_route_reconciler.h"
#include "operator/auth_secrets.h"
#include "operator/cluster_bootstrap.h"
#include "operator/config_server_certificates.h"
#include "operator/config_stream.h"
#include "operator/dataplane_report.h"
#include "operator/dataplane_report_writer.h"
#include "operator/mesh_certificate_issuer.h"
#include "operator/mesh_service_reconciler.h"
#include "operator/operator_options.h"
#include "operator/owner_reference.h"
#include "operator/trust_rotation.h"
#include "operator/webhook_certificates.h"

namespace {

using meshgate::op::OperatorOptions;

// Every object that owns `object` by a non-controller ownerReference of `kind` (shared Secrets).
std::vector<kube::Request> ownersOfKind(const nlohmann::json& object, const std::string& kind) {
  std::vector<kube::Request> out;
  const auto& metadata = object.at("metadata");
  for (const auto& ref : metadata.value("ownerReferences", nlohmann::json::array())) {
    if (ref.value("kind", "") == kind)
      out.push_back({metadata.value("namespace", ""), ref.value("name", "")});
  }
  return out;
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// This replica's name among the others: its Pod's, else its Lease identity, else host and pid.
std::string replicaId(const OperatorOptions& options, const std::string& leaderIdentity) {
  if (auto pod = environment("POD_NAME"); !pod.empty()) return pod;
  if (options.leaderElect) return leaderIdentity;
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    return "operator-" + std::to_string(getpid());
  return std::string(host) + "-" + std::to_string(getpid());
}

}  // namespace

int main(int argc, char** argv) {
  OperatorOptions options;
  CLI::App app{"meshgate-operator: reconciles MeshServices and ApiRoutes"};
  app.add_option("--kubeconfig", options.kubeconfig,
                 "kubeconfig file (else $KUBECONFIG, else in-cluster)");
  app.add_option("--system-namespace", options.systemNamespace,
                 "namespace of the CA, the trust bundle and the Lease");
  app.add_option("--namespace", options.watchNamespace,
                 "only reconcile this namespace (default: all)");
  app.add_option("--trust-domain", options.trustDomain, "SPIFFE trust domain");
  app.add_flag("--leader-elect", options.leaderElect, "elect a leader on a Lease before acting");
  app.add_option("--leader-election-id", options.leaderElectionId, "name of the Lease");
  app.add_option("--metrics-bind-address", options.metricsBindAddress, "address of /metrics");
  app.add_option("--health-probe-bind-address", options.healthProbeBindAddress,
                 "address of /healthz and /readyz");
  app.add_option("--workers", options.workers, "reconcile workers per controller")
      ->check(CLI::Range(1, 64));
  app.add_option("--resync-period-seconds", options.resyncSeconds,
                 "reconcile every cached object again this often")
      ->check(CLI::Range(1, 86400));
  app.add_option("--kube-api-qps", options.kubeApiQps,
                 "requests per second the controllers may send to the apiserver")
      ->check(CLI::Range(1.0, 10000.0));
  app.add_option("--kube-api-burst", options.kubeApiBurst, "burst above --kube-api-qps")
      ->check(CLI::Range(1, 20000));
  app.add_option("--config-server-bind-address", options.configServerBindAddress,
                 "address of the config stream for proxies (\"\" disables it)");
  app.add_option("--config-server-dns-name", options.configServerDnsNames,
                 "extra DNS name of the config server's certificate (repeatable)");
  app.add_option("--gateway-http-port", options.gatewayHttpPort,
                 "port of the http listener in gateway snapshots")
      ->check(CLI::Range(1, 65535));
  app.add_option("--gateway-https-port", options.gatewayHttpsPort,
                 "port of the https listener in gateway snapshots")
      ->check(CLI::Range(1, 65535));
  app.add_option_function<std::string>(
         "--trust-bundle-grace",
         [&](const std::string& text) {
           options.trustBundleGrace = meshgate::api::Duration::parse(text)->value();
         },
         "keep a CA root that signs no leaf any more in the trust bundle this long (default 5m)")
      ->type_name("DURATION")
      ->check(CLI::Validator(
          [](std::string& text) {
            std::string error;
            return meshgate::api::Duration::parse(text, &error) ? std::string() : error;
          },
          ""));
  app.add_option("--log-level", options.logLevel, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-format", options.logFormat, "text|json")
      ->check(CLI::IsMember({"text", "json"}));
  CLI11_PARSE(app, argc, argv);
  meshgate::configureLogging(options.logLevel, options.logFormat, "meshgate-operator");

  // Before any thread: SIGTERM and SIGINT are taken on a thread of its own, never elsewhere.
  meshgate::TerminationSignals signals;

  auto config = kube::resolveConfig(options.kubeconfig);
  if (!config) {
    spdlog::error("{}", config.error().message);
    return 1;
  }
  spdlog::info("connecting to {}", config->describe());
  kube::RestConfig controllersConfig = *config;
  controllersConfig.qps = options.kubeApiQps;
  controllersConfig.burst = options.kubeApiBurst;
  kube::SystemClock clock;
  auto client = kube::RestClient::create(controllersConfig, clock);
  if (!client) {
    spdlog::error("{}", client.error().toString());
    return 1;
  }
  kube::RestClient& rest = **client;
  // Events and the Lease go through a client of their own, as client-go does for leader
  // election: a burst of reconciles cannot starve renewals, and the request metric below counts
  // only what the controllers write.
  auto sideClient = kube::RestClient::create(*config, clock);
  if (!sideClient) {
    spdlog::error("{}", sideClient.error().toString());
    return 1;
  }
  kube::EventRecorder events(**sideClient, clock);

  // Caches. Children are filtered to what meshgate manages; EndpointSlices are all read because
  // the endpoint counts include the slices Kubernetes makes for selectors.
  const std::string ns = options.watchNamespace;
  kube::InformerOptions informerOptions;
  informerOptions.resyncPeriod = std::chrono::seconds(options.resyncSeconds);
  kube::InformerOptions managedOnly = informerOptions;
  managedOnly.reflector.labelSelector =
      std::string(meshgate::op::kManagedByLabel) + "=" + meshgate::op::kManagedByValue;
  kube::Informer meshServices(rest, kube::resources::kMeshServices, ns, informerOptions, clock);
  kube::Informer services(rest, kube::resources::kServices, ns, managedOnly, clock);
  kube::Informer endpointSlices(rest, kube::resources::kEndpointSlices, ns, informerOptions, clock);
  kube::Informer secrets(rest, kube::resources::kSecrets, ns, managedOnly, clock);
  meshServices.addIndexer(meshgate::op::kMeshServicesByServiceAccount,
                          meshgate::op::meshServiceAccountIndex);
  endpointSlices.addIndexer(meshgate::op::kEndpointSlicesByService,
                            meshgate::op::endpointSliceServiceIndex);
  kube::Informer apiRoutes(rest, kube::resources::kApiRoutes, ns, informerOptions, clock);
  apiRoutes.addIndexer(meshgate::op::kApiRoutesByHost, meshgate::api::apiRouteHostIndex);
  apiRoutes.addIndexer(meshgate::op::kApiRoutesByBackend, meshgate::op::apiRouteBackendIndex);
  apiRoutes.addIndexer(meshgate::op::kApiRoutesByAuthSecret, meshgate::op::apiRouteAuthSecretIndex);
  kube::Informer ingresses(rest, kube::resources::kIngresses, ns, managedOnly, clock);
  // Namespaces carry meshgate.io/allowed-hosts; cluster-scoped, so watched whole.
  kube::Informer namespaces(rest, kube::resources::kNamespaces, "", informerOptions, clock);
  // Webhook configurations that ask for the mesh trust bundle as their caBundle.
  kube::InformerOptions injectCaBundle = informerOptions;
  injectCaBundle.reflector.labelSelector =
      std::string(meshgate::op::kInjectCaBundleLabel) + "=true";
  kube::Informer mutatingConfigurations(rest, kube::resources::kMutatingWebhookConfigurations, "",
                                        injectCaBundle, clock);
  kube::Informer validatingConfigurations(rest, kube::resources::kValidatingWebhookConfigurations,
                                          "", injectCaBundle, clock);
  // The CA Secret and the published trust bundle, by name in the system namespace.
  kube::InformerOptions caSecretOnly = informerOptions;
  caSecretOnly.reflector.fieldSelector =
      std::string("metadata.name=") + meshgate::op::kCaSecretName;
  kube::Informer caSecret(rest, kube::resources::kSecrets, options.systemNamespace, caSecretOnly,
                          clock);
  kube::InformerOptions bundleOnly = informerOptions;
  bundleOnly.reflector.fieldSelector =
      std::string("metadata.name=") + meshgate::op::kTrustBundleConfigMap;
  kube::Informer trustBundle(rest, kube::resources::kConfigMaps, options.systemNamespace,
                             bundleOnly, clock);
  // Listener certificates of the routes' spec.tls, for gateway snapshots.
  kube::InformerOptions tlsSecretsOnly = informerOptions;
  tlsSecretsOnly.reflector.fieldSelector = "type=kubernetes.io/tls";
  kube::Informer tlsSecrets(rest, kube::resources::kSecrets, ns, tlsSecretsOnly, clock);
  // The Secrets ApiRoute auth names (JWKS, API keys), for gateway snapshots and ResolvedRefs.
  // Only type Opaque (what `kubectl create secret generic` makes): service-account tokens, Helm
  // releases, registry credentials and certificates are never cached for it.
  kube::InformerOptions opaqueSecretsOnly = informerOptions;
  opaqueSecretsOnly.reflector.fieldSelector = "type=Opaque";
  kube::Informer authSecrets(rest, kube::resources::kSecrets, ns, opaqueSecretsOnly, clock);
  // Pod labels: MeshService subsets select discovered endpoints by them.
  kube::Informer pods(rest, kube::resources::kPods, ns, informerOptions, clock);
  // The other replicas' reports of the proxies connected to them, for the leader's verdicts.
  kube::InformerOptions reportsOnly = informerOptions;
  reportsOnly.reflector.labelSelector = std::string(meshgate::op::kDataplaneReportLabel) + "=true";
  kube::Informer dataplaneReports(rest, kube::resources::kConfigMaps, options.systemNamespace,
                                  reportsOnly, clock);
  const std::vector<kube::Informer*> informers = {&meshServices,
                                                  &tlsSecrets,
                                                  &authSecrets,
                                                  &pods,
                                                  &services,
                                                  &endpointSlices,
                                                  &secrets,
                                                  &apiRoutes,
                                                  &ingresses,
                                                  &mutatingConfigurations,
                                                  &validatingConfigurations,
                                                  &namespaces,
                                                  &caSecret,
                                                  &trustBundle,
                                                  &dataplaneReports};

  const std::string leaderIdentity = kube::defaultLeaderIdentity();
  const std::string replica = meshgate::op::replicaLabel(replicaId(options, leaderIdentity));
  // The manager owns the order of start and stop (kube/manager.h); wired at the end of main.
  kube::ManagerOptions managerOptions;
  managerOptions.name = "meshgate-operator";
  if (options.leaderElect) {
    kube::LeaderElectorConfig electorConfig;
    electorConfig.leaseNamespace = options.systemNamespace;
    electorConfig.leaseName = options.leaderElectionId;
    electorConfig.identity = leaderIdentity;
    electorConfig.callbacks.onNewLeader = [](const std::string& who) {
      spdlog::info("leader is {}", who);
    };
    managerOptions.leaderElection.emplace(
        kube::ManagerLeaderElection{.client = **sideClient, .config = std::move(electorConfig)});
  }
  kube::Manager manager(clock, std::move(managerOptions));
  metrics::Registry registry;
  meshgate::op::ConfigStream configStream(
      {apiRoutes, meshServices, endpointSlices, tlsSecrets, namespaces, pods, authSecrets, secrets,
       trustBundle, dataplaneReports, services},
      {.bindAddress = options.configServerBindAddress,
       .systemNamespace = options.systemNamespace,
       .trustDomain = options.trustDomain,
       .ports = {.http = static_cast<uint16_t>(options.gatewayHttpPort),
                 .https = static_cast<uint16_t>(options.gatewayHttpsPort)},
       .replica = replica},
      registry);
  // While it does not lead, the replica reports its proxies to the leader in a ConfigMap, through
  // a client of its own with a short timeout: a slow write delays a report, never a reconcile.
  kube::RestConfig reportsConfig = *config;
  reportsConfig.timeout = std::chrono::seconds(10);
  auto reportsClient = kube::RestClient::create(reportsConfig, clock);
  if (!reportsClient) {
    spdlog::error("{}", reportsClient.error().toString());
    return 1;
  }
  meshgate::op::DataplaneReportWriterOptions reportOptions;
  reportOptions.systemNamespace = options.systemNamespace;
  reportOptions.replica = replica;
  reportOptions.podName = environment("POD_NAME");
  reportOptions.podUid = environment("POD_UID");
  meshgate::op::DataplaneReportWriter reportWriter(**reportsClient, configStream.registry(),
                                                   reportOptions);
  configStream.onLocalDataplanesChange([&] { reportWriter.changed(); });
  spdlog::info("dataplane reports: this replica is {}", replica);

  meshgate::op::MeshCa ca;
  meshgate::op::MeshCertificateIssuer issuer(rest, secrets.store(), ca, clock);
  meshgate::op::MeshServiceReconciler meshServiceReconciler(
      rest, {meshServices, services, endpointSlices, namespaces}, issuer, configStream.status(),
      events, clock,
      {.trustDomain = options.trustDomain, .workloadCertificateLifetime = std::chrono::hours(24)});
  // Writes not yet seen in the caches are remembered until the informer delivers the object's
  // next event (recent_writes.h), so a reconcile woken by another event does not repeat them.
  // Registered before the controllers' handlers: the entry is gone before the reconcile that
  // event causes can look.
  const auto forgetOnEvents = [](kube::Informer& informer, meshgate::op::RecentWrites& writes,
                                 const kube::GroupVersionResource& gvr, const char* suffix) {
    informer.addEventHandlers(writes.forgetOnEvents(gvr.resource + suffix));
  };
  forgetOnEvents(services, meshServiceReconciler.recentWrites(), kube::resources::kServices, "");
  forgetOnEvents(endpointSlices, meshServiceReconciler.recentWrites(),
                 kube::resources::kEndpointSlices, "");
  forgetOnEvents(meshServices, meshServiceReconciler.recentWrites(), kube::resources::kMeshServices,
                 "/status");
  kube::ControllerOptions controllerOptions;
  controllerOptions.workers = options.workers;
  kube::Controller meshServiceController("meshservice", meshServiceReconciler,
                                         std::move(controllerOptions), clock);
  meshServiceController.watchPrimary(meshServices);
  meshServiceController.watchOwned(services, "MeshService");
  meshServiceController.watchMapped(endpointSlices, [](const nlohmann::json& slice) {
    std::vector<kube::Request> out;
    for (const auto& key : meshgate::op::endpointSliceServiceIndex(slice))
      out.push_back(kube::Request::fromKey(key));
    return out;
  });
  meshServiceController.watchMapped(
      secrets, [](const nlohmann::json& secret) { return ownersOfKind(secret, "MeshService"); });

  meshgate::op::ApiRouteReconciler apiRouteReconciler(
      rest, {apiRoutes, meshServices, ingresses, namespaces, authSecrets}, issuer,
      configStream.status(), events, clock,
      {.hostCertificateLifetime = std::chrono::hours(24 * 90)});
  forgetOnEvents(ingresses, apiRouteReconciler.recentWrites(), kube::resources::kIngresses, "");
  forgetOnEvents(apiRoutes, apiRouteReconciler.recentWrites(), kube::resources::kApiRoutes,
                 "/status");
  kube::ControllerOptions apiRouteControllerOptions;
  apiRouteControllerOptions.workers = options.workers;
  kube::Controller apiRouteController("apiroute", apiRouteReconciler,
                                      std::move(apiRouteControllerOptions), clock);
  apiRouteController.watchPrimary(apiRoutes);
  // A route that changes or goes may hand hosts to the routes it was winning against.
  apiRouteController.watchMapped(apiRoutes, [&](const nlohmann::json& route) {
    return apiRouteReconciler.routesSharingHosts(route);
  });
  apiRouteController.watchOwned(ingresses, "ApiRoute");
  apiRouteController.watchMapped(
      secrets, [](const nlohmann::json& secret) { return ownersOfKind(secret, "ApiRoute"); });
  apiRouteController.watchMapped(meshServices, [&](const nlohmann::json& ms) {
    std::vector<kube::Request> out;
    const std::string key = kube::keyOf(ms);
    for (const auto& route : apiRoutes.store().byIndex(meshgate::op::kApiRoutesByBackend, key))
      out.push_back(kube::Request::fromKey(kube::keyOf(*route)));
    return out;
  });
  // A Secret a route's auth names appears, changes or goes: its ResolvedRefs may change.
  apiRouteController.watchMapped(authSecrets, [&](const nlohmann::json& secret) {
    return meshgate::op::routesNamingSecret(apiRoutes.store(), secret);
  });
  apiRouteController.watchMapped(namespaces, [&](const nlohmann::json& namespaceObject) {
    std::vector<kube::Request> out;
    const std::string name = namespaceObject["metadata"].value("name", "");
    for (const auto& route : apiRoutes.store().byIndex(std::string(kube::kNamespaceIndex), name))
      out.push_back(kube::Request::fromKey(kube::keyOf(*route)));
    return out;
  });
  meshgate::op::WebhookCertificateReconciler webhookReconciler(
      rest, {mutatingConfigurations, validatingConfigurations}, issuer, ca, clock,
      options.systemNamespace);
  kube::Controller webhookController("webhookcertificates", webhookReconciler, {}, clock);
  const auto toWebhookKey = [&](const nlohmann::json&) {
    return std::vector<kube::Request>{webhookReconciler.request()};
  };
  webhookController.watchMapped(mutatingConfigurations, toWebhookKey);
  webhookController.watchMapped(validatingConfigurations, toWebhookKey);
  webhookController.watchMapped(secrets, [&](const nlohmann::json& secret) {
    const auto& metadata = secret["metadata"];
    if (metadata.value("name", "") != meshgate::op::kWebhookSecretName ||
        metadata.value("namespace", "") != options.systemNamespace)
      return std::vector<kube::Request>{};
    return std::vector<kube::Request>{webhookReconciler.request()};
  });
  meshgate::op::ConfigServerCertificateReconciler configCertificateReconciler(
      issuer, clock,
      {.systemNamespace = options.systemNamespace,
       .trustDomain = options.trustDomain,
       .extraDnsNames = options.configServerDnsNames});
  kube::Controller configCertificateController("configservercertificates",
                                               configCertificateReconciler, {}, clock);
  configCertificateController.watchMapped(secrets, [&](const nlohmann::json& secret) {
    const auto& metadata = secret["metadata"];
    const std::string name = metadata.value("name", "");
    if (metadata.value("namespace", "") != options.systemNamespace ||
        (name != meshgate::op::kConfigServerSecretName &&
         name != meshgate::op::kGatewayIdentitySecretName))
      return std::vector<kube::Request>{};
    return std::vector<kube::Request>{configCertificateReconciler.request()};
  });
  // A new signing CA or bundle: everything that holds a certificate is looked at again.
  meshgate::op::TrustRotationReconciler trustReconciler(
      rest, {caSecret, trustBundle, secrets}, ca, clock, options.systemNamespace,
      options.trustBundleGrace, [&] {
        for (const auto& key : meshServices.store().listKeys())
          meshServiceController.queue().add(key);
        for (const auto& key : apiRoutes.store().listKeys())
          apiRouteController.queue().add(key);
        webhookController.queue().add(webhookReconciler.request().key());
        configCertificateController.queue().add(configCertificateReconciler.request().key());
      });
  kube::Controller trustController("trust", trustReconciler, {}, clock);
  const auto toTrustKey = [&](const nlohmann::json&) {
    return std::vector<kube::Request>{trustReconciler.request()};
  };
  trustController.watchMapped(caSecret, toTrustKey);
  trustController.watchMapped(trustBundle, toTrustKey);
  trustController.watchMapped(secrets, toTrustKey);
  // An ACK, a NACK, a proxy that comes or goes: the objects it carries get their Programmed
  // condition looked at again (the leader's controllers write it).
  configStream.onVerdictMayChange([&](const std::string& objectKey) {
    const auto slash = objectKey.find('/');
    const std::string kind = objectKey.substr(0, slash);
    const std::string key = objectKey.substr(slash + 1);
    if (kind == "ApiRoute") apiRouteController.queue().add(key);
    if (kind == "MeshService") meshServiceController.queue().add(key);
  });
  const std::vector<std::pair<std::string, kube::Controller*>> controllers = {
      {"meshservice", &meshServiceController},
      {"apiroute", &apiRouteController},
      {"webhookcertificates", &webhookController},
      {"configservercertificates", &configCertificateController},
      {"trust", &trustController}};

  // Metrics and probes.
  auto collector = registry.addCollector([&](metrics::SampleWriter& writer) {
    for (const auto& [name, controller] : controllers) {
      const auto& m = controller->metrics();
      const metrics::Labels labels = {{"controller", name}};
      writer.counter("meshgate_reconcile_total", "Reconciles by controller", labels,
                     static_cast<double>(m.reconcileTotal.load()));
      writer.counter("meshgate_reconcile_errors_total", "Failed reconciles by controller", labels,
                     static_cast<double>(m.reconcileErrors.load()));
      writer.counter("meshgate_reconcile_seconds_total", "Time spent reconciling by controller",
                     labels, static_cast<double>(m.reconcileMicrosTotal.load()) / 1e6);
      const auto queue = controller->queue().metrics()->snapshot();
      writer.gauge("meshgate_workqueue_depth", "Keys waiting", {{"name", name}},
                   static_cast<double>(queue.depth));
      writer.counter("meshgate_workqueue_retries_total", "Keys requeued after a failure",
                     {{"name", name}}, static_cast<double>(queue.retriesTotal));
    }
    writer.counter("meshgate_certificates_issued_total",
                   "Certificates the operator signed with the mesh CA since it started", {},
                   static_cast<double>(issuer.issuedTotal()));
    if (auto earliest = issuer.earliestExpiry()) {
      writer.gauge(
          "meshgate_certificate_expiry_seconds",
          "Seconds until the earliest managed certificate expires", {},
          std::chrono::duration<double>(*earliest - std::chrono::system_clock::now()).count());
    }
    for (const auto& [verb, count] : rest.requestCounts()) {
      writer.counter("meshgate_apiserver_requests_total",
                     "Requests the controllers sent to the apiserver, by verb", {{"verb", verb}},
                     static_cast<double>(count));
    }
  });
  metrics::ProbeServer metricsServer({.routes = {.registry = &registry, .health = false}});
  metrics::ProbeServer probeServer(
      {.routes = {.registry = nullptr,
                  .health = true,
                  .liveness = nullptr,
                  // Every replica serves the config stream from its caches, so a standby is
                  // ready too: the Service spreads proxies over all replicas.
                  .readiness = [&]() -> metrics::HealthStatus {
                    if (manager.serving()) return {true, ""};
                    return {false, std::string("not ready: ") + kube::toString(manager.phase())};
                  }}});

  // What every replica runs, in start order (stopped in reverse): the Event sender, the
  // dataplane report writer (its stop deletes this replica's report, after the config stream's
  // sessions ended), the config server, the metrics and probe servers; then the caches.
  const auto nothingToStart = [](const kube::StopToken&) { return std::string(); };
  manager.addServer({.name = "events", .start = nothingToStart, .stop = [&] { events.stop(); }});
  manager.addServer(
      {.name = "dataplane reports", .start = nothingToStart, .stop = [&] { reportWriter.stop(); }});
  if (!options.configServerBindAddress.empty()) {
    manager.addServer({.name = "config server",
                       .start = [&](const kube::StopToken&) -> std::string {
                         auto port = configStream.start();
                         if (!port) return port.error();
                         spdlog::info("config server listening on port {}", *port);
                         return "";
                       },
                       .stop = [&] { configStream.stop(); }});
  }
  const auto serverPart = [](const char* name, metrics::ProbeServer& server,
                             const std::string& address) {
    return kube::ManagedPart{.name = name,
                             .start = [&server, address](const kube::StopToken&) -> std::string {
                               auto port = server.start(address);
                               return port ? std::string() : port.error();
                             },
                             .stop = [&server] { server.stop(); }};
  };
  manager.addServer(serverPart("metrics server", metricsServer, options.metricsBindAddress));
  manager.addServer(serverPart("probe server", probeServer, options.healthProbeBindAddress));
  for (auto* informer : informers)
    manager.addInformer(*informer);
  manager.addSyncedPart({.name = "config stream caches",
                         .start =
                             [&](const kube::StopToken&) {
                               configStream.cachesSynced();
                               return std::string();
                             },
                         .stop = nullptr});

  // What the leader runs, in order: the mesh CA and IngressClass (retried until they exist),
  // then the controllers, then the reconciles wanted whether or not anything changed yet.
  manager.addLeaderPart({.name = "leading",
                         .start =
                             [&](const kube::StopToken&) {
                               spdlog::info("leading: bootstrapping the mesh CA, then controllers");
                               reportWriter.startedLeading();
                               configStream.startedLeading();
                               return std::string();
                             },
                         .stop = nullptr});
  manager.addLeaderPart(
      {.name = "cluster bootstrap",
       .start = [&](const kube::StopToken& stop) -> std::string {
         meshgate::op::ClusterBootstrap bootstrap(rest, options.systemNamespace, ca, clock);
         for (std::chrono::milliseconds backoff{500};;
              backoff = std::min(backoff * 2, std::chrono::milliseconds(30000))) {
           auto problem = bootstrap.run();
           if (problem.empty()) return "";
           spdlog::warn("bootstrap: {} (retrying in {} ms)", problem, backoff.count());
           if (stop.waitFor(backoff)) return "stopped while retrying: " + problem;
         }
       },
       .stop = nullptr});
  for (const auto& [name, controller] : controllers)
    manager.addController(*controller);
  manager.addLeaderPart({.name = "initial reconciles",
                         .start =
                             [&](const kube::StopToken&) {
                               webhookController.queue().add(webhookReconciler.request().key());
                               trustController.queue().add(trustReconciler.request().key());
                               configCertificateController.queue().add(
                                   configCertificateReconciler.request().key());
                               return std::string();
                             },
                         .stop = nullptr});

  signals.start([&](int signal) {
    spdlog::info("signal {}: shutting down", signal);
    manager.requestStop();
  });
  const int exitCode = manager.run();
  collector.reset();
  return exitCode;
}
