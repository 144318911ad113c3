// Whether a pod gets the meshgate-proxy sidecar: the namespace exclusions, the already-injected
// check, the pod's meshgate.io/inject annotation and its namespace's meshgate.io/inject label, in
// that order. Pure; admitPod() (pod_admission.h) calls it for every pod CREATE.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "webhook/core/webhook_config.h"

namespace meshgate::webhook {

// Pod annotation: "true" asks for the sidecar, "false" opts out (it wins over the namespace).
inline constexpr std::string_view kInjectAnnotation = "meshgate.io/inject";
// Namespace label: "enabled" injects every pod of the namespace that does not opt out.
inline constexpr std::string_view kInjectLabel = "meshgate.io/inject";
inline constexpr std::string_view kInjectLabelEnabled = "enabled";

enum class InjectionVerdict {
  kInject,
  // Not injected, and nothing to tell the user: out of the mesh, opted out, or already injected.
  kSkip,
  // Asked for but impossible (hostNetwork); the pod is admitted without the sidecar and `reason`
  // is shown to the user as an AdmissionReview warning.
  kRefused,
};

struct InjectionDecision {
  InjectionVerdict verdict = InjectionVerdict::kSkip;
  // Why, in words fit for a log line or a kubectl warning.
  std::string reason;
  // Problems that did not change the verdict but that the user should see (an annotation value
  // that is neither "true" nor "false", a namespace missing from the cache).
  std::vector<std::string> warnings;
};

// `pod` is the Pod under admission and need not be well formed: fields of the wrong type count as
// absent. `namespaceName` comes from the AdmissionRequest, because a pod's metadata.namespace is
// often empty at CREATE. `namespaceObject` is the Namespace, or null when the cache lacks it.
InjectionDecision decideInjection(const nlohmann::json& pod, std::string_view namespaceName,
                                  const nlohmann::json* namespaceObject,
                                  const InjectionSettings& settings);

}  // namespace meshgate::webhook
