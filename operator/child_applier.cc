// Apply-if-changed for owned children, with Events.
#include "operator/child_applier.h"

#include "operator/desired_state.h"
#include "operator/owner_reference.h"

namespace meshgate::op {

ChildApplier::ChildApplier(kube::RestClient& client, kube::EventRecorder& events,
                           const nlohmann::json& owner, RecentWrites* recent)
    : client_(client), events_(events), owner_(owner), recent_(recent) {}

std::string ChildApplier::apply(const kube::GroupVersionResource& gvr, nlohmann::json desired,
                                const kube::ThreadSafeStore& cache) {
  stampAppliedHash(desired);
  const std::string ns = desired["metadata"].value("namespace", "");
  const std::string name = desired["metadata"]["name"];
  const std::string key = ns.empty() ? name : ns + "/" + name;
  const auto live = cache.get(key);
  if (!needsApply(desired, live.get())) return "";
  const std::string writeKey = gvr.resource + "/" + key;
  const std::string digest = desired["metadata"]["annotations"][kAppliedHashAnnotation];
  const std::string cachedVersion =
      live ? (*live)["metadata"].value("resourceVersion", "") : std::string();
  if (recent_ != nullptr) {
    if (recent_->alreadyWritten(writeKey, digest, cachedVersion)) return "";
    recent_->begin(writeKey);
  }
  auto applied = client_.apply(gvr, desired, kFieldManager);
  const std::string what = gvr.kind + " " + key;
  if (!applied) {
    if (recent_ != nullptr) recent_->abandon(writeKey);
    const std::string problem = "applying " + what + ": " + applied.error().toString();
    events_.record(owner_, kube::EventType::Warning, "ApplyFailed", "Apply", problem);
    return problem;
  }
  if (recent_ != nullptr) {
    recent_->record(writeKey, digest, cachedVersion,
                    applied->contains("metadata")
                        ? (*applied)["metadata"].value("resourceVersion", "")
                        : std::string());
  }
  writes_++;
  events_.record(owner_, kube::EventType::Normal, live ? "Updated" : "Created", "Apply",
                 what + (live ? " updated" : " created"));
  return "";
}

std::string ChildApplier::remove(const kube::GroupVersionResource& gvr, const std::string& ns,
                                 const std::string& name) {
  auto removed = client_.remove(gvr, ns, name);
  const std::string what = gvr.kind + " " + ns + "/" + name;
  if (!removed && !removed.error().isNotFound()) {
    const std::string problem = "deleting " + what + ": " + removed.error().toString();
    events_.record(owner_, kube::EventType::Warning, "DeleteFailed", "Delete", problem);
    return problem;
  }
  writes_++;
  events_.record(owner_, kube::EventType::Normal, "Deleted", "Delete", what + " deleted");
  return "";
}

}  // namespace meshgate::op
