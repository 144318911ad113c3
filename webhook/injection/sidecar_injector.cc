// The injected pod; see webhook/injection/sidecar_injector.h.
#include "webhook/injection/sidecar_injector.h"

#include <algorithm>

namespace meshgate::webhook {
namespace {

using nlohmann::json;

// 0444. Without a pod fsGroup the kubelet writes Secret files as root:root, so 0440 would lock out
// the proxy's uid/gid 1337; the volume is mounted into the sidecar only, whose one process is the
// proxy.
constexpr int kIdentityFileMode = 0444;

json fieldRefEnv(std::string_view name, std::string_view fieldPath) {
  return {{"name", name},
          {"valueFrom", {{"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", fieldPath}}}}}};
}

json valueEnv(std::string_view name, std::string_view value) {
  return {{"name", name}, {"value", value}};
}

json port(std::string_view name, int number) {
  return {{"name", name}, {"containerPort", number}, {"protocol", "TCP"}};
}

bool hasNamed(const json& list, std::string_view name) {
  return std::any_of(list.begin(), list.end(), [name](const json& item) {
    if (!item.is_object()) return false;
    const auto it = item.find("name");
    return it != item.end() && it->is_string() && it->get_ref<const std::string&>() == name;
  });
}

// `parent[key]` as an object or array of the wanted type, created (or replaced, when of another
// type) as needed.
json& ensure(json& parent, std::string_view key, json::value_t type) {
  json& child = parent[std::string(key)];
  if (child.type() != type) child = json(type);
  return child;
}

std::string serviceAccountOf(const json& spec) {
  // serviceAccount is the deprecated alias the apiserver still honours when serviceAccountName
  // is empty.
  for (const char* field : {"serviceAccountName", "serviceAccount"}) {
    const auto it = spec.find(field);
    if (it != spec.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      return it->get<std::string>();
    }
  }
  return "default";
}

}  // namespace

std::string controlPlaneUrl(std::string_view address) {
  if (address.rfind("https://", 0) == 0) return std::string(address);
  return "https://" + std::string(address);
}

std::string identitySecretName(std::string_view serviceAccount) {
  return "meshgate-identity-" + std::string(serviceAccount);
}

json sidecarContainer(const InjectionSettings& settings) {
  return {
      {"name", kSidecarContainerName},
      {"image", settings.image},
      {"imagePullPolicy", settings.imagePullPolicy},
      // meshgate-proxy's own flags (dataplane/main.cc); the admin listener on every address of
      // the pod, since the kubelet probes it at the pod's IP.
      {"args", json::array({"--mode", "sidecar", "--control-plane",
                            controlPlaneUrl(settings.controlPlaneAddress), "--cert-dir",
                            kIdentityMountPath, "--node", "$(MESHGATE_NODE_ID)", "--admin-address",
                            "0.0.0.0:" + std::to_string(kProxyAdminPort)})},
      // The pod name is unknown at admission when metadata.generateName is used, hence the
      // downward API; the kubelet expands $(VAR) from the entries listed before it.
      {"env", json::array({fieldRefEnv("POD_NAME", "metadata.name"),
                           fieldRefEnv("POD_NAMESPACE", "metadata.namespace"),
                           valueEnv("MESHGATE_NODE_ID", "sidecar~$(POD_NAME).$(POD_NAMESPACE)"),
                           valueEnv("MESHGATE_MODE", "sidecar"),
                           valueEnv("MESHGATE_CONTROL_PLANE", settings.controlPlaneAddress),
                           valueEnv("MESHGATE_TRUST_DOMAIN", settings.trustDomain)})},
      {"ports",
       json::array({port("mesh-outbound", kProxyOutboundPort),
                    port("mesh-inbound", kProxyInboundPort), port("mesh-admin", kProxyAdminPort)})},
      // The pod is unready until the first success anyway; failureThreshold only counts once the
      // proxy was ready, so a small one takes a proxy that lost its config out of rotation fast.
      {"readinessProbe",
       {{"httpGet", {{"path", "/ready"}, {"port", kProxyAdminPort}}},
        {"periodSeconds", 2},
        {"timeoutSeconds", 1},
        {"failureThreshold", 3}}},
      {"resources", settings.resources},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", kProxyUid},
        {"runAsGroup", kProxyUid},
        {"readOnlyRootFilesystem", true},
        {"allowPrivilegeEscalation", false},
        {"capabilities", {{"drop", json::array({"ALL"})}}}}},
      {"volumeMounts", json::array({{{"name", kIdentityVolumeName},
                                     {"mountPath", kIdentityMountPath},
                                     {"readOnly", true}}})},
  };
}

json injectSidecar(const json& pod, const InjectionSettings& settings, std::string_view version) {
  json out = pod;
  if (!out.is_object()) out = json::object();

  json& spec = ensure(out, "spec", json::value_t::object);
  json& containers = ensure(spec, "containers", json::value_t::array);
  if (!hasNamed(containers, kSidecarContainerName))
    containers.push_back(sidecarContainer(settings));

  const std::string secretName = identitySecretName(serviceAccountOf(spec));
  json& volumes = ensure(spec, "volumes", json::value_t::array);
  if (!hasNamed(volumes, kIdentityVolumeName)) {
    volumes.push_back(
        {{"name", kIdentityVolumeName},
         // Optional: the Secret exists only once a MeshService uses this service account, and
         // a pod must start without it (the kubelet fills the volume when it appears).
         {"secret",
          {{"secretName", secretName}, {"defaultMode", kIdentityFileMode}, {"optional", true}}}});
  }

  json& metadata = ensure(out, "metadata", json::value_t::object);
  json& annotations = ensure(metadata, "annotations", json::value_t::object);
  annotations[std::string(kInjectedAnnotation)] = std::string(version);
  return out;
}

}  // namespace meshgate::webhook
