// Sidecar mode's process: the workload identity and the admin endpoint; see sidecar_server.h.
#include "dataplane/proxy/sidecar_server.h"

#include <csignal>
#include <functional>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "dataplane/proxy/rfc3339_time.h"

namespace meshgate::dp {

namespace {

struct Readiness {
  bool ready = false;
  std::string message;
};

// Ready unless the pod holds identity files and no identity from them is valid now: a pod whose
// service account no MeshService uses has no identity Secret, and must not be kept unready for it.
Readiness identityReadiness(const WorkloadIdentityStatus& status,
                            std::chrono::system_clock::time_point now) {
  const WorkloadIdentitySharedPtr& identity = status.identity;
  const std::string refused = status.lastRejected.empty()
                                  ? ""
                                  : "; the files read last were refused: " + status.lastRejected;
  if (identity && now < identity->notAfter)
    return {true, "ready (workload identity " + identity->spiffeId + ", serial " +
                      identity->serialHex + ", valid until " + rfc3339(identity->notAfter) + ")"};
  if (identity)
    return {false, "workload identity " + identity->spiffeId + " (serial " + identity->serialHex +
                       ") expired at " + rfc3339(identity->notAfter) +
                       "; waiting for the operator to renew it" + refused};
  if (status.filesPresent) return {false, "no valid workload identity: " + status.lastRejected};
  return {true, "ready (no workload identity: no MeshService uses this service account)"};
}

double unixSeconds(std::chrono::system_clock::time_point t) {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

}  // namespace

SidecarServer::SidecarServer(SidecarOptions options)
    : options_(std::move(options)),
      rereadSignal_(main_, SIGHUP),
      stopSignals_(main_, SIGTERM, SIGINT),
      identity_(options_.certDir, options_.clock, &stats_.identityReloads) {}

SidecarServer::~SidecarServer() {
  if (admin_) admin_->stop();
  collector_.reset();
}

void SidecarServer::requestStop() {
  boost::asio::post(main_, [this] { main_.stop(); });
}

metrics::Page SidecarServer::readyPage() const {
  const Readiness readiness = identityReadiness(identity_.status(), options_.clock());
  return {.status = readiness.ready ? 200u : 503u,
          .contentType = "text/plain",
          .body = readiness.message + "\n"};
}

metrics::Page SidecarServer::identityPage() const {
  const WorkloadIdentityStatus status = identity_.status();
  nlohmann::json page;
  if (const WorkloadIdentitySharedPtr& identity = status.identity) {
    page = {{"spiffeId", identity->spiffeId},
            {"serial", identity->serialHex},
            {"notBefore", rfc3339(identity->notBefore)},
            {"notAfter", rfc3339(identity->notAfter)},
            {"loadedAt", rfc3339(identity->loadedAt)}};
  } else {
    page = {{"state", "none"}};
  }
  if (!status.lastRejected.empty()) page["lastRejected"] = status.lastRejected;
  return {.status = 200, .contentType = "application/json", .body = page.dump(2) + "\n"};
}

void SidecarServer::collect(metrics::SampleWriter& writer) const {
  // Absent without an identity, so that an expiry alert does not fire on pods that have none.
  if (const WorkloadIdentitySharedPtr identity = identity_.status().identity)
    writer.gauge("meshgate_proxy_identity_expiry_timestamp_seconds",
                 "notAfter of the workload identity held, in Unix seconds (sidecar mode)", {},
                 unixSeconds(identity->notAfter));
}

int SidecarServer::run() {
  identity_.reload("start");
  identity_.watch(main_, options_.identityPollInterval);

  metrics::ProbeRoutes routes;
  routes.registry = &stats_.registry();
  routes.metricsPath = "/stats";
  routes.readiness = [this]() -> metrics::HealthStatus {
    const Readiness readiness = identityReadiness(identity_.status(), options_.clock());
    return {readiness.ready, readiness.message};
  };
  routes.pages["/ready"] = [this] { return readyPage(); };
  routes.pages["/identity"] = [this] { return identityPage(); };
  collector_ = stats_.registry().addCollector([this](metrics::SampleWriter& w) { collect(w); });
  admin_ = std::make_unique<metrics::ProbeServer>(metrics::ProbeServerOptions{.routes = routes});
  auto bound = admin_->start(options_.adminAddress);
  if (!bound) {
    spdlog::error("admin listener {}: {}", options_.adminAddress, bound.error());
    return 1;
  }
  adminPort_ = *bound;
  spdlog::info("admin on {} (port {})", options_.adminAddress, *bound);
  spdlog::info(
      "sidecar mode (node {}): serves the admin endpoint and holds the workload identity from {}; "
      "traffic interception (inbound 15006, outbound 15001) and the config stream from {} come "
      "with the mesh issue — nothing is intercepted yet",
      options_.node, options_.certDir,
      options_.controlPlane ? options_.controlPlane->url : std::string("--control-plane"));

  std::function<void()> onHangup = [this, &onHangup] {
    rereadSignal_.async_wait([this, &onHangup](const boost::system::error_code& ec, int) {
      if (ec) return;
      identity_.reload("SIGHUP");
      onHangup();
    });
  };
  onHangup();
  stopSignals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: stopping", signal);
    main_.stop();
  });
  main_.run();
  admin_->stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace meshgate::dp
