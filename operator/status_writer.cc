// Status writes through the status subresource, skipped when nothing changed.
#include "operator/status_writer.h"

#include "api/api_route_codec.h"
#include "api/mesh_service_codec.h"
#include "base/sha256.h"
#include "kube/thread_safe_store.h"
#include "operator/desired_state.h"
#include "operator/owner_reference.h"

namespace meshgate::op {

StatusWriter::StatusWriter(kube::RestClient& client, kube::GroupVersionResource gvr,
                           const nlohmann::json& live, RecentWrites* recent)
    : client_(client), gvr_(std::move(gvr)), live_(live), recent_(recent) {}

std::string StatusWriter::write(const api::MeshServiceStatus& status) {
  api::MeshService carrier;
  carrier.status = status;
  return writeJson(api::encodeMeshService(carrier).value("status", nlohmann::json::object()));
}

std::string StatusWriter::write(const api::ApiRouteStatus& status) {
  api::ApiRoute carrier;
  carrier.status = status;
  return writeJson(api::encodeApiRoute(carrier).value("status", nlohmann::json::object()));
}

std::string StatusWriter::writeJson(const nlohmann::json& status) {
  const auto liveStatus = live_.find("status");
  if (liveStatus != live_.end() && isSubsetOf(status, *liveStatus)) return "";
  const std::string writeKey = gvr_.resource + "/status/" + kube::keyOf(live_);
  const std::string digest = sha256Hex(status.dump(), 32);
  const std::string cachedVersion = live_["metadata"].value("resourceVersion", "");
  if (recent_ != nullptr) {
    if (recent_->alreadyWritten(writeKey, digest, cachedVersion)) return "";
    recent_->begin(writeKey);
  }
  nlohmann::json body = {{"apiVersion", live_.value("apiVersion", gvr_.apiVersion())},
                         {"kind", live_.value("kind", gvr_.kind)},
                         {"metadata",
                          {{"name", live_["metadata"]["name"]},
                           {"namespace", live_["metadata"].value("namespace", "")}}},
                         {"status", status}};
  auto applied = client_.apply(gvr_, body, kFieldManager, true, "status");
  if (!applied) {
    if (recent_ != nullptr) recent_->abandon(writeKey);
    targetGone_ = applied.error().isNotFound() || applied.error().isNamespaceGone();
    namespaceGone_ = applied.error().code == 404 && applied.error().isNamespaceGone();
    return "writing status: " + applied.error().toString();
  }
  if (recent_ != nullptr) {
    recent_->record(writeKey, digest, cachedVersion,
                    applied->contains("metadata")
                        ? (*applied)["metadata"].value("resourceVersion", "")
                        : std::string());
  }
  wrote_ = true;
  return "";
}

kube::ReconcileResult statusFailure(const StatusWriter& writer, std::string failure,
                                    GoneNamespaces& gone) {
  if (writer.namespaceGone()) gone.markGone(writer.ns());
  if (writer.targetGone()) {
    return kube::ReconcileResult::terminal(failure + " (object or namespace gone: not retried)");
  }
  return kube::ReconcileResult::retry(std::move(failure));
}

}  // namespace meshgate::op
