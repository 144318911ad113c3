// meshgate-webhook: the admission webhook the kube-apiserver calls for Pods (sidecar injection),
// MeshServices and ApiRoutes (defaulting, validation, admission policy). Loads its config file and
// serving certificate (both reloaded on change), fills informer caches of Namespaces, ApiRoutes
// and MeshServices, then serves HTTPS on --bind-address, and /metrics, /healthz and /readyz on
// plain HTTP. kube::Manager orders start and stop; on SIGTERM/SIGINT at any moment the listener
// closes first, answers in flight complete, then the caches and servers stop: exit 0.
#include <atomic>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "api/route_conflicts.h"
#include "base/logging.h"
#include "base/termination_signals.h"
#include "kube/clock.h"
#include "kube/informer.h"
#include "kube/kubeconfig_loader.h"
#include "kube/manager.h"
#include "metrics/probe_server.h"
#include "metrics/registry.h"
#include "webhook/admission/api_route_admission.h"
#include "webhook/admission/mesh_service_admission.h"
#include "webhook/admission_router.h"
#include "webhook/config_reloader.h"
#include "webhook/informer_cluster_view.h"
#include "webhook/injection/pod_admission.h"
#include "webhook/server/admission_server.h"
#include "webhook/server/serving_certificate.h"

#ifndef MESHGATE_VERSION
#error "MESHGATE_VERSION is defined by webhook/CMakeLists.txt"
#endif

namespace {

namespace wh = meshgate::webhook;

struct WebhookOptions {
  std::string bindAddress = ":9443";
  std::string certDir = "/etc/meshgate/webhook-certs";
  std::string configPath;
  wh::ConfigOverrides overrides;
  std::string kubeconfig;
  std::string metricsBindAddress = ":8080";
  std::string healthProbeBindAddress = ":8081";
  std::size_t threads = 2;
  int resyncSeconds = 600;
  std::string logLevel = "info";
  std::string logFormat = "text";
};

}  // namespace

int main(int argc, char** argv) {
  WebhookOptions options;
  CLI::App app{"meshgate-webhook: injects the proxy into pods, defaults and validates CRs"};
  app.add_option("--bind-address", options.bindAddress, "HTTPS address the apiserver calls");
  app.add_option("--cert-dir", options.certDir, "directory with tls.crt and tls.key");
  app.add_option("--config", options.configPath,
                 "injection and policy settings (YAML; default: built-in defaults)");
  const auto noWhitespace = [](const std::string& image) -> std::string {
    if (image.find_first_of(" \t\r\n") == std::string::npos) return "";
    return "must not contain whitespace";
  };
  app.add_option("--sidecar-image", options.overrides.sidecarImage,
                 "the injected proxy's image; wins over injection.image of --config (the "
                 "install sets it from the images of config/default)")
      ->check(noWhitespace);
  app.add_option("--init-image", options.overrides.initImage,
                 "the injected traffic-capture init container's image (meshgate-init); wins over "
                 "injection.initImage of --config (the install sets it from the images of "
                 "config/default)")
      ->check(noWhitespace);
  app.add_option("--kubeconfig", options.kubeconfig,
                 "kubeconfig file (else $KUBECONFIG, else in-cluster)");
  app.add_option("--metrics-bind-address", options.metricsBindAddress, "address of /metrics");
  app.add_option("--health-probe-bind-address", options.healthProbeBindAddress,
                 "address of /healthz and /readyz");
  app.add_option("--threads", options.threads, "threads serving admission requests")
      ->check(CLI::Range(1, 64));
  app.add_option("--resync-period-seconds", options.resyncSeconds,
                 "re-deliver every cached object this often")
      ->check(CLI::Range(1, 86400));
  app.add_option("--log-level", options.logLevel, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-format", options.logFormat, "text|json")
      ->check(CLI::IsMember({"text", "json"}));
  CLI11_PARSE(app, argc, argv);
  meshgate::configureLogging(options.logLevel, options.logFormat, "meshgate-webhook");

  // Before any thread: SIGTERM and SIGINT are taken on a thread of its own, never elsewhere.
  meshgate::TerminationSignals signals;
  // Declared first so it outlives the watchers whose timers and descriptors it serves.
  boost::asio::io_context main;
  metrics::Registry registry;
  auto config = wh::ConfigReloader::load(options.configPath, registry, options.overrides);
  if (!config) {
    spdlog::error("{}", config.error());
    return 1;
  }
  auto certificate = wh::ServingCertificate::load(options.certDir);
  if (!certificate) {
    spdlog::error("{}", certificate.error());
    return 1;
  }
  wh::ConfigReloader& settings = **config;
  wh::ServingCertificate& serving = **certificate;

  auto kubeConfig = kube::resolveConfig(options.kubeconfig);
  if (!kubeConfig) {
    spdlog::error("{}", kubeConfig.error().message);
    return 1;
  }
  spdlog::info("connecting to {}", kubeConfig->describe());
  kube::SystemClock clock;
  auto client = kube::RestClient::create(*kubeConfig, clock);
  if (!client) {
    spdlog::error("{}", client.error().toString());
    return 1;
  }
  kube::ManagerOptions managerOptions;
  managerOptions.name = "meshgate-webhook";
  kube::Manager manager(clock, std::move(managerOptions));
  kube::InformerOptions informerOptions;
  informerOptions.resyncPeriod = std::chrono::seconds(options.resyncSeconds);
  kube::Informer namespaces(**client, kube::resources::kNamespaces, "", informerOptions, clock);
  kube::Informer apiRoutes(**client, kube::resources::kApiRoutes, "", informerOptions, clock);
  apiRoutes.addIndexer(wh::kApiRoutesByHostIndex, meshgate::api::apiRouteHostIndex);
  kube::Informer meshServices(**client, kube::resources::kMeshServices, "", informerOptions, clock);
  // Live reads on the admission path get a short deadline of their own: the apiserver gives the
  // whole call 5 s (timeoutSeconds).
  kube::RestConfig liveConfig = *kubeConfig;
  liveConfig.timeout = std::chrono::seconds(2);
  auto liveClient = kube::RestClient::create(liveConfig, clock);
  if (!liveClient) {
    spdlog::error("{}", liveClient.error().toString());
    return 1;
  }
  wh::InformerClusterView cluster(namespaces, apiRoutes, meshServices, liveClient->get());

  const std::string version = MESHGATE_VERSION;
  wh::AdmissionRouter router(registry);
  router.add("/mutate-v1-pod", {"pod-injection", "Pod", [&](const wh::AdmissionRequest& r) {
                                  return wh::admitPod(r, *settings.current(), cluster, version);
                                }});
  router.add("/mutate-meshgate-io-v1alpha1-meshservice",
             {"meshservice-defaulting", "MeshService", wh::mutateMeshService});
  router.add("/mutate-meshgate-io-v1alpha1-apiroute",
             {"apiroute-defaulting", "ApiRoute", wh::mutateApiRoute});
  router.add("/validate-meshgate-io-v1alpha1-meshservice",
             {"meshservice-validation", "MeshService", [&](const wh::AdmissionRequest& r) {
                return wh::validateMeshService(r, *settings.current(), cluster);
              }});
  router.add("/validate-meshgate-io-v1alpha1-apiroute",
             {"apiroute-validation", "ApiRoute", [&](const wh::AdmissionRequest& r) {
                return wh::validateApiRoute(r, *settings.current(), cluster);
              }});

  // Metrics and probes. Ready once the caches hold the cluster, the admission server listens and
  // the certificate is valid; live while the process runs.
  auto certificateExpiry = registry.addCollector([&serving](metrics::SampleWriter& out) {
    out.gauge("meshgate_webhook_certificate_expiry_seconds",
              "Unix time at which the serving certificate in use expires", {},
              static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                      serving.notAfter().time_since_epoch())
                                      .count()));
  });
  metrics::ProbeServer metricsServer({.routes = {.registry = &registry, .health = false}});
  metrics::ProbeServer probeServer(
      {.routes = {.registry = nullptr,
                  .health = true,
                  .liveness = nullptr,
                  .readiness = [&]() -> metrics::HealthStatus {
                    if (!manager.ready())
                      return {false, std::string("not ready: ") + kube::toString(manager.phase())};
                    if (serving.notAfter() <= std::chrono::system_clock::now())
                      return {false, "serving certificate expired"};
                    return {true, ""};
                  }}});
  wh::AdmissionServer server(
      {.bindAddress = options.bindAddress, .threads = options.threads}, serving,
      [&router](const wh::HttpRequest& request) { return router.handle(request); });

  // Start order (stopped in reverse): the metrics and probe servers, the watches of the config
  // and certificate files, the caches; then, once they hold the cluster, the admission listener —
  // serving before would inject by empty namespace labels and miss conflicts (the apiserver
  // retries meanwhile, or applies the failurePolicy). On stop the listener closes first and the
  // answers in flight complete.
  const auto serverPart = [](const char* name, metrics::ProbeServer& probes,
                             const std::string& address) {
    return kube::ManagedPart{.name = name,
                             .start = [&probes, address](const kube::StopToken&) -> std::string {
                               auto port = probes.start(address);
                               return port ? std::string() : port.error();
                             },
                             .stop = [&probes] { probes.stop(); }};
  };
  manager.addServer(serverPart("metrics server", metricsServer, options.metricsBindAddress));
  manager.addServer(serverPart("probe server", probeServer, options.healthProbeBindAddress));
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
      keepRunning;
  std::thread watchThread;
  manager.addServer({.name = "file watches",
                     .start =
                         [&](const kube::StopToken&) {
                           settings.watch(main);
                           serving.watch(main);
                           keepRunning.emplace(main.get_executor());
                           watchThread = std::thread([&] { main.run(); });
                           return std::string();
                         },
                     .stop =
                         [&] {
                           keepRunning.reset();
                           main.stop();
                           watchThread.join();
                         }});
  manager.addInformer(namespaces);
  manager.addInformer(apiRoutes);
  manager.addInformer(meshServices);
  manager.addSyncedPart({.name = "admission server",
                         .start = [&](const kube::StopToken&) -> std::string {
                           auto port = server.start();
                           if (!port) return port.error();
                           spdlog::info(
                               "serving admission on {} (port {}), certificate valid until {}",
                               options.bindAddress, *port,
                               std::chrono::system_clock::to_time_t(serving.notAfter()));
                           return "";
                         },
                         .stop =
                             [&] {
                               server.drain(std::chrono::seconds(10));
                               server.stop();
                             }});

  signals.start([&](int signal) {
    spdlog::info("signal {}: shutting down", signal);
    manager.requestStop();
  });
  return manager.run();
}
