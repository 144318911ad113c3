// GroupVersionResource names one REST collection of the apiserver, and knows the URL layout
// (/api for the core group, /apis/<group> otherwise; namespaced or cluster-scoped). The catalogue
// below lists the resources meshgate reads or writes.
#pragma once

#include <string>

namespace kube {

struct GroupVersionResource {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // plural, lower case
  std::string kind;
  bool namespaced = true;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // /api/v1/namespaces/<ns>/<resource>[/<name>[/<subresource>]]; `ns` empty lists across all
  // namespaces (or is ignored for cluster-scoped resources).
  std::string path(const std::string& ns, const std::string& name = "",
                   const std::string& subresource = "") const;
  std::string toString() const { return resource + (group.empty() ? "" : "." + group); }
};

namespace resources {
// clang-format off
inline const GroupVersionResource kNamespaces{"", "v1", "namespaces", "Namespace", false};
inline const GroupVersionResource kConfigMaps{"", "v1", "configmaps", "ConfigMap"};
inline const GroupVersionResource kSecrets{"", "v1", "secrets", "Secret"};
inline const GroupVersionResource kServices{"", "v1", "services", "Service"};
inline const GroupVersionResource kPods{"", "v1", "pods", "Pod"};
inline const GroupVersionResource kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount"};
inline const GroupVersionResource kDeployments{"apps", "v1", "deployments", "Deployment"};
inline const GroupVersionResource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice"};
inline const GroupVersionResource kIngresses{"networking.k8s.io", "v1", "ingresses", "Ingress"};
inline const GroupVersionResource kIngressClasses{"networking.k8s.io", "v1", "ingressclasses", "IngressClass", false};
inline const GroupVersionResource kLeases{"coordination.k8s.io", "v1", "leases", "Lease"};
inline const GroupVersionResource kEvents{"events.k8s.io", "v1", "events", "Event"};
inline const GroupVersionResource kMutatingWebhookConfigurations{"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false};
inline const GroupVersionResource kValidatingWebhookConfigurations{"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false};
inline const GroupVersionResource kCustomResourceDefinitions{"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false};
inline const GroupVersionResource kMeshServices{"meshgate.io", "v1alpha1", "meshservices", "MeshService"};
inline const GroupVersionResource kApiRoutes{"meshgate.io", "v1alpha1", "apiroutes", "ApiRoute"};
// clang-format on
}  // namespace resources

}  // namespace kube
