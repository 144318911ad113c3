// The routes a gateway gets for one admitted ApiRoute (route_admission.h): the route as the user
// wrote it minus what it may not serve — hosts outside its namespace's allowed hosts, the
// (host, match) claims older routes hold, backends that name no MeshService port, and rules left
// with nothing to do. A claim lost on one host only cannot be said in one ApiRoute, so hosts
// that keep different matches go into separate pieces: the first piece keeps the route's name,
// the others are named "<name>.2", "<name>.3", …. Of the metadata only name, namespace, uid,
// generation and creationTimestamp are kept: precedence between routes is unchanged, and a status
// write (a new resourceVersion) does not change the snapshot.
// spec.tls.secretName is dropped: the gateway takes the certificate from its listener, which the
// snapshot carries. Pure.
#pragma once

#include <vector>

#include "api/api_route.h"
#include "operator/route_admission.h"

namespace meshgate::op {

// Empty when nothing of the route is left to serve.
std::vector<api::ApiRoute> servedRoutes(const RouteAdmission& admission);

}  // namespace meshgate::op
