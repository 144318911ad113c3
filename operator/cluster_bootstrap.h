// ClusterBootstrap prepares what every controller relies on, once the operator leads: the mesh
// CA (Secret <system-namespace>/meshgate-ca of type kubernetes.io/tls — generated, ECDSA P-256 with
// a 10-year root, when absent; a user-supplied one is used as is and never overwritten), the trust
// bundle ConfigMap meshgate-ca-bundle, and the IngressClass meshgate. Idempotent; writes only what
// is missing or different.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/clock.h"
#include "kube/rest_client.h"
#include "operator/mesh_ca.h"

namespace meshgate::op {

inline constexpr const char* kCaSecretName = "meshgate-ca";
inline constexpr const char* kTrustBundleConfigMap = "meshgate-ca-bundle";
// On the trust bundle ConfigMap: when each root still in it was retired (trust_rotation.h).
inline constexpr const char* kRetiredRootsAnnotation = "meshgate.io/retired-roots";
inline constexpr const char* kIngressClassName = "meshgate";
inline constexpr const char* kIngressController = "meshgate.io/gateway";

// The trust bundle ConfigMap holding `bundlePem` and `annotations`, stamped for apply-if-changed.
nlohmann::json trustBundleConfigMap(const std::string& systemNamespace,
                                    const std::string& bundlePem,
                                    const std::map<std::string, std::string>& annotations = {});

class ClusterBootstrap {
 public:
  ClusterBootstrap(kube::RestClient& client, std::string systemNamespace, MeshCa& ca,
                   kube::Clock& clock);

  // "" when everything is in place, else what failed (retry later).
  std::string run();

 private:
  std::string ensureCa();
  std::string ensureTrustBundle();
  std::string ensureIngressClass();

  kube::RestClient& client_;
  std::string systemNamespace_;
  MeshCa& ca_;
  kube::Clock& clock_;
};

}  // namespace meshgate::op
