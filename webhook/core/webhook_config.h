// WebhookConfig: the settings of meshgate-webhook read from its --config file (a ConfigMap in a
// deployment, reloaded on change): how pods are injected and which admission policies apply.
// Every field has a default, so an empty file is a valid config. Decoding is strict: unknown
// fields and wrong types are errors naming the field path, and a bad file never replaces the
// config in use.
//
//   injection:
//     image: localhost/meshgate/meshgate-proxy:0.1.0
//     initImage: localhost/meshgate/meshgate-init:0.1.0   # the traffic-capture init container
//     imagePullPolicy: IfNotPresent
//     resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: "1", memory: 256Mi}}
//     excludedNamespaces: [legacy]        # in addition to kube-system, kube-public,
//     meshgate-system controlPlaneAddress: meshgate-operator.meshgate-system.svc:15012 trustDomain:
//     cluster.local
//   policy:
//     requireTLS: false                    # every ApiRoute host must be served over TLS
//     requireAuth: false                   # every ApiRoute rule must have auth (route or rule)
//     maxRateLimitBurst: 0                 # 0: no limit; else rateLimit.burst must not exceed it
//     requireAllowedHosts: false           # namespaces without meshgate.io/allowed-hosts claim
//     none
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/expected.h"

namespace meshgate::webhook {

// Namespaces never injected, whatever the config says.
inline const std::vector<std::string> kAlwaysExcludedNamespaces = {"kube-system", "kube-public",
                                                                   "meshgate-system"};

struct InjectionSettings {
  std::string image = "localhost/meshgate/meshgate-proxy:0.1.0";
  // meshgate-init, which redirects the pod's TCP to the sidecar (capture_injector.h).
  std::string initImage = "localhost/meshgate/meshgate-init:0.1.0";
  // Of both the sidecar and the init container.
  std::string imagePullPolicy = "IfNotPresent";
  // A core/v1 ResourceRequirements object, copied as is into the sidecar.
  nlohmann::json resources = {{"requests", {{"cpu", "100m"}, {"memory", "64Mi"}}},
                              {"limits", {{"cpu", "1"}, {"memory", "256Mi"}}}};
  std::vector<std::string> excludedNamespaces;
  std::string controlPlaneAddress = "meshgate-operator.meshgate-system.svc:15012";
  std::string trustDomain = "cluster.local";
};

struct AdmissionPolicy {
  bool requireTLS = false;
  bool requireAuth = false;
  std::int64_t maxRateLimitBurst = 0;  // 0: unlimited
  bool requireAllowedHosts = false;
};

struct WebhookConfig {
  InjectionSettings injection;
  AdmissionPolicy policy;
};

// What meshgate-webhook's command line sets over the config file: a non-empty field wins over
// the file's, on every reload too.
struct ConfigOverrides {
  std::string sidecarImage;  // --sidecar-image: injection.image
  std::string initImage;     // --init-image: injection.initImage
};

void applyOverrides(WebhookConfig& config, const ConfigOverrides& overrides);

// Decodes the YAML (or JSON) text of a config file; the error lists every problem with its
// field path, e.g. "policy.maxRateLimitBurst: Invalid value: -1: must be >= 0".
meshgate::Expected<WebhookConfig, std::string> parseWebhookConfig(const std::string& text);

}  // namespace meshgate::webhook
