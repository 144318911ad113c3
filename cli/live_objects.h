// Reads from the apiserver what `meshgatectl diff` compares render's objects with: the live copy
// of each rendered Service, EndpointSlice and Ingress (GET by name), and the objects of those
// kinds meshgate manages in the given namespaces (LIST by label), so that the ones render no
// longer produces are seen. Only these three kinds are read — never Secrets. Each request has
// the client's deadline (cli/cluster_connection.h).
#pragma once

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/expected.h"
#include "kube/rest_client.h"

namespace meshgate::cli {

// The first failure, naming what was read: "Service shop/web: ApiError{code=403, …}", "list
// ingresses in namespace shop (app.kubernetes.io/managed-by=meshgate): …".
using LiveObjectsResult = Expected<std::vector<nlohmann::json>, std::string>;

// Every object returned has its kind set (list items come without one). A rendered object the
// cluster does not have (404) is simply not returned.
LiveObjectsResult readLiveObjects(kube::RestClient& client,
                                  const std::vector<nlohmann::json>& rendered,
                                  const std::set<std::string>& namespaces);

}  // namespace meshgate::cli
