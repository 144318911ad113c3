// The pod mutation of sidecar injection: adds the meshgate-proxy container, the volume holding
// the service account's identity Secret and the meshgate.io/injected annotation. Pure; admitPod()
// (pod_admission.h) diffs its result against the original pod into the JSON patch it returns.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "webhook/core/webhook_config.h"

namespace meshgate::webhook {

inline constexpr std::string_view kSidecarContainerName = "meshgate-proxy";
// Set to the webhook's version on every injected pod; its presence means "already injected".
inline constexpr std::string_view kInjectedAnnotation = "meshgate.io/injected";
inline constexpr std::string_view kIdentityVolumeName = "meshgate-identity";
inline constexpr std::string_view kIdentityMountPath = "/var/run/meshgate/identity";
// The sidecar's ports, after Envoy/Istio (docs DESIGN.md "Ports").
inline constexpr int kProxyAdminPort = 15000;
inline constexpr int kProxyOutboundPort = 15001;
inline constexpr int kProxyInboundPort = 15006;
// The sidecar's uid and gid (Istio's 1337): a fixed id lets traffic-redirection rules exempt the
// proxy's own connections.
inline constexpr int kProxyUid = 1337;

// The sidecar's --control-plane: injection.controlPlaneAddress ("HOST:PORT") as an https URL;
// an address that already is one is kept.
std::string controlPlaneUrl(std::string_view address);

// The Secret the operator issues for a service account (docs/API.md "What the operator writes").
std::string identitySecretName(std::string_view serviceAccount);

// The meshgate-proxy container for `settings`; exposed for tests and for documentation tools.
nlohmann::json sidecarContainer(const InjectionSettings& settings);

// `pod` with the sidecar, the identity volume and the annotation `meshgate.io/injected: <version>`.
// Everything else is kept as is; a container or volume already bearing the sidecar's names is
// left alone rather than duplicated. The pod must be a JSON object; missing metadata, annotations,
// containers or volumes are created, but wrong types are the caller's to reject first (admitPod
// does): they are replaced.
nlohmann::json injectSidecar(const nlohmann::json& pod, const InjectionSettings& settings,
                             std::string_view version);

}  // namespace meshgate::webhook
