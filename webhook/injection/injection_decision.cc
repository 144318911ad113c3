// The injection rules; see webhook/injection/injection_decision.h.
#include "webhook/injection/injection_decision.h"

#include <algorithm>
#include <utility>

#include "api/field_error.h"
#include "webhook/injection/sidecar_injector.h"

namespace meshgate::webhook {
namespace {

using nlohmann::json;

// `j[name]` when `j` is an object holding it, else null: the pod may be malformed here.
const json* member(const json* j, std::string_view name) {
  if (j == nullptr || !j->is_object()) return nullptr;
  const auto it = j->find(name);
  return it == j->end() ? nullptr : &*it;
}

bool isString(const json* j, std::string_view value) {
  return j != nullptr && j->is_string() && j->get_ref<const std::string&>() == value;
}

const json* metadataMap(const json* object, std::string_view map, std::string_view key) {
  return member(member(member(object, "metadata"), map), key);
}

bool isExcluded(std::string_view ns, const InjectionSettings& settings) {
  const auto matches = [ns](const std::string& excluded) { return excluded == ns; };
  return std::any_of(kAlwaysExcludedNamespaces.begin(), kAlwaysExcludedNamespaces.end(), matches) ||
         std::any_of(settings.excludedNamespaces.begin(), settings.excludedNamespaces.end(),
                     matches);
}

bool hasSidecarContainer(const json& pod) {
  const json* containers = member(member(&pod, "spec"), "containers");
  if (containers == nullptr || !containers->is_array()) return false;
  return std::any_of(containers->begin(), containers->end(), [](const json& c) {
    return isString(member(&c, "name"), kSidecarContainerName);
  });
}

InjectionDecision decide(InjectionVerdict verdict, std::string reason,
                         std::vector<std::string> warnings = {}) {
  return {verdict, std::move(reason), std::move(warnings)};
}

}  // namespace

InjectionDecision decideInjection(const json& pod, std::string_view namespaceName,
                                  const json* namespaceObject, const InjectionSettings& settings) {
  const std::string ns(namespaceName);
  if (isExcluded(ns, settings)) {
    return decide(InjectionVerdict::kSkip, "namespace " + ns + " is excluded from injection");
  }
  // Before the opt-out: re-admitting an injected pod (a retried request, a second webhook
  // reinvocation) must be a no-op whatever its annotations say now.
  if (metadataMap(&pod, "annotations", kInjectedAnnotation) != nullptr ||
      hasSidecarContainer(pod)) {
    return decide(InjectionVerdict::kSkip, "pod is already injected");
  }

  std::vector<std::string> warnings;
  std::string reason;
  bool inject = false;
  const json* annotation = metadataMap(&pod, "annotations", kInjectAnnotation);
  const json* label = metadataMap(namespaceObject, "labels", kInjectLabel);
  if (isString(annotation, "false")) {
    return decide(InjectionVerdict::kSkip, std::string("pod opted out with annotation ") +
                                               std::string(kInjectAnnotation) + ": \"false\"");
  }
  if (isString(annotation, "true")) {
    inject = true;
    reason = "pod annotation " + std::string(kInjectAnnotation) + ": \"true\"";
  } else {
    if (annotation != nullptr) {
      // Not an error (the pod is still admitted), but a silent fallback would leave the user
      // wondering why "yes" or "True" did nothing.
      warnings.push_back("annotation " + std::string(kInjectAnnotation) + ": " +
                         api::renderValue(*annotation) +
                         " is ignored: the value must be \"true\" or \"false\"");
    }
    if (isString(label, kInjectLabelEnabled)) {
      inject = true;
      reason = "namespace " + ns + " has label " + std::string(kInjectLabel) + "=" +
               std::string(kInjectLabelEnabled);
    } else if (namespaceObject == nullptr) {
      // Fail open: refusing pods while the informer warms up would block every workload, and a
      // pod missed here is fixed by restarting it. The warning makes the miss visible.
      warnings.push_back("namespace " + ns +
                         " is not yet known to meshgate-webhook: the pod is admitted without the "
                         "meshgate-proxy sidecar; recreate it to get one");
      return decide(InjectionVerdict::kSkip, "namespace " + ns + " is not in the cache",
                    std::move(warnings));
    }
  }
  if (!inject) {
    return decide(InjectionVerdict::kSkip,
                  "neither pod annotation " + std::string(kInjectAnnotation) +
                      ": \"true\" nor namespace label " + std::string(kInjectLabel) + "=" +
                      std::string(kInjectLabelEnabled),
                  std::move(warnings));
  }

  const json* hostNetwork = member(member(&pod, "spec"), "hostNetwork");
  if (hostNetwork != nullptr && hostNetwork->is_boolean() && hostNetwork->get<bool>()) {
    return decide(InjectionVerdict::kRefused,
                  "pod uses hostNetwork: the meshgate-proxy sidecar cannot be injected (its ports "
                  "15000/15001/15006 would bind on the node); set annotation meshgate.io/inject: "
                  "\"false\" to admit it without the mesh",
                  std::move(warnings));
  }
  return decide(InjectionVerdict::kInject, std::move(reason), std::move(warnings));
}

}  // namespace meshgate::webhook
