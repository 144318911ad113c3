// Reconciles one MeshService: validates it, applies its Service and static EndpointSlices (only
// when they differ from what is live), deletes EndpointSlices it no longer wants, makes sure the
// identity certificate of its service account is valid, and writes status conditions that say
// why (Accepted, ResolvedRefs, CertificateReady, Programmed, Ready; reasons in api/condition.h).
// The status is settled on the first reconcile: static endpoints count as applied, not as the
// EndpointSlice cache shows them a moment later. Static endpoints no EndpointSlice can hold
// (loopback, link-local) are named in Programmed, with a Warning Event when that list changes.
// Called by the MeshService controller's workers; reads only informer caches, writes only by
// server-side apply.
#pragma once

#include <string>

#include "kube/clock.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/reconciler.h"
#include "kube/rest_client.h"
#include "operator/certificate_issuer.h"
#include "operator/dataplane_status.h"
#include "operator/namespace_state.h"
#include "operator/recent_writes.h"

namespace meshgate::op {

struct MeshServiceCaches {
  kube::Informer& meshServices;  // needs the kMeshServicesByServiceAccount index
  kube::Informer& services;
  kube::Informer& endpointSlices;  // needs the kEndpointSlicesByService index
  kube::Informer& namespaces;      // objects of a terminating namespace are left alone
};

// Index of MeshServices by "<namespace>/<service account>" (spec.serviceAccount, else the name):
// the MeshServices that share an identity Secret.
inline constexpr const char* kMeshServicesByServiceAccount = "byServiceAccount";
std::vector<std::string> meshServiceAccountIndex(const nlohmann::json& meshService);

// Index of EndpointSlices by "<namespace>/<kubernetes.io/service-name>".
inline constexpr const char* kEndpointSlicesByService = "byService";
std::vector<std::string> endpointSliceServiceIndex(const nlohmann::json& slice);

struct MeshServiceReconcilerOptions {
  std::string trustDomain = "cluster.local";
  std::chrono::seconds workloadCertificateLifetime{std::chrono::hours(24)};
};

class MeshServiceReconciler : public kube::Reconciler {
 public:
  MeshServiceReconciler(kube::RestClient& client, MeshServiceCaches caches,
                        CertificateIssuer& issuer, const DataplaneStatus& dataplanes,
                        kube::EventRecorder& events, kube::Clock& clock,
                        MeshServiceReconcilerOptions options);

  // kube::Reconciler
  kube::ReconcileResult reconcile(const kube::Request& request) override;

  // The writes made and not yet seen in the caches; its forgetOnEvents() handlers go on the
  // informers of the objects this reconciler writes (see recent_writes.h).
  RecentWrites& recentWrites() { return recentWrites_; }

 private:
  kube::RestClient& client_;
  MeshServiceCaches caches_;
  CertificateIssuer& issuer_;
  const DataplaneStatus& dataplanes_;
  kube::EventRecorder& events_;
  GoneNamespaces goneNamespaces_;
  RecentWrites recentWrites_;  // children and status written, not yet in the caches
  kube::Clock& clock_;
  MeshServiceReconcilerOptions options_;
};

// The name of the identity Secret of a service account.
std::string identitySecretName(const std::string& serviceAccount);

}  // namespace meshgate::op
