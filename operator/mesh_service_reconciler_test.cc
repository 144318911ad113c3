// MeshServiceReconciler over informers fed by hand, an apiserver faked at the transport, a fake
// issuer and fixed dataplane verdicts: every condition reason it writes, the requeue at the
// certificate's renewal, the status written once per settled state (static endpoints counted on
// the first reconcile, nothing written once the caches hold what was applied), and the static
// endpoints only the proxies serve (said in Programmed, one Warning Event per change).
#include "operator/mesh_service_reconciler.h"

#include <gtest/gtest.h>

#include "api/condition.h"
#include "operator/testing/reconciler_fixture.h"

namespace meshgate::op {
namespace {

namespace status = api::condition_status;
namespace type = api::condition_type;
namespace reason = api::condition_reason;

using nlohmann::json;
using namespace std::chrono_literals;

class MeshServiceReconcilerTest : public ReconcilerFixture {
 protected:
  MeshServiceReconcilerTest() {
    meshServices_.addIndexer(kMeshServicesByServiceAccount, meshServiceAccountIndex);
    endpointSlices_.addIndexer(kEndpointSlicesByService, endpointSliceServiceIndex);
    feed(services_, {});
    feed(endpointSlices_, {});
    feed(namespaces_,
         {{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "shop"}}}}});
    issuer_.issue({.secretName = "",
                   .notAfter = "2024-01-02T00:00:00Z",
                   .renewAt = clock_.wallNow() + 16h,
                   .written = false,
                   .reason = ""});
  }

  static json meshService(json spec, int generation = 1) {
    spec["ports"] = {{{"name", "http"}, {"port", 80}, {"targetPort", 8080}}};
    return {{"apiVersion", "meshgate.io/v1alpha1"},
            {"kind", "MeshService"},
            {"metadata",
             {{"name", "web"}, {"namespace", "shop"}, {"uid", "ms-1"}, {"generation", generation}}},
            {"spec", std::move(spec)}};
  }

  static json withEndpoints(const std::vector<std::string>& addresses, int generation = 1) {
    json endpoints = json::array();
    for (const auto& address : addresses)
      endpoints.push_back({{"address", address}});
    return meshService({{"endpoints", endpoints}}, generation);
  }

  // An EndpointSlice kube-controller-manager keeps for the Service of a selector.
  static json discoveredSlice(const std::vector<std::pair<std::string, bool>>& endpoints) {
    json slice = {
        {"apiVersion", "discovery.k8s.io/v1"},
        {"kind", "EndpointSlice"},
        {"metadata",
         {{"name", "web-x7k2p"},
          {"namespace", "shop"},
          {"labels",
           {{"kubernetes.io/service-name", "web"},
            {"endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io"}}}}},
        {"addressType", "IPv4"},
        {"endpoints", json::array()}};
    for (const auto& [address, ready] : endpoints)
      slice["endpoints"].push_back({{"addresses", {address}}, {"conditions", {{"ready", ready}}}});
    return slice;
  }

  kube::ReconcileResult reconcile() { return reconciler_.reconcile({"shop", "web"}); }

  // The status `requests` wrote last (null when they wrote none).
  static json statusIn(const std::vector<kube::HttpRequest>& requests) {
    const auto written = appliedTo(requests, "/meshservices/web/status");
    return written.empty() ? json(nullptr) : written.back().at("status");
  }

  // Reconciles shop/web and returns the status it wrote (null when it wrote none).
  json reconcileStatus() {
    const auto from = sent().size();
    reconcile();
    return statusIn(sent(from));
  }

  // The caches catch up with what `requests` applied: the Service, the static slices and the
  // status.
  void catchUp(const std::vector<kube::HttpRequest>& requests) {
    upsert(services_, appliedTo(requests, "/services/web"));
    upsert(endpointSlices_, appliedTo(requests, "/endpointslices/"));
    for (const auto& written : appliedTo(requests, "/meshservices/web/status"))
      storeStatus(meshServices_, "shop/web", written);
  }

  kube::Informer meshServices_{*client_, kube::resources::kMeshServices, "", {}, clock_};
  kube::Informer services_{*client_, kube::resources::kServices, "", {}, clock_};
  kube::Informer endpointSlices_{*client_, kube::resources::kEndpointSlices, "", {}, clock_};
  kube::Informer namespaces_{*client_, kube::resources::kNamespaces, "", {}, clock_};
  MeshServiceReconciler reconciler_{
      *client_, {meshServices_, services_, endpointSlices_, namespaces_},
      issuer_,  dataplanes_,
      events_,  clock_,
      {}};
};

TEST_F(MeshServiceReconcilerTest, StaticEndpointsAreCountedOnTheFirstReconcile) {
  feed(meshServices_, {withEndpoints({"10.0.0.1", "10.0.0.2"})});
  const auto first = sent().size();
  reconcile();
  const auto requests = sent(first);
  const auto statuses = appliedTo(requests, "/meshservices/web/status");
  ASSERT_EQ(statuses.size(), 1u);
  const json status = statuses[0].at("status");
  // The EndpointSlice cache is still empty: the count comes from the slice just applied.
  EXPECT_TRUE(endpointSlices_.store().list().empty());
  EXPECT_EQ(status.at("endpoints"), (json{{"ready", 2}, {"total", 2}}));
  const json ready = condition(status, type::kReady);
  EXPECT_EQ(ready.at("status"), status::kTrue);
  EXPECT_EQ(ready.at("reason"), reason::kReady);
  EXPECT_EQ(ready.at("message"), "2 of 2 endpoints ready");
  EXPECT_EQ(condition(status, type::kAccepted).at("reason"), reason::kAccepted);
  EXPECT_EQ(condition(status, type::kResolvedRefs).at("reason"), reason::kResolvedRefs);
  // Service + one static slice + status.
  EXPECT_EQ(writesIn(requests), 3u);
  EXPECT_EQ(appliedTo(requests, "/endpointslices/").size(), 1u);
}

TEST_F(MeshServiceReconcilerTest, ReconcilingWhatTheCachesHoldWritesNothing) {
  feed(meshServices_, {withEndpoints({"10.0.0.1", "10.0.0.2"})});
  reconcile();
  catchUp(sent());  // the watch events of the Service, the slice and the MeshService arrive

  const auto second = sent().size();
  const auto result = reconcile();
  EXPECT_EQ(writesIn(sent(second)), 0u) << "a settled MeshService is written once";
  EXPECT_EQ(result.kind(), kube::ReconcileResult::Kind::RequeueAfter);
}

TEST_F(MeshServiceReconcilerTest, AReconcileBeforeTheCachesShowItsWritesSendsThemNoMore) {
  feed(meshServices_, {withEndpoints({"10.0.0.1", "10.0.0.2"})});
  reconcile();
  // Another event wakes the MeshService before the watch has delivered the Service, the slice
  // and the status just written: the caches still hold the object as it was.
  const auto second = sent().size();
  reconcile();
  EXPECT_EQ(writesIn(sent(second)), 0u) << "the same writes are on their way to the caches";

  // Once the caches show them and the spec changes, the new state is written.
  catchUp(sent());
  feed(meshServices_, {withEndpoints({"10.0.0.1", "10.0.0.3"})});
  const auto third = sent().size();
  reconcile();
  EXPECT_EQ(appliedTo(sent(third), "/endpointslices/").size(), 1u);
}

TEST_F(MeshServiceReconcilerTest, StaleCachedCopiesOfStaticSlicesDoNotCount) {
  // The cache holds the slice of an older spec (10.0.0.9, not ready) and one the service no
  // longer wants (IPv6): the applied slice counts and the unwanted one is deleted.
  feed(meshServices_, {withEndpoints({"10.0.0.9", "fd00::1"})});
  reconcile();
  auto stale = appliedTo(sent(), "/endpointslices/");
  ASSERT_EQ(stale.size(), 2u);
  stale[0]["endpoints"][0]["conditions"]["ready"] = false;
  feed(endpointSlices_, stale);

  feed(meshServices_, {withEndpoints({"10.0.0.1", "10.0.0.2"}, 2)});
  const auto from = sent().size();
  const json status = reconcileStatus();
  EXPECT_EQ(status.at("endpoints"), (json{{"ready", 2}, {"total", 2}}));
  bool deletedIpv6 = false;
  for (const auto& request : sent(from)) {
    if (request.method == "DELETE" &&
        request.target.find("/endpointslices/web-static-ipv6") != std::string::npos)
      deletedIpv6 = true;
  }
  EXPECT_TRUE(deletedIpv6);
}

TEST_F(MeshServiceReconcilerTest, SelectorEndpointsComeFromOtherManagersSlices) {
  feed(meshServices_, {meshService({{"selector", {{"app", "web"}}}})});
  feed(endpointSlices_, {discoveredSlice({{"10.1.0.1", true}, {"10.1.0.2", false}})});
  json status = reconcileStatus();
  EXPECT_EQ(status.at("endpoints"), (json{{"ready", 1}, {"total", 2}}));
  EXPECT_EQ(condition(status, type::kReady).at("message"), "1 of 2 endpoints ready");
  EXPECT_TRUE(appliedTo(sent(), "/endpointslices/").empty()) << "no static slice to apply";
}

TEST_F(MeshServiceReconcilerTest, NoReadyPodIsNoReadyEndpoints) {
  feed(meshServices_, {meshService({{"selector", {{"app", "web"}}}})});
  feed(endpointSlices_, {discoveredSlice({{"10.1.0.1", false}})});
  const json ready = condition(reconcileStatus(), type::kReady);
  EXPECT_EQ(ready.at("status"), status::kFalse);
  EXPECT_EQ(ready.at("reason"), reason::kNoReadyEndpoints);
  EXPECT_EQ(ready.at("message"), "0 of 1 endpoints ready: no ready pod matches the selector");
}

TEST_F(MeshServiceReconcilerTest, AnInvalidSpecIsInvalidWithAWarning) {
  json object = withEndpoints({"10.0.0.1"});
  object["spec"]["ports"] = json::array();
  feed(meshServices_, {object});
  const auto from = sent().size();
  const auto result = reconcile();
  EXPECT_EQ(result.kind(), kube::ReconcileResult::Kind::Terminal);
  const auto requests = sent(from);
  EXPECT_EQ(writesIn(requests), 1u) << "only the status: no child of an invalid spec";
  const json status = appliedTo(requests, "/meshservices/web/status").at(0).at("status");
  const json accepted = condition(status, type::kAccepted);
  EXPECT_EQ(accepted.at("status"), status::kFalse);
  EXPECT_EQ(accepted.at("reason"), reason::kInvalid);
  EXPECT_NE(accepted.at("message").get<std::string>().find("spec.ports"), std::string::npos);
  EXPECT_EQ(condition(status, type::kReady).at("reason"), reason::kInvalid);
  const auto warnings = eventsOf(eventsSent(), "Warning", reason::kInvalid);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].at("note"), accepted.at("message"));
}

TEST_F(MeshServiceReconcilerTest, AnIssuedCertificateIsCertificateReadyAndRequeuesAtRenewal) {
  feed(meshServices_, {withEndpoints({"10.0.0.1"})});
  auto result = reconcile();
  ASSERT_EQ(result.kind(), kube::ReconcileResult::Kind::RequeueAfter);
  EXPECT_EQ(result.after(), std::chrono::milliseconds(16h));
  ASSERT_EQ(issuer_.requests().size(), 1u);
  EXPECT_EQ(issuer_.requests()[0].secretName, "meshgate-identity-web");
  EXPECT_EQ(issuer_.requests()[0].uris,
            (std::vector<std::string>{"spiffe://cluster.local/ns/shop/sa/web"}));

  // The renewal time is absolute: an hour later, it is an hour closer.
  clock_.advance(1h);
  const auto from = sent().size();
  result = reconcile();
  EXPECT_EQ(result.after(), std::chrono::milliseconds(15h));
  const json status = statusIn(sent(from));

  const json certificate = condition(status, type::kCertificateReady);
  EXPECT_EQ(certificate.at("status"), status::kTrue);
  EXPECT_EQ(certificate.at("reason"), reason::kIssued);
  EXPECT_EQ(certificate.at("message"),
            "Secret meshgate-identity-web holds spiffe://cluster.local/ns/shop/sa/web until "
            "2024-01-02T00:00:00Z");
  EXPECT_EQ(status.at("certificate"),
            (json{{"secretName", "meshgate-identity-web"}, {"notAfter", "2024-01-02T00:00:00Z"}}));
  // The Secret was written by the first ensure() only.
  EXPECT_EQ(eventsOf(eventsSent(), "Normal", "CertificateIssued").size(), 1u);
}

TEST_F(MeshServiceReconcilerTest, AFailedIssueIsIssueFailedAndCertificateNotReady) {
  issuer_.fail("the mesh CA is not loaded yet");
  feed(meshServices_, {withEndpoints({"10.0.0.1"})});
  const auto from = sent().size();
  const auto result = reconcile();
  EXPECT_EQ(result.kind(), kube::ReconcileResult::Kind::Retry);
  const json status = statusIn(sent(from));
  const json certificate = condition(status, type::kCertificateReady);
  EXPECT_EQ(certificate.at("status"), status::kFalse);
  EXPECT_EQ(certificate.at("reason"), reason::kIssueFailed);
  EXPECT_EQ(certificate.at("message"), "the mesh CA is not loaded yet");
  const json ready = condition(status, type::kReady);
  EXPECT_EQ(ready.at("reason"), reason::kCertificateNotReady);
  EXPECT_EQ(ready.at("message"), "the mesh CA is not loaded yet");
  EXPECT_EQ(eventsOf(eventsSent(), "Warning", "CertificateFailed").size(), 1u);
}

TEST_F(MeshServiceReconcilerTest, AnApplyTheApiserverRefusesIsApplyFailedAndNotProgrammed) {
  failRequestsTo("/endpointslices/");
  feed(meshServices_, {withEndpoints({"10.0.0.1"})});
  const auto from = sent().size();
  const auto result = reconcile();
  EXPECT_EQ(result.kind(), kube::ReconcileResult::Kind::Retry);
  const json status = statusIn(sent(from));
  const json programmed = condition(status, type::kProgrammed);
  EXPECT_EQ(programmed.at("status"), status::kFalse);
  EXPECT_EQ(programmed.at("reason"), reason::kApplyFailed);
  const std::string message = programmed.at("message");
  EXPECT_EQ(message.rfind("applying EndpointSlice shop/web-static-ipv4: ApiError{code=500", 0), 0u)
      << message;
  const json ready = condition(status, type::kReady);
  EXPECT_EQ(ready.at("reason"), reason::kNotProgrammed);
  EXPECT_EQ(ready.at("message"), message);
  const auto events = eventsSent();
  EXPECT_EQ(eventsOf(events, "Warning", "ApplyFailed").size(), 1u);
  EXPECT_EQ(eventsOf(events, "Normal", "Created").size(), 1u) << "the Service was created";
}

TEST_F(MeshServiceReconcilerTest, ProgrammedFollowsTheDataplanesAndReadyWaitsOnlyForCarriers) {
  feed(meshServices_, {withEndpoints({"10.0.0.1"})});
  // The verdict as plain fields: GCC 12 misreads an optional copied out of an initializer list
  // as maybe-uninitialized.
  struct Case {
    int total;
    int programmed;
    std::string refusal;  // "" for none
    std::string_view programmedStatus;
    std::string_view programmedReason;
    std::string_view readyReason;
    std::string programmedMessage;
  };
  const std::vector<Case> cases = {
      {.total = 0,
       .programmed = 0,
       .refusal = "",
       .programmedStatus = status::kFalse,
       .programmedReason = reason::kNoDataplane,
       .readyReason = reason::kReady,  // nothing routes to it through meshgate: its endpoints
       .programmedMessage = "Service web and 1 static EndpointSlice(s) are applied; no connected "
                            "dataplane carries this MeshService (no gateway serves a route to it)"},
      {.total = 2,
       .programmed = 1,
       .refusal = "",
       .programmedStatus = status::kFalse,
       .programmedReason = reason::kPending,
       .readyReason = reason::kPending,
       .programmedMessage = "1 of 2 dataplane(s) serve generation 1"},
      {.total = 1,
       .programmed = 0,
       .refusal = "cluster web: unknown policy",
       .programmedStatus = status::kFalse,
       .programmedReason = reason::kRefused,
       .readyReason = reason::kRefused,
       .programmedMessage = "cluster web: unknown policy (0 of 1 dataplane(s) serve generation 1)"},
      {.total = 2,
       .programmed = 2,
       .refusal = "",
       .programmedStatus = status::kTrue,
       .programmedReason = reason::kProgrammed,
       .readyReason = reason::kReady,
       .programmedMessage = "2 of 2 dataplane(s) serve generation 1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.programmedReason));
    dataplanes_.verdict = {.total = c.total, .programmed = c.programmed, .refusal = std::nullopt};
    if (!c.refusal.empty()) dataplanes_.verdict.refusal = c.refusal;
    const json status = reconcileStatus();
    const json programmed = condition(status, type::kProgrammed);
    EXPECT_EQ(programmed.at("status"), c.programmedStatus);
    EXPECT_EQ(programmed.at("reason"), c.programmedReason);
    EXPECT_EQ(programmed.at("message"), c.programmedMessage);
    EXPECT_EQ(condition(status, type::kReady).at("reason"), c.readyReason);
  }
}

TEST_F(MeshServiceReconcilerTest, LoopbackEndpointsAreServedByProxiesOnlyAndSaidSoOncePerChange) {
  feed(meshServices_, {withEndpoints({"127.0.0.1", "10.0.0.1"})});
  dataplanes_.verdict = {.total = 1, .programmed = 1, .refusal = std::nullopt};
  reconcile();
  const auto first = sent();
  const auto slices = appliedTo(first, "/endpointslices/");
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(slices[0].at("endpoints").size(), 1u) << "the apiserver refuses 127.0.0.1 in a slice";
  const json status = statusIn(first);
  const std::string note =
      "1 static endpoint (127.0.0.1) is served by meshgate proxies only: an EndpointSlice cannot "
      "hold loopback or link-local addresses";
  EXPECT_EQ(condition(status, type::kProgrammed).at("message"),
            "1 of 1 dataplane(s) serve generation 1; " + note);
  EXPECT_EQ(status.at("endpoints"), (json{{"ready", 2}, {"total", 2}}));
  EXPECT_EQ(condition(status, type::kReady).at("message"), "2 of 2 endpoints ready");

  // Settled: no write, no second Event.
  catchUp(first);
  auto from = sent().size();
  reconcile();
  EXPECT_EQ(writesIn(sent(from)), 0u);
  // Programmed changes for another reason: the note stays, no new Event.
  dataplanes_.verdict = {.total = 2, .programmed = 1, .refusal = std::nullopt};
  from = sent().size();
  reconcile();
  catchUp(sent(from));
  // A second proxy-only address changes the note: one more Event.
  json changed = withEndpoints({"127.0.0.1", "10.0.0.1", "fe80::1"}, 2);
  changed["status"] = meshServices_.store().get("shop/web")->at("status");
  feed(meshServices_, {changed});
  from = sent().size();
  reconcile();
  EXPECT_EQ(condition(statusIn(sent(from)), type::kProgrammed).at("message"),
            "1 of 2 dataplane(s) serve generation 2; 2 static endpoints (127.0.0.1, fe80::1) are "
            "served by meshgate proxies only: an EndpointSlice cannot hold loopback or link-local "
            "addresses");

  const auto warnings = eventsOf(eventsSent(), "Warning", "ProxyOnlyEndpoints");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0].at("note"), note);
  EXPECT_EQ(warnings[1].at("note"),
            "2 static endpoints (127.0.0.1, fe80::1) are served by meshgate proxies only: an "
            "EndpointSlice cannot hold loopback or link-local addresses");
}

TEST_F(MeshServiceReconcilerTest, AMeshServiceWithoutProxyOnlyEndpointsSaysNothingOfThem) {
  feed(meshServices_, {withEndpoints({"10.0.0.1"})});
  dataplanes_.verdict = {.total = 1, .programmed = 1, .refusal = std::nullopt};
  EXPECT_EQ(condition(reconcileStatus(), type::kProgrammed).at("message"),
            "1 of 1 dataplane(s) serve generation 1");
  EXPECT_TRUE(eventsOf(eventsSent(), "Warning", "ProxyOnlyEndpoints").empty());
}

}  // namespace
}  // namespace meshgate::op
