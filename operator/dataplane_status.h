// DataplaneStatus: what the controllers ask about the proxies before they write Programmed —
// how many connected proxies should carry an object and how many serve its current generation.
// GatewayDataplaneStatus answers from this replica's config server: the gateways of a route's
// ingress class carry the route; a MeshService is carried by the gateways whose current snapshot
// names it. programmedCondition() turns a verdict into the condition both controllers write.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "operator/config_publisher.h"
#include "operator/dataplane_registry.h"

namespace meshgate::op {

class DataplaneStatus {
 public:
  virtual ~DataplaneStatus() = default;
  virtual DataplaneVerdict apiRoute(const std::string& ns, const std::string& name,
                                    std::int64_t generation,
                                    const std::string& ingressClass) const = 0;
  virtual DataplaneVerdict meshService(const std::string& ns, const std::string& name,
                                       std::int64_t generation) const = 0;
};

class GatewayDataplaneStatus : public DataplaneStatus {
 public:
  GatewayDataplaneStatus(const ConfigPublisher& publisher, const DataplaneRegistry& registry)
      : publisher_(publisher), registry_(registry) {}

  // DataplaneStatus
  DataplaneVerdict apiRoute(const std::string& ns, const std::string& name, std::int64_t generation,
                            const std::string& ingressClass) const override;
  DataplaneVerdict meshService(const std::string& ns, const std::string& name,
                               std::int64_t generation) const override;

 private:
  const ConfigPublisher& publisher_;
  const DataplaneRegistry& registry_;
};

struct ProgrammedCondition {
  std::string status;  // "True" / "False"
  std::string reason;  // Programmed, Pending, Refused, NoDataplane
  std::string message;
};

// `noDataplane` is the message when no proxy should carry the object.
ProgrammedCondition programmedCondition(const DataplaneVerdict& verdict, std::int64_t generation,
                                        const std::string& noDataplane);

// Appended to an ApiRoute's Programmed message when it has a rate limit: each gateway replica
// keeps its own buckets, so N replicas admit up to N times the limit. "" unless more than one
// gateway is connected; else "; rate limits apply per gateway replica (N connected)".
std::string perReplicaRateLimitNote(const DataplaneVerdict& verdict);

namespace programmed_reason {
inline constexpr std::string_view kProgrammed = "Programmed";
inline constexpr std::string_view kPending = "Pending";
inline constexpr std::string_view kRefused = "Refused";
inline constexpr std::string_view kNoDataplane = "NoDataplane";
}  // namespace programmed_reason

}  // namespace meshgate::op
