// DataplaneStatus: what the controllers ask about the proxies before they write Programmed —
// how many connected proxies should carry an object and how many serve its current generation.
// GatewayDataplaneStatus answers from this replica's config server: the gateways of a route's
// ingress class carry the route; a MeshService is carried by the gateways whose current snapshot
// names it. programmedCondition() turns a verdict into the condition both controllers write.
#pragma once

#include <cstdint>
#include <string>

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
  std::string status;  // api::condition_status: True or False
  // api::condition_reason: kProgrammed, kPending, kRefused or kNoDataplane.
  std::string reason;
  std::string message;
};

// `noDataplane` is the message when no proxy should carry the object.
ProgrammedCondition programmedCondition(const DataplaneVerdict& verdict, std::int64_t generation,
                                        const std::string& noDataplane);

// Appended to an ApiRoute's Programmed message when it has a rate limit: each gateway replica
// keeps its own buckets, so N replicas admit up to N times the limit. "" unless more than one
// gateway is connected; else "; rate limits apply per gateway replica (N connected)".
std::string perReplicaRateLimitNote(const DataplaneVerdict& verdict);

}  // namespace meshgate::op
