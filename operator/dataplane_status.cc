// Programmed from the connected proxies' ACKs; see dataplane_status.h.
#include "operator/dataplane_status.h"

#include "api/condition.h"
#include "api/config_stream_protocol.h"
#include "operator/gateway_config_builder.h"

namespace meshgate::op {

namespace {
namespace status = api::condition_status;
namespace reason = api::condition_reason;
}  // namespace

DataplaneVerdict GatewayDataplaneStatus::apiRoute(const std::string& ns, const std::string& name,
                                                  std::int64_t generation,
                                                  const std::string& ingressClass) const {
  return registry_.verdict(apiRouteObjectKey(ns, name), generation, [&](const DataplaneInfo& info) {
    return info.mode == api::stream::kModeGateway && info.ingressClass == ingressClass;
  });
}

DataplaneVerdict GatewayDataplaneStatus::meshService(const std::string& ns, const std::string& name,
                                                     std::int64_t generation) const {
  const std::string key = meshServiceObjectKey(ns, name);
  std::set<std::string> carryingClasses;
  for (const auto& ingressClass : publisher_.classes()) {
    const auto current = publisher_.current(ingressClass);
    if (current && current->contents->generations.count(key) > 0)
      carryingClasses.insert(ingressClass);
  }
  return registry_.verdict(key, generation, [&](const DataplaneInfo& info) {
    return info.mode == api::stream::kModeGateway && carryingClasses.count(info.ingressClass) > 0;
  });
}

ProgrammedCondition programmedCondition(const DataplaneVerdict& verdict, std::int64_t generation,
                                        const std::string& noDataplane) {
  if (verdict.total == 0)
    return {std::string(status::kFalse), std::string(reason::kNoDataplane), noDataplane};
  const std::string counts = std::to_string(verdict.programmed) + " of " +
                             std::to_string(verdict.total) + " dataplane(s) serve generation " +
                             std::to_string(generation);
  if (verdict.refusal)
    return {std::string(status::kFalse), std::string(reason::kRefused),
            *verdict.refusal + " (" + counts + ")"};
  if (verdict.programmed < verdict.total)
    return {std::string(status::kFalse), std::string(reason::kPending), counts};
  return {std::string(status::kTrue), std::string(reason::kProgrammed), counts};
}

std::string perReplicaRateLimitNote(const DataplaneVerdict& verdict) {
  if (verdict.total < 2) return "";
  return "; rate limits apply per gateway replica (" + std::to_string(verdict.total) +
         " connected)";
}

}  // namespace meshgate::op
