// The capture init container; see webhook/injection/capture_injector.h.
#include "webhook/injection/capture_injector.h"

#include <algorithm>

#include "api/field_error.h"
#include "webhook/injection/sidecar_injector.h"

namespace meshgate::webhook {
namespace {

using nlohmann::json;

static_assert(kProxyUid == static_cast<int>(capture::kDefaultProxyId));
static_assert(kProxyAdminPort == capture::kProxyAdminPort);
static_assert(kProxyInboundPort == capture::kDefaultInboundPort);
static_assert(kProxyOutboundPort == capture::kDefaultOutboundPort);

const json* annotation(const json& pod, std::string_view key) {
  const auto metadata = pod.find("metadata");
  if (metadata == pod.end() || !metadata->is_object()) return nullptr;
  const auto annotations = metadata->find("annotations");
  if (annotations == metadata->end() || !annotations->is_object()) return nullptr;
  const auto it = annotations->find(key);
  return it == annotations->end() || !it->is_string() ? nullptr : &*it;
}

std::string text(const json* value) {
  return value == nullptr ? std::string() : value->get<std::string>();
}

std::string invalid(std::string_view key, const json& value, const std::string& why) {
  return "annotation " + std::string(key) + ": " + api::renderValue(value) + ": " + why;
}

}  // namespace

Expected<CapturePlan, std::string> planCapture(const json& pod) {
  CapturePlan plan;
  if (const json* capture = annotation(pod, kCaptureAnnotation)) {
    if (*capture == "false") return plan;
    if (*capture != "true") {
      plan.warnings.push_back("annotation " + std::string(kCaptureAnnotation) + ": " +
                              api::renderValue(*capture) +
                              " is ignored: the value must be \"true\" or \"false\"; traffic is "
                              "captured");
    }
  }

  capture::CaptureOptions options;
  options.proxyUid = kProxyUid;
  options.proxyGid = kProxyUid;
  options.inboundPort = kProxyInboundPort;
  options.outboundPort = kProxyOutboundPort;
  // The admin port explicitly, so that the pod spec shows what reaches the pod directly;
  // meshgate-init exempts it (and its own ports) anyway.
  options.excludeInboundPorts = {kProxyAdminPort};
  if (const json* value = annotation(pod, kExcludeInboundPortsAnnotation)) {
    auto ports = capture::parsePortList(text(value));
    if (!ports) return invalid(kExcludeInboundPortsAnnotation, *value, ports.error());
    for (const int port : *ports) {
      if (std::find(options.excludeInboundPorts.begin(), options.excludeInboundPorts.end(), port) ==
          options.excludeInboundPorts.end())
        options.excludeInboundPorts.push_back(port);
    }
  }
  if (const json* value = annotation(pod, kExcludeOutboundPortsAnnotation)) {
    auto ports = capture::parsePortList(text(value));
    if (!ports) return invalid(kExcludeOutboundPortsAnnotation, *value, ports.error());
    options.excludeOutboundPorts = std::move(*ports);
  }
  if (const json* value = annotation(pod, kExcludeOutboundCidrsAnnotation)) {
    auto cidrs = capture::parseCidrList(text(value));
    if (!cidrs) return invalid(kExcludeOutboundCidrsAnnotation, *value, cidrs.error());
    options.excludeOutboundCidrs = std::move(*cidrs);
  }
  // Cannot fail with the values above; kept so that a new option cannot slip past meshgate-init.
  if (const auto errors = capture::validateCaptureOptions(options); !errors.empty()) {
    return "traffic capture: " + errors.front();
  }
  plan.options = std::move(options);
  return plan;
}

json initContainer(const InjectionSettings& settings, const capture::CaptureOptions& options) {
  // meshgate-init's own flags (dataplane/capture/init_main.cc).
  json args = json::array({"--proxy-uid", std::to_string(options.proxyUid), "--proxy-gid",
                           std::to_string(options.proxyGid), "--inbound-port",
                           std::to_string(options.inboundPort), "--outbound-port",
                           std::to_string(options.outboundPort)});
  if (!options.excludeInboundPorts.empty()) {
    args.push_back("--exclude-inbound-ports");
    args.push_back(capture::joinPorts(options.excludeInboundPorts));
  }
  if (!options.excludeOutboundPorts.empty()) {
    args.push_back("--exclude-outbound-ports");
    args.push_back(capture::joinPorts(options.excludeOutboundPorts));
  }
  if (!options.excludeOutboundCidrs.empty()) {
    std::string cidrs;
    for (const std::string& cidr : options.excludeOutboundCidrs)
      cidrs += (cidrs.empty() ? "" : ",") + cidr;
    args.push_back("--exclude-outbound-cidrs");
    args.push_back(cidrs);
  }
  return {
      {"name", kInitContainerName},
      {"image", settings.initImage},
      {"imagePullPolicy", settings.imagePullPolicy},
      {"args", std::move(args)},
      // It runs for a moment and exits; the limits only keep a broken one from hurting the node.
      {"resources",
       {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}},
        {"limits", {{"cpu", "100m"}, {"memory", "64Mi"}}}}},
      // Its output (the rules, or why installing them failed) as the termination message.
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
      // Root with only the capabilities iptables needs in the pod's network namespace.
      {"securityContext",
       {{"runAsUser", 0},
        {"runAsNonRoot", false},
        {"readOnlyRootFilesystem", true},
        {"allowPrivilegeEscalation", false},
        {"capabilities",
         {{"add", json::array({"NET_ADMIN", "NET_RAW"})}, {"drop", json::array({"ALL"})}}}}},
  };
}

json injectCaptureInit(const json& pod, const InjectionSettings& settings,
                       const capture::CaptureOptions& options) {
  json out = pod;
  if (!out.is_object()) out = json::object();
  json& spec = out["spec"];
  if (!spec.is_object()) spec = json::object();
  json& initContainers = spec["initContainers"];
  if (!initContainers.is_array()) initContainers = json::array();
  const bool present =
      std::any_of(initContainers.begin(), initContainers.end(), [](const json& container) {
        const auto name = container.is_object() ? container.find("name") : container.end();
        return container.is_object() && name != container.end() && *name == kInitContainerName;
      });
  if (!present) initContainers.push_back(initContainer(settings, options));
  return out;
}

}  // namespace meshgate::webhook
