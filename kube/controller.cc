// Controller: enqueue on events, reconcile on workers, backoff on failure.
#include "kube/controller.h"

#include <spdlog/spdlog.h>

namespace kube {

Request Request::fromKey(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

Request requestFor(const nlohmann::json& object) {
  const auto& metadata = object.at("metadata");
  return {metadata.value("namespace", ""), metadata.value("name", "")};
}

Controller::Controller(std::string name, Reconciler& reconciler, ControllerOptions options,
                       Clock& clock)
    : name_(std::move(name)),
      reconciler_(reconciler),
      options_(std::move(options)),
      clock_(clock),
      queue_(clock, std::move(options_.rateLimiter), name_) {}

Controller::~Controller() {
  stop();
}

void Controller::watchPrimary(Informer& informer) {
  watchMapped(informer, [](const nlohmann::json& object) {
    return std::vector<Request>{requestFor(object)};
  });
}

void Controller::watchOwned(Informer& informer, const std::string& ownerKind) {
  watchMapped(informer, [ownerKind](const nlohmann::json& object) {
    std::vector<Request> out;
    const auto& metadata = object.at("metadata");
    auto refs = metadata.find("ownerReferences");
    if (refs == metadata.end() || !refs->is_array()) return out;
    for (const auto& ref : *refs) {
      if (ref.value("controller", false) && ref.value("kind", "") == ownerKind) {
        out.push_back({metadata.value("namespace", ""), ref.value("name", "")});
      }
    }
    return out;
  });
}

void Controller::watchMapped(Informer& informer,
                             std::function<std::vector<Request>(const nlohmann::json&)> map) {
  informers_.push_back(&informer);
  auto enqueueAll = [this, map](const ObjectSharedPtr& object) {
    for (const auto& request : map(*object))
      queue_.add(request.key());
  };
  informer.addEventHandlers(
      {enqueueAll,
       [enqueueAll](const ObjectSharedPtr& oldObject, const ObjectSharedPtr& newObject) {
         // A changed owner reference must reach the old owner too.
         enqueueAll(oldObject);
         if (oldObject != newObject) enqueueAll(newObject);
       },
       enqueueAll});
}

bool Controller::start() {
  for (auto* informer : informers_) {
    if (!informer->waitForSync(options_.cacheSyncTimeout)) {
      spdlog::error(
          "controller {}: cache of {} did not sync within {}s", name_,
          informer->resource().toString(),
          std::chrono::duration_cast<std::chrono::seconds>(options_.cacheSyncTimeout).count());
      return false;
    }
  }
  started_.store(true);
  for (int i = 0; i < std::max(1, options_.workers); i++) {
    workers_.emplace_back([this] { worker(); });
  }
  spdlog::info("controller {}: started {} workers", name_, workers_.size());
  return true;
}

void Controller::stop() {
  queue_.shutDownWithDrain();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

void Controller::worker() {
  while (auto key = queue_.get()) {
    processOne(*key);
    queue_.done(*key);
  }
}

void Controller::processOne(const std::string& key) {
  const auto started = std::chrono::steady_clock::now();
  ReconcileResult result = ReconcileResult::done();
  try {
    result = reconciler_.reconcile(Request::fromKey(key));
  } catch (const std::exception& e) {
    result = ReconcileResult::retry(std::string("reconcile threw: ") + e.what());
  }
  metrics_.reconcileTotal++;
  metrics_.reconcileMicrosTotal +=
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count());
  switch (result.kind()) {
    case ReconcileResult::Kind::Done:
      queue_.forget(key);
      break;
    case ReconcileResult::Kind::RequeueAfter:
      metrics_.reconcileRequeueAfter++;
      queue_.forget(key);
      queue_.addAfter(key, result.after());
      break;
    case ReconcileResult::Kind::Retry:
      metrics_.reconcileErrors++;
      spdlog::warn("controller {}: reconcile {} failed (retrying): {}", name_, key, result.error());
      queue_.addRateLimited(key);
      break;
    case ReconcileResult::Kind::Terminal:
      metrics_.reconcileErrors++;
      spdlog::error("controller {}: reconcile {} failed: {}", name_, key, result.error());
      queue_.forget(key);
      break;
  }
}

}  // namespace kube
