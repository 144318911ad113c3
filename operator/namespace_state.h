// Whether a namespace is being deleted, from the Namespace cache. Controllers leave the objects
// of a terminating namespace alone: the apiserver refuses to create their children there (403,
// NamespaceTerminating), the namespace controller deletes the objects themselves, and retrying
// would only write in vain — for as long as the namespace stays stuck, if it does.
#pragma once

#include <mutex>
#include <set>
#include <string>

#include "kube/thread_safe_store.h"

namespace meshgate::op {

// True when the cached Namespace `ns` carries a deletionTimestamp. A namespace missing from the
// cache is not assumed gone (the cache may lag behind a just-created namespace).
bool namespaceTerminating(const kube::ThreadSafeStore& namespaces, const std::string& ns);

// Namespaces the apiserver reported gone (404 naming the namespace) while objects of theirs are
// still cached — orphans a namespace deletion left behind. Reconciling them again (at every
// resync) could only fail, and each failure is a write request; they are skipped until the
// namespace shows up again in the cache. Thread-safe.
class GoneNamespaces {
 public:
  explicit GoneNamespaces(const kube::ThreadSafeStore& namespaces) : namespaces_(namespaces) {}

  void markGone(const std::string& ns);
  // True while `ns` is marked gone and absent from the cache (a namespace created again clears it).
  bool isGone(const std::string& ns);

 private:
  const kube::ThreadSafeStore& namespaces_;
  std::mutex mutex_;
  std::set<std::string> gone_;
};

}  // namespace meshgate::op
