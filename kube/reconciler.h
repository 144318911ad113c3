// Reconciler is what a controller author writes: given `namespace/name`, read the current state
// from informer caches, make the world match the spec, and say whether to come back. Called by
// Controller workers; a key is never reconciled by two workers at once, so implementations only
// need to be safe across different keys.
#pragma once

#include <chrono>
#include <string>

namespace kube {

struct Request {
  std::string ns;  // empty for cluster-scoped objects
  std::string name;

  std::string key() const { return ns.empty() ? name : ns + "/" + name; }
  static Request fromKey(const std::string& key);
  bool operator==(const Request&) const = default;
};

// The outcome of one reconcile: done, come back later, or failed (retried with per-key
// backoff unless terminal — a terminal error waits for the next change of the object).
class ReconcileResult {
 public:
  enum class Kind { Done, RequeueAfter, Retry, Terminal };

  static ReconcileResult done() { return ReconcileResult(Kind::Done, {}, ""); }
  static ReconcileResult requeueAfter(std::chrono::milliseconds after) {
    return ReconcileResult(Kind::RequeueAfter, after, "");
  }
  static ReconcileResult retry(std::string error) {
    return ReconcileResult(Kind::Retry, {}, std::move(error));
  }
  static ReconcileResult terminal(std::string error) {
    return ReconcileResult(Kind::Terminal, {}, std::move(error));
  }

  Kind kind() const { return kind_; }
  std::chrono::milliseconds after() const { return after_; }
  const std::string& error() const { return error_; }
  bool failed() const { return kind_ == Kind::Retry || kind_ == Kind::Terminal; }

 private:
  ReconcileResult(Kind kind, std::chrono::milliseconds after, std::string error)
      : kind_(kind), after_(after), error_(std::move(error)) {}
  Kind kind_;
  std::chrono::milliseconds after_;
  std::string error_;
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  virtual ReconcileResult reconcile(const Request& request) = 0;
};

}  // namespace kube
