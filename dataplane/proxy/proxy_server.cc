// Startup, reload, drain and admin of meshgate-proxy.
#include "dataplane/proxy/proxy_server.h"

#include <csignal>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "api/proxy_config_codec.h"
#include "dataplane/config/proxy_config_loader.h"
#include "dataplane/proxy/identity_status_pages.h"
#include "dataplane/proxy/persisted_snapshot.h"
#include "dataplane/proxy/rfc3339_time.h"

namespace meshgate::dp {

namespace asio = boost::asio;

ProxyServer::ProxyServer(ProxyServerOptions options)
    : options_(std::move(options)),
      reloadSignal_(main_, SIGHUP),
      stopSignals_(main_, SIGTERM, SIGINT),
      drainTimer_(main_),
      filterResources_(main_, &stats_.jwksFetches),
      healthChecker_(main_) {}

ProxyServer::~ProxyServer() {
  if (stream_) stream_->stop();
  admin_.reset();
  collector_.reset();
  for (auto& worker : workers_)
    worker->stop();
}

Expected<bool, std::string> ProxyServer::openListeners(const Snapshot& snapshot) {
  // Bind every new or moved listener first; only when all succeed are they handed to workers.
  std::map<std::string, OpenListener> opened;
  for (const auto& listener : snapshot.listeners()) {
    const auto& config = listener.config;
    const auto existing = listeners_.find(config.name);
    if (existing != listeners_.end() && existing->second.address == config.address &&
        existing->second.port == config.port)
      continue;
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(config.address, ec);
    if (ec) return "listeners " + config.name + ": invalid address " + config.address;
    OpenListener open{
        .address = config.address, .port = config.port, .boundPort = config.port, .acceptors = {}};
    for (auto& worker : workers_) {
      auto acceptor = std::make_shared<tcp::acceptor>(worker->context());
      const tcp::endpoint endpoint(address, open.boundPort);
      acceptor->open(endpoint.protocol(), ec);
      if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) {
        const int one = 1;
        if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one))
          ec = boost::system::error_code(errno, boost::system::system_category());
      }
      if (!ec) acceptor->bind(endpoint, ec);
      if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
      if (ec)
        return "listeners " + config.name + ": cannot listen on " + config.address + ":" +
               std::to_string(open.boundPort) + ": " + ec.message();
      open.boundPort = acceptor->local_endpoint().port();
      open.acceptors.push_back(std::move(acceptor));
    }
    opened[config.name] = std::move(open);
  }
  // Swap: workers start accepting on the new sockets and stop on the ones no longer configured.
  for (auto& [name, open] : opened) {
    if (listeners_.contains(name))
      for (auto& worker : workers_)
        worker->removeListener(name);
    for (size_t i = 0; i < workers_.size(); ++i)
      workers_[i]->addListener(name, open.acceptors[i]);
    spdlog::info("listener {} on {}:{}", name, open.address, open.boundPort);
    listeners_[name] = std::move(open);
  }
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    if (snapshot.listener(it->first)) {
      ++it;
      continue;
    }
    for (auto& worker : workers_)
      worker->removeListener(it->first);
    spdlog::info("listener {} closed", it->first);
    it = listeners_.erase(it);
  }
  std::map<std::string, uint16_t> bound;
  for (const auto& [name, open] : listeners_)
    bound[name] = open.boundPort;
  std::lock_guard lock(mutex_);
  boundPorts_ = std::move(bound);
  return true;
}

namespace {

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end == std::string::npos ? end : end - start);
    if (!line.empty()) lines.push_back(line);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

std::string joinHostPort(const std::string& address, uint16_t port) {
  return (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" +
         std::to_string(port);
}

}  // namespace

void ProxyServer::refuse(const std::string& why, const std::string& message) {
  stats_.reloads.with({"failure"}).inc();
  std::lock_guard lock(mutex_);
  reloadFailures_++;
  lastError_ = message;
  spdlog::error(
      "config {} refused; {}:\n{}", why,
      current_ ? "still serving version " + current_->version() : std::string("nothing to serve"),
      message);
}

std::string ProxyServer::install(ProxyConfig config, ConfigOrigin origin, const std::string& why) {
  const WorkloadIdentitySharedPtr identity = identity_ ? identity_->status().identity : nullptr;
  std::optional<ProxyConfig> meshSource;
  if (options_.sidecar) {
    if (!config.mesh) return "sidecar mode: the config has no mesh section";
    meshSource = config;
    // With an identity, the inbound listener waits for the operator's config (see
    // SidecarMeshOptions): a mesh port is never passed through in plaintext by mistake.
    expandMeshConfig(config, options_.sidecar->listen,
                     origin != ConfigOrigin::kBootstrap || identity == nullptr);
  }
  if (current_ && identity == installedIdentity_ && config.version == current_->version() &&
      encodeProxyConfig(config) == encodeProxyConfig(current_->config())) {
    spdlog::debug("config {}: unchanged (version {})", why, config.version);
    std::lock_guard lock(mutex_);
    origin_ = origin;  // e.g. the operator confirms the persisted snapshot
    lastError_.clear();
    return {};
  }
  auto snapshot = Snapshot::build(std::move(config), health_, stats_, clock_, current_.get(),
                                  &filterResources_, workers_.size(), identity);
  if (!snapshot) {
    filterResources_.abandon();
    return snapshot.error();
  }
  if (auto opened = openListeners(**snapshot); !opened) {
    filterResources_.abandon();
    return opened.error();
  }
  filterResources_.commit();
  for (const auto& warning : (*snapshot)->warnings())
    spdlog::warn("config {}: {}", why, warning);
  for (auto& worker : workers_)
    worker->adopt(*snapshot);
  healthChecker_.watch(*snapshot);
  installedIdentity_ = identity;
  if (meshSource) meshSource_ = std::move(meshSource);
  {
    std::lock_guard lock(mutex_);
    current_ = *snapshot;
    origin_ = origin;
    appliedAt_ = std::chrono::system_clock::now();
    lastError_.clear();
  }
  stats_.reloads.with({"success"}).inc();
  spdlog::info("config {}: serving version {} ({} listeners, {} routes, {} clusters)", why,
               (*snapshot)->version(), (*snapshot)->listeners().size(),
               (*snapshot)->config().routes.size(), (*snapshot)->config().clusters.size());
  return {};
}

bool ProxyServer::reload(const std::string& why) {
  auto config = loadProxyConfigFile(options_.configPath);
  if (!config) {
    refuse(why, config.error());
    return false;
  }
  if (auto error = install(std::move(*config), ConfigOrigin::kFile, why); !error.empty()) {
    refuse(why, error);
    return false;
  }
  return true;
}

ConfigStreamClient::ApplyResult ProxyServer::applyStreamed(const std::string& version,
                                                           const nlohmann::json& document) {
  const GatewayOptions& gateway = *options_.gateway;
  const std::string why = "version " + version + " from " + gateway.stream.endpoint.url;
  ConfigStreamClient::ApplyResult result;
  auto loaded = loadStreamedProxyConfig(version, document, gateway.overrides, lastGoodRoutes_,
                                        current_ ? &current_->config().routes : nullptr);
  if (!loaded) {
    result.errors = loaded.error();
    refuse(why, formatInvalidProxyConfig("<config stream>", result.errors));
  } else {
    result.refusedRoutes = std::move(loaded->refused);
    for (const auto& [route, errors] : result.refusedRoutes) {
      spdlog::warn(
          "config {}: route {} refused, {}: {}", why, route,
          lastGoodRoutes_.count(route) > 0 ? "its previous form keeps serving" : "it is left out",
          errors.empty() ? std::string() : errors.front());
    }
    std::map<std::string, api::ApiRoute> serving;
    for (const auto& route : loaded->config.routes)
      serving.emplace(routeKey(route), route);
    if (auto error = install(std::move(loaded->config), ConfigOrigin::kControlPlane, why);
        !error.empty()) {
      result.errors = splitLines(error);
      result.refusedRoutes.clear();
      refuse(why, error);
    } else {
      lastGoodRoutes_ = std::move(serving);
    }
  }
  if (!result.errors.empty()) {
    stats_.configUpdates.with({"nack"}).inc();
    return result;
  }
  stats_.configUpdates.with({"ack"}).inc();
  openAccessLog(current_->config());
  if (!gateway.snapshotFile.empty()) {
    if (auto written = writePersistedSnapshot(gateway.snapshotFile, document.dump()); !written)
      spdlog::warn("cannot persist the snapshot: {}", written.error());
  }
  return result;
}

void ProxyServer::loadPersistedSnapshot() {
  const GatewayOptions& gateway = *options_.gateway;
  const std::string& path = gateway.snapshotFile;
  if (path.empty()) return;
  auto document = readPersistedSnapshot(path);
  if (!document) {
    spdlog::warn("persisted snapshot ignored: {}", document.error());
    return;
  }
  if (!document->has_value()) {
    spdlog::info("no persisted snapshot at {} yet", path);
    return;
  }
  const nlohmann::json& json = **document;
  const auto versionField = json.find("version");
  const std::string version = versionField != json.end() && versionField->is_string()
                                  ? versionField->get<std::string>()
                                  : std::string();
  auto loaded = loadStreamedProxyConfig(version, json, gateway.overrides);
  if (!loaded) {
    spdlog::warn("persisted snapshot ignored: {}", formatInvalidProxyConfig(path, loaded.error()));
    return;
  }
  std::map<std::string, api::ApiRoute> serving;
  for (const auto& route : loaded->config.routes)
    serving.emplace(routeKey(route), route);
  const std::string why = "persisted snapshot " + path;
  if (auto error = install(std::move(loaded->config), ConfigOrigin::kPersistedSnapshot, why);
      !error.empty()) {
    spdlog::warn("persisted snapshot ignored: {}: {}", path, error);
    return;
  }
  lastGoodRoutes_ = std::move(serving);
  spdlog::info("serving the persisted snapshot {} (version {}) until the operator sends one", path,
               version);
  openAccessLog(current_->config());
}

void ProxyServer::installBootstrap() {
  ProxyConfig bootstrap;
  bootstrap.version = "bootstrap";
  bootstrap.mesh = api::MeshConfig{};
  bootstrap.admin = {.address = options_.sidecar->admin.address,
                     .port = options_.sidecar->admin.port};
  if (auto error = install(std::move(bootstrap), ConfigOrigin::kBootstrap,
                           "bootstrap (outbound passes through until the operator's config)");
      !error.empty())
    refuse("bootstrap", error);
}

void ProxyServer::onIdentityChanged() {
  if (draining_) return;
  // A sidecar compiles its mesh section again; a gateway its config (its mesh clusters).
  std::optional<ProxyConfig> again = meshSource_;
  if (!again && !options_.sidecar && current_) again = current_->config();
  if (!again) return;
  const ConfigOrigin origin = origin_;
  if (auto error = install(std::move(*again), origin, "recompiled with the workload identity");
      !error.empty())
    refuse("recompiled with the workload identity", error);
}

bool ProxyServer::sidecarHasIdentity() const {
  return identity_ && identity_->status().identity != nullptr;
}

void ProxyServer::openAccessLog(const ProxyConfig& config) {
  // The access log is opened once; a later config may switch it off, not move it.
  if (accessLog_ || !config.accessLog.enabled) return;
  accessLog_ = std::make_unique<AccessLog>(config.accessLog.path);
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    asio::post(w->context(), [w, log = accessLog_.get()] { w->setAccessLog(log); });
  }
}

std::string ProxyServer::servingVersion() const {
  std::lock_guard lock(mutex_);
  return current_ ? current_->version() : std::string();
}

void ProxyServer::requestStop() {
  asio::post(main_, [this] { drain(); });
}

void ProxyServer::collect(metrics::SampleWriter& writer) {
  SnapshotPtr snapshot;
  uint64_t failures;
  {
    std::lock_guard lock(mutex_);
    snapshot = current_;
    failures = reloadFailures_;
  }
  writer.gauge("meshgate_proxy_config_reload_failures", "Config loads refused since start", {},
               static_cast<double>(failures));
  if (!snapshot) return;
  writer.gauge("meshgate_proxy_config_info", "The config version being served",
               {{"version", snapshot->version()}}, 1);
  for (const auto& cluster : snapshot->clusters()) {
    for (size_t i = 0; i < cluster.endpoints.size(); ++i) {
      const auto& endpoint = cluster.endpoints[i];
      metrics::Labels labels = {{"cluster", cluster.name}, {"endpoint", endpoint.key}};
      writer.gauge("meshgate_proxy_endpoint_healthy",
                   "1 when active health checks (if any) pass for the endpoint", labels,
                   endpoint.health->healthy.load() ? 1 : 0);
      if (cluster.outliers)
        writer.gauge("meshgate_proxy_endpoint_ejected",
                     "1 while outlier detection ejects the endpoint", labels,
                     cluster.outliers->ejected(i) ? 1 : 0);
    }
  }
}

metrics::Page ProxyServer::configDump() {
  SnapshotPtr snapshot;
  std::string lastError;
  ConfigOrigin origin;
  std::chrono::system_clock::time_point appliedAt;
  std::map<std::string, uint16_t> boundPorts;
  {
    std::lock_guard lock(mutex_);
    snapshot = current_;
    lastError = lastError_;
    origin = origin_;
    appliedAt = appliedAt_;
    boundPorts = boundPorts_;
  }
  nlohmann::json dump = nlohmann::json::object();
  auto controlPlane = [&] {
    const ConfigStreamStatus status = stream_->status();
    nlohmann::json source = {{"kind", "controlPlane"},
                             {"url", status.url},
                             {"connected", status.connected},
                             {"lastError", status.lastError}};
    if (status.connectedSince) source["connectedSince"] = rfc3339(*status.connectedSince);
    return source;
  };
  if (snapshot && origin == ConfigOrigin::kBootstrap) {
    dump["source"] = {{"kind", "bootstrap"}};
    if (options_.gateway) dump["source"]["controlPlane"] = controlPlane();
  } else if (!options_.gateway) {
    dump["source"] = {{"kind", "file"}, {"path", options_.configPath}};
  } else if (snapshot && origin == ConfigOrigin::kPersistedSnapshot) {
    dump["source"] = {{"kind", "persistedSnapshot"},
                      {"path", options_.gateway->snapshotFile},
                      {"controlPlane", controlPlane()}};
  } else {
    dump["source"] = controlPlane();
  }
  if (snapshot) {
    dump["version"] = snapshot->version();
    dump["appliedAt"] = rfc3339(appliedAt);
    dump["ageSeconds"] = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now() - appliedAt)
                             .count();
    // Secrets (listener private keys) are never shown.
    dump["config"] = api::encodeProxyConfig(snapshot->config(), api::SecretEncoding::kRedact);
    dump["boundPorts"] = boundPorts;
  }
  if (!lastError.empty()) dump["lastRefused"] = lastError;
  return {.status = 200, .contentType = "application/json", .body = dump.dump(2) + "\n"};
}

std::pair<bool, std::string> ProxyServer::readiness() {
  std::lock_guard lock(mutex_);
  if (draining_) return {false, "draining"};
  const std::string source =
      options_.gateway ? options_.gateway->stream.endpoint.url : options_.configPath;
  if (options_.sidecar) {
    const WorkloadIdentityStatus status = identity_->status();
    IdentityReadiness identity = identityReadiness(status, options_.sidecar->clock());
    if (!identity.ready) return {false, std::move(identity.message)};
    // A workload in the mesh is ready once it serves the operator's config (its inbound policy).
    if (options_.gateway && status.identity && origin_ != ConfigOrigin::kControlPlane)
      return {false, "waiting for the first config from " + source};
    return {true, std::move(identity.message)};
  }
  if (!current_) return {false, "waiting for the first config from " + source};
  return {true, "ready"};
}

metrics::Page ProxyServer::ready() {
  auto [ok, why] = readiness();
  return {.status = ok ? 200u : 503u, .contentType = "text/plain", .body = why + "\n"};
}

void ProxyServer::drain() {
  {
    std::lock_guard lock(mutex_);
    if (draining_) return;
    draining_ = true;
  }
  if (stream_) stream_->stop();
  const auto deadline = current_ ? current_->config().timeouts.drain : std::chrono::milliseconds(0);
  spdlog::info("draining: no new connections; in-flight requests have {} ms", deadline.count());
  for (auto& worker : workers_)
    worker->beginDrain();
  healthChecker_.stop();
  reloadSignal_.cancel();
  watcher_.reset();
  const auto until = std::chrono::steady_clock::now() + deadline;
  // Poll the workers' open-connection counts until they reach zero or the deadline passes.
  drainPoll_ = [this, until] {
    size_t open = 0;
    for (auto& worker : workers_)
      open += worker->openConnections();
    if (open == 0 || std::chrono::steady_clock::now() >= until) {
      if (open > 0) spdlog::warn("drain deadline: closing {} connections", open);
      main_.stop();
      return;
    }
    drainTimer_.expires_after(std::chrono::milliseconds(50));
    drainTimer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) drainPoll_();
    });
  };
  drainPoll_();
}

Expected<uint16_t, std::string> ProxyServer::startAdmin(const std::string& address, uint16_t port) {
  metrics::ProbeRoutes routes;
  routes.registry = &stats_.registry();
  routes.metricsPath = "/stats";
  routes.readiness = [this]() -> metrics::HealthStatus {
    auto [ok, why] = readiness();
    return {ok, why};
  };
  routes.pages["/ready"] = [this] { return ready(); };
  routes.pages["/config_dump"] = [this] { return configDump(); };
  if (identity_) routes.pages["/identity"] = [this] { return identityPage(identity_->status()); };
  collector_ = stats_.registry().addCollector([this](metrics::SampleWriter& w) {
    collect(w);
    if (identity_) writeIdentityExpiry(identity_->status(), w);
  });
  admin_ = std::make_unique<metrics::ProbeServer>(metrics::ProbeServerOptions{.routes = routes});
  const std::string bindAddress = joinHostPort(address, port);
  auto bound = admin_->start(bindAddress);
  if (!bound) return "admin listener " + bindAddress + ": " + bound.error();
  adminPort_ = *bound;
  spdlog::info("admin on {}", joinHostPort(address, *bound));
  return static_cast<uint16_t>(*bound);
}

int ProxyServer::run() {
  const size_t count = std::max<size_t>(1, options_.concurrency);
  for (size_t i = 0; i < count; ++i)
    workers_.push_back(std::make_unique<Worker>(i, count, stats_, nullptr));

  if (options_.sidecar && options_.sidecar->originalDestination)
    for (auto& worker : workers_)
      worker->setOriginalDestinationLookup(options_.sidecar->originalDestination);

  if (options_.sidecar) {
    const SidecarMeshOptions& sidecar = *options_.sidecar;
    identity_ = std::make_unique<WorkloadIdentityWatcher>(sidecar.certDir, sidecar.clock,
                                                          &stats_.identityReloads);
    identity_->reload("start");
    identity_->setOnChange([this] { onIdentityChanged(); });
    identity_->watch(main_, sidecar.identityPollInterval);
    if (options_.gateway) {
      const GatewayOptions& gateway = *options_.gateway;
      stream_ = ConfigStreamClient::create(
          main_, gateway.stream,
          {.apply =
               [this](const std::string& version, const nlohmann::json& document) {
                 return applyStreamed(version, document);
               },
           .servingVersion = [this] { return servingVersion(); },
           .connectionChanged =
               [this](bool connected) {
                 stats_.controlPlaneConnected.with({}).set(connected ? 1 : 0);
               }});
    }
    // A config file (a static mesh, as the benchmark runs it) or the bootstrap until the stream.
    if (!options_.configPath.empty()) {
      if (!reload("load")) return 1;
    } else {
      installBootstrap();
    }
    if (!current_) return 1;  // the mesh listeners could not open: refuse() said why
    if (auto started = startAdmin(sidecar.admin.address, sidecar.admin.port); !started) {
      spdlog::error("{}", started.error());
      return 1;
    }
    for (auto& worker : workers_)
      worker->start();
    spdlog::info("sidecar mode: outbound {}:{}, inbound {}:{}, identity from {}, config from {}",
                 sidecar.listen.outboundAddress, sidecar.listen.outboundPort,
                 sidecar.listen.inboundAddress, sidecar.listen.inboundPort, sidecar.certDir,
                 options_.gateway ? options_.gateway->stream.endpoint.url
                                  : std::string("nowhere (no --control-plane)"));
    if (stream_) stream_->start();
  } else if (options_.gateway) {
    const GatewayOptions& gateway = *options_.gateway;
    stream_ = ConfigStreamClient::create(
        main_, gateway.stream,
        {.apply = [this](
                      const std::string& version,
                      const nlohmann::json& document) { return applyStreamed(version, document); },
         .servingVersion = [this] { return servingVersion(); },
         .connectionChanged =
             [this](bool connected) {
               stats_.controlPlaneConnected.with({}).set(connected ? 1 : 0);
             }});
    // The gateway's identity (the stream's client certificate) also originates mTLS to the
    // workloads of mesh clusters (ClusterConfig::meshIdentity); a renewed one is picked up.
    if (!gateway.stream.certDir.empty()) {
      identity_ = std::make_unique<WorkloadIdentityWatcher>(
          gateway.stream.certDir, [] { return std::chrono::system_clock::now(); },
          &stats_.identityReloads);
      identity_->reload("start");
      identity_->setOnChange([this] { onIdentityChanged(); });
      identity_->watch(main_, WorkloadIdentityWatcher::kDefaultPollInterval);
    }
    loadPersistedSnapshot();
    // The admin listener serves /ready (503 until a config serves) before any config.
    const ListenAddress admin = gateway.overrides.admin.value_or(ListenAddress{"127.0.0.1", 15000});
    if (auto started = startAdmin(admin.address, admin.port); !started) {
      spdlog::error("{}", started.error());
      return 1;
    }
    for (auto& worker : workers_)
      worker->start();
    spdlog::info("gateway mode: config from {} (node {}, ingress class {})",
                 gateway.stream.endpoint.url, gateway.stream.hello.node,
                 gateway.stream.hello.ingressClass);
    stream_->start();
  } else {
    if (!reload("load")) return 1;
    const ProxyConfig& first = current_->config();
    openAccessLog(first);
    for (auto& worker : workers_)
      worker->start();
    if (auto started = startAdmin(first.admin.address, first.admin.port); !started) {
      spdlog::error("{}", started.error());
      return 1;
    }
  }

  std::function<void()> onHangup = [this, &onHangup] {
    reloadSignal_.async_wait([this, &onHangup](const boost::system::error_code& ec, int) {
      if (ec) return;
      if (identity_)
        identity_->reload("SIGHUP");
      else if (options_.gateway)
        spdlog::info("SIGHUP: nothing to reload in gateway mode (the operator streams the config)");
      else
        reload("reload (SIGHUP)");
      onHangup();
    });
  };
  onHangup();
  if (!options_.gateway && !options_.configPath.empty() && options_.watchFile) {
    watcher_ = std::make_unique<meshgate::FileWatcher>(main_, options_.configPath,
                                                       [this] { reload("reload (file changed)"); });
    watcher_->start();
  }
  stopSignals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}", signal);
    drain();
  });
  main_.run();
  admin_->stop();
  for (auto& worker : workers_)
    worker->stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace meshgate::dp
