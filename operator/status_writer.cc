// Status writes through the status subresource, skipped when nothing changed.
#include "operator/status_writer.h"

#include "api/api_route_codec.h"
#include "api/mesh_service_codec.h"
#include "operator/desired_state.h"
#include "operator/owner_reference.h"

namespace meshgate::op {

StatusWriter::StatusWriter(kube::RestClient& client, kube::GroupVersionResource gvr,
                           const nlohmann::json& live)
    : client_(client), gvr_(std::move(gvr)), live_(live) {}

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
  nlohmann::json body = {{"apiVersion", live_.value("apiVersion", gvr_.apiVersion())},
                         {"kind", live_.value("kind", gvr_.kind)},
                         {"metadata",
                          {{"name", live_["metadata"]["name"]},
                           {"namespace", live_["metadata"].value("namespace", "")}}},
                         {"status", status}};
  auto applied = client_.apply(gvr_, body, kFieldManager, true, "status");
  if (!applied) {
    targetGone_ = applied.error().isNotFound() || applied.error().isNamespaceGone();
    namespaceGone_ = applied.error().code == 404 && applied.error().isNamespaceGone();
    return "writing status: " + applied.error().toString();
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
