// Namespace termination from the cache.
#include "operator/namespace_state.h"

namespace meshgate::op {

bool namespaceTerminating(const kube::ThreadSafeStore& namespaces, const std::string& ns) {
  const auto object = namespaces.get(ns);
  if (!object) return false;
  const auto metadata = object->find("metadata");
  return metadata != object->end() && metadata->is_object() &&
         metadata->contains("deletionTimestamp");
}

void GoneNamespaces::markGone(const std::string& ns) {
  std::lock_guard lock(mutex_);
  gone_.insert(ns);
}

bool GoneNamespaces::isGone(const std::string& ns) {
  std::lock_guard lock(mutex_);
  if (gone_.count(ns) == 0) return false;
  if (namespaces_.get(ns)) {
    gone_.erase(ns);
    return false;
  }
  return true;
}

}  // namespace meshgate::op
