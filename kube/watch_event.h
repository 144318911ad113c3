// One event of a Kubernetes watch stream. Objects are shared and immutable so the informer's
// store and every handler can hold the same object without copying it.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace kube {

// Same alias as thread_safe_store.h: the informer moves event objects into its store unchanged.
using ObjectSharedPtr = std::shared_ptr<const nlohmann::json>;

enum class WatchEventType { Added, Modified, Deleted, Bookmark, Error };

struct WatchEvent {
  WatchEventType type = WatchEventType::Added;
  ObjectSharedPtr object;  // for Error: the metav1.Status
};

const char* toString(WatchEventType type);

}  // namespace kube
