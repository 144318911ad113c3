// The init container of transparent traffic capture: meshgate-init (dataplane/capture/), which
// redirects the pod's TCP to the meshgate-proxy sidecar before the application starts. It is
// appended LAST to spec.initContainers, so the application's own init containers (migrations,
// config fetchers, which expect the network as it is without the mesh) run before capture and
// are never redirected to a sidecar that is not running yet. Pure; admitPod()
// (pod_admission.h) applies it after injectSidecar() unless the pod opts out.
//
// Pod annotations (values as meshgate-init's flags take them, parsed by the same code):
//   meshgate.io/capture: "false"                      sidecar without capture (the app calls it)
//   meshgate.io/exclude-inbound-ports: "8443,9090"    reached directly, not through the proxy
//   meshgate.io/exclude-outbound-ports: "5432"
//   meshgate.io/exclude-outbound-cidrs: "10.0.0.0/8,169.254.169.254/32"
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/expected.h"
#include "dataplane/capture/capture_options.h"
#include "webhook/core/webhook_config.h"

namespace meshgate::webhook {

inline constexpr std::string_view kInitContainerName = "meshgate-init";
inline constexpr std::string_view kCaptureAnnotation = "meshgate.io/capture";
inline constexpr std::string_view kExcludeInboundPortsAnnotation =
    "meshgate.io/exclude-inbound-ports";
inline constexpr std::string_view kExcludeOutboundPortsAnnotation =
    "meshgate.io/exclude-outbound-ports";
inline constexpr std::string_view kExcludeOutboundCidrsAnnotation =
    "meshgate.io/exclude-outbound-cidrs";

struct CapturePlan {
  // The init container's options; none when the pod opted out of capture.
  std::optional<capture::CaptureOptions> options;
  // Annotation values that did not change the plan but that the user should see.
  std::vector<std::string> warnings;
};

// The capture of `pod` from its annotations (the sidecar's uid, gid and ports, plus the
// exclusions). The error names the annotation whose value meshgate-init would refuse: admitting
// the pod would leave it stuck in Init:CrashLoopBackOff.
Expected<CapturePlan, std::string> planCapture(const nlohmann::json& pod);

// The meshgate-init container for `options`; exposed for tests.
nlohmann::json initContainer(const InjectionSettings& settings,
                             const capture::CaptureOptions& options);

// `pod` with initContainer() appended to spec.initContainers (created when missing); a pod that
// already has an init container of that name is returned unchanged.
nlohmann::json injectCaptureInit(const nlohmann::json& pod, const InjectionSettings& settings,
                                 const capture::CaptureOptions& options);

}  // namespace meshgate::webhook
