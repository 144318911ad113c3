// URL layout of Kubernetes REST collections.
#include "kube/group_version_resource.h"

namespace kube {

std::string GroupVersionResource::path(const std::string& ns, const std::string& name,
                                       const std::string& subresource) const {
  std::string out = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) out += "/namespaces/" + ns;
  out += "/" + resource;
  if (!name.empty()) {
    out += "/" + name;
    if (!subresource.empty()) out += "/" + subresource;
  }
  return out;
}

}  // namespace kube
