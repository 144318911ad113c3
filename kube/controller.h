// Controller runs a Reconciler the controller-runtime way: informer event handlers only enqueue
// keys (the watched object's own, its controller owner's, or keys from a mapping function);
// N workers take keys from a rate-limited queue and reconcile them; workers start only after
// every watched informer has synced (a reconcile never sees a half-filled cache).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kube/clock.h"
#include "kube/informer.h"
#include "kube/rate_limiting_queue.h"
#include "kube/reconciler.h"

namespace kube {

struct ControllerOptions {
  int workers = 2;
  RateLimiterPtr rateLimiter;  // null: the default controller limiter
  std::chrono::milliseconds cacheSyncTimeout{std::chrono::minutes(2)};
};

// Reconcile totals by outcome and time spent, per controller; read by the metrics endpoint.
struct ControllerMetrics {
  std::atomic<uint64_t> reconcileTotal{0};
  std::atomic<uint64_t> reconcileErrors{0};
  std::atomic<uint64_t> reconcileRequeueAfter{0};
  std::atomic<uint64_t> reconcileMicrosTotal{0};
};

class Controller {
 public:
  Controller(std::string name, Reconciler& reconciler, ControllerOptions options, Clock& clock);
  ~Controller();

  // Wiring, before start(). The informers must outlive the controller.
  void watchPrimary(Informer& informer);
  // Objects whose controller ownerReference has kind `ownerKind` enqueue their owner.
  void watchOwned(Informer& informer, const std::string& ownerKind);
  void watchMapped(Informer& informer,
                   std::function<std::vector<Request>(const nlohmann::json&)> map);

  // Waits for the informers' caches, then starts the workers. False if the caches did not sync
  // within cacheSyncTimeout (nothing is started then).
  bool start();
  // Stops taking new keys, lets in-flight reconciles finish, joins the workers.
  void stop();

  void enqueue(const Request& request) { queue_.add(request.key()); }
  const std::string& name() const { return name_; }
  const ControllerMetrics& metrics() const { return metrics_; }
  RateLimitingQueue& queue() { return queue_; }

 private:
  void worker();
  void processOne(const std::string& key);

  std::string name_;
  Reconciler& reconciler_;
  ControllerOptions options_;
  Clock& clock_;
  RateLimitingQueue queue_;
  std::vector<Informer*> informers_;
  std::vector<std::thread> workers_;
  ControllerMetrics metrics_;
  std::atomic<bool> started_{false};
};

using ControllerPtr = std::unique_ptr<Controller>;

// namespace/name of an object.
Request requestFor(const nlohmann::json& object);

}  // namespace kube
