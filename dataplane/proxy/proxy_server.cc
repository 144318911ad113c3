// Startup, reload, drain and admin of meshgate-proxy.
#include "dataplane/proxy/proxy_server.h"

#include <csignal>

#include <spdlog/spdlog.h>

#include "dataplane/config/proxy_config_codec.h"
#include "dataplane/config/proxy_config_loader.h"

namespace meshgate::dp {

namespace asio = boost::asio;

ProxyServer::ProxyServer(ProxyServerOptions options)
    : options_(std::move(options)),
      reloadSignal_(main_, SIGHUP),
      stopSignals_(main_, SIGTERM, SIGINT),
      drainTimer_(main_),
      healthChecker_(main_) {}

ProxyServer::~ProxyServer() {
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
  return true;
}

bool ProxyServer::reload(const std::string& why) {
  auto fail = [&](const std::string& error) {
    stats_.reloads.with({"failure"}).inc();
    std::lock_guard lock(mutex_);
    reloadFailures_++;
    lastError_ = error;
    spdlog::error(
        "config {} refused; {}:\n{}", why,
        current_ ? "still serving version " + current_->version() : std::string("nothing to serve"),
        error);
    return false;
  };
  auto config = loadProxyConfigFile(options_.configPath);
  if (!config) return fail(config.error());
  if (current_ && config->version == current_->version() &&
      encodeProxyConfig(*config) == encodeProxyConfig(current_->config())) {
    spdlog::debug("config {}: unchanged (version {})", why, config->version);
    return true;
  }
  auto snapshot = Snapshot::build(std::move(*config), health_, stats_, clock_);
  if (!snapshot) return fail(snapshot.error());
  if (auto opened = openListeners(**snapshot); !opened) return fail(opened.error());
  for (auto& worker : workers_)
    worker->adopt(*snapshot);
  healthChecker_.watch(*snapshot);
  {
    std::lock_guard lock(mutex_);
    current_ = *snapshot;
    lastError_.clear();
  }
  stats_.reloads.with({"success"}).inc();
  spdlog::info("config {}: serving version {} ({} listeners, {} routes, {} clusters)", why,
               (*snapshot)->version(), (*snapshot)->listeners().size(),
               (*snapshot)->config().routes.size(), (*snapshot)->config().clusters.size());
  return true;
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
  {
    std::lock_guard lock(mutex_);
    snapshot = current_;
    lastError = lastError_;
  }
  nlohmann::json dump = nlohmann::json::object();
  if (snapshot) {
    dump["version"] = snapshot->version();
    dump["config"] = encodeProxyConfig(snapshot->config());
    nlohmann::json bound = nlohmann::json::object();
    for (const auto& [name, open] : listeners_)
      bound[name] = open.boundPort;
    dump["boundPorts"] = bound;
  }
  if (!lastError.empty()) dump["lastRefused"] = lastError;
  return {.status = 200, .contentType = "application/json", .body = dump.dump(2) + "\n"};
}

void ProxyServer::drain() {
  {
    std::lock_guard lock(mutex_);
    if (draining_) return;
    draining_ = true;
  }
  const auto deadline = current_->config().timeouts.drain;
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

int ProxyServer::run() {
  const size_t count = std::max<size_t>(1, options_.concurrency);
  for (size_t i = 0; i < count; ++i)
    workers_.push_back(std::make_unique<Worker>(i, stats_, nullptr));
  if (!reload("load")) return 1;
  const ProxyConfig& first = current_->config();
  if (first.accessLog.enabled) {
    // The access log is opened once; a reload may switch it off, not move it.
    accessLog_ = std::make_unique<AccessLog>(first.accessLog.path);
    for (auto& worker : workers_)
      worker->setAccessLog(accessLog_.get());
  }
  for (auto& worker : workers_)
    worker->start();

  metrics::ProbeRoutes routes;
  routes.registry = &stats_.registry();
  routes.metricsPath = "/stats";
  routes.readiness = [this]() -> metrics::HealthStatus {
    std::lock_guard lock(mutex_);
    if (draining_) return {false, "draining"};
    return {};
  };
  routes.pages["/ready"] = [this]() -> metrics::Page {
    std::lock_guard lock(mutex_);
    if (draining_) return {.status = 503, .contentType = "text/plain", .body = "draining\n"};
    return {.status = 200, .contentType = "text/plain", .body = "ready\n"};
  };
  routes.pages["/config_dump"] = [this] { return configDump(); };
  collector_ = stats_.registry().addCollector([this](metrics::SampleWriter& w) { collect(w); });
  admin_ = std::make_unique<metrics::ProbeServer>(metrics::ProbeServerOptions{.routes = routes});
  const std::string adminAddress =
      (first.admin.address.find(':') != std::string::npos ? "[" + first.admin.address + "]"
                                                          : first.admin.address) +
      ":" + std::to_string(first.admin.port);
  auto adminPort = admin_->start(adminAddress);
  if (!adminPort) {
    spdlog::error("admin listener {}: {}", adminAddress, adminPort.error());
    return 1;
  }
  spdlog::info("admin on {}:{}", first.admin.address, *adminPort);

  std::function<void()> onHangup = [this, &onHangup] {
    reloadSignal_.async_wait([this, &onHangup](const boost::system::error_code& ec, int) {
      if (ec) return;
      reload("reload (SIGHUP)");
      onHangup();
    });
  };
  onHangup();
  if (options_.watchFile) {
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
