// Reconciles one ApiRoute: validates it, drops hosts its namespace may not claim
// (meshgate.io/allowed-hosts), resolves conflicts with other routes on the same hosts (oldest
// wins per host + match), checks that every backend names a MeshService port and every Secret
// its auth names exists with the key it names (auth_secrets.h), issues the host
// certificate when spec.tls names no Secret, applies the Ingress of what is left (or deletes it
// when nothing is), and writes status conditions that say why (Accepted, ResolvedRefs,
// Programmed — every connected gateway of its class serves this generation; with a rate limit
// and several gateways, that the limit holds per gateway replica — and Ready).
// Reads only informer caches and the dataplane registry; writes only by server-side apply.
#pragma once

#include <string>
#include <vector>

#include "kube/clock.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/reconciler.h"
#include "kube/rest_client.h"
#include "operator/certificate_issuer.h"
#include "operator/dataplane_status.h"
#include "operator/namespace_state.h"
#include "operator/recent_writes.h"
#include "operator/route_admission.h"

namespace meshgate::op {

struct ApiRouteCaches {
  kube::Informer& apiRoutes;  // needs the kApiRoutesByHost and kApiRoutesByBackend indexes
  kube::Informer& meshServices;
  kube::Informer& ingresses;
  kube::Informer& namespaces;
  kube::Informer& authSecrets;  // Secrets of type Opaque
};

struct ApiRouteReconcilerOptions {
  std::chrono::seconds hostCertificateLifetime{std::chrono::hours(24 * 90)};
};

class ApiRouteReconciler : public kube::Reconciler {
 public:
  ApiRouteReconciler(kube::RestClient& client, ApiRouteCaches caches, CertificateIssuer& issuer,
                     const DataplaneStatus& dataplanes, kube::EventRecorder& events,
                     kube::Clock& clock, ApiRouteReconcilerOptions options);

  // kube::Reconciler
  kube::ReconcileResult reconcile(const kube::Request& request) override;

  // The writes made and not yet seen in the caches; its forgetOnEvents() handlers go on the
  // informers of the objects this reconciler writes (see recent_writes.h).
  RecentWrites& recentWrites() { return recentWrites_; }

  // The routes to look at again when `route` changes or goes: every route sharing a host with
  // it (a loser is re-admitted when its winner goes away).
  std::vector<kube::Request> routesSharingHosts(const nlohmann::json& route) const;

 private:
  kube::RestClient& client_;
  ApiRouteCaches caches_;
  CertificateIssuer& issuer_;
  const DataplaneStatus& dataplanes_;
  kube::EventRecorder& events_;
  GoneNamespaces goneNamespaces_;
  RecentWrites recentWrites_;  // children and status written, not yet in the caches
  kube::Clock& clock_;
  ApiRouteReconcilerOptions options_;
};

// The name of the Secret holding the certificate the operator issues for a route's hosts.
std::string hostCertificateSecretName(const std::string& routeName);

}  // namespace meshgate::op
