// Tests for webhook/injection/pod_admission.h: which requests get a patch, that the patch applied
// to the pod gives the injected pod, idempotence, warnings and 400 denials of malformed pods.
#include "webhook/injection/pod_admission.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "webhook/core/fake_cluster_view.h"
#include "webhook/injection/capture_injector.h"
#include "webhook/injection/sidecar_injector.h"

namespace meshgate::webhook {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kVersion = "0.1.0";

json appPod(const json& annotations = nullptr) {
  json pod = json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"generateName": "web-", "namespace": "", "labels": {"app": "web"}},
    "spec": {"serviceAccountName": "web-sa",
             "containers": [{"name": "app", "image": "web:1"}]}})");
  if (!annotations.is_null()) pod["metadata"]["annotations"] = annotations;
  return pod;
}

AdmissionRequest createRequest(const std::string& ns, json pod) {
  AdmissionRequest r;
  r.uid = "uid-1";
  r.kind = {"", "v1", "Pod"};
  r.resource = "pods";
  r.namespace_ = ns;
  r.operation = "CREATE";
  r.object = std::move(pod);
  return r;
}

class PodAdmissionTest : public ::testing::Test {
 protected:
  PodAdmissionTest() {
    cluster_.addNamespace("shop", {}, {{"meshgate.io/inject", "enabled"}});
    cluster_.addNamespace("plain");
    cluster_.addNamespace("legacy", {}, {{"meshgate.io/inject", "enabled"}});
    cluster_.addNamespace("kube-system", {}, {{"meshgate.io/inject", "enabled"}});
    config_.injection.excludedNamespaces = {"legacy"};
  }

  AdmissionDecision admit(const AdmissionRequest& r) const {
    return admitPod(r, config_, cluster_, kVersion);
  }

  FakeClusterView cluster_;
  WebhookConfig config_;
};

void expectNoPatch(const AdmissionDecision& d) {
  EXPECT_TRUE(d.allowed) << d.message;
  EXPECT_TRUE(!d.patch.has_value() || d.patch->empty()) << d.patch->dump();
}

TEST_F(PodAdmissionTest, LabelledNamespaceGetsPatchThatYieldsTheInjectedPod) {
  const json pod = appPod();
  const auto d = admit(createRequest("shop", pod));
  ASSERT_TRUE(d.allowed) << d.message;
  ASSERT_TRUE(d.patch.has_value());
  const auto capture = planCapture(pod);
  ASSERT_TRUE(capture.ok() && capture->options.has_value());
  EXPECT_EQ(pod.patch(*d.patch), injectCaptureInit(injectSidecar(pod, config_.injection, kVersion),
                                                   config_.injection, *capture->options));
  EXPECT_THAT(d.warnings, IsEmpty());
}

TEST_F(PodAdmissionTest, CaptureInitContainerRunsAfterTheAppsOwnInitContainers) {
  json pod = appPod();
  pod["spec"]["initContainers"] = json::array({{{"name", "migrate"}, {"image", "web:1"}}});
  const auto d = admit(createRequest("shop", pod));
  ASSERT_TRUE(d.patch.has_value());
  const json injected = pod.patch(*d.patch);
  ASSERT_EQ(injected["spec"]["initContainers"].size(), 2u);
  EXPECT_EQ(injected["spec"]["initContainers"][0]["name"], "migrate");
  EXPECT_EQ(injected["spec"]["initContainers"][1]["name"], "meshgate-init");
  EXPECT_EQ(injected["spec"]["initContainers"][1]["image"],
            "localhost/meshgate/meshgate-init:0.1.0");
}

TEST_F(PodAdmissionTest, CaptureOptOutKeepsTheSidecarWithoutTheInitContainer) {
  const json pod = appPod(json{{"meshgate.io/capture", "false"}});
  const auto d = admit(createRequest("shop", pod));
  ASSERT_TRUE(d.patch.has_value());
  const json injected = pod.patch(*d.patch);
  EXPECT_EQ(injected["spec"]["containers"][1]["name"], "meshgate-proxy");
  EXPECT_FALSE(injected["spec"].contains("initContainers")) << injected.dump(2);
  EXPECT_THAT(d.warnings, IsEmpty());
}

TEST_F(PodAdmissionTest, CaptureExclusionsFromAnnotationsReachTheInitContainer) {
  const json pod = appPod(json{{"meshgate.io/exclude-outbound-cidrs", "169.254.169.254"},
                               {"meshgate.io/exclude-outbound-ports", "5432"}});
  const auto d = admit(createRequest("shop", pod));
  ASSERT_TRUE(d.patch.has_value());
  const json args = pod.patch(*d.patch)["spec"]["initContainers"][0]["args"];
  EXPECT_THAT(args.dump(), HasSubstr(R"("--exclude-outbound-ports","5432")"));
  EXPECT_THAT(args.dump(), HasSubstr(R"("--exclude-outbound-cidrs","169.254.169.254/32")"));
}

TEST_F(PodAdmissionTest, AnExclusionMeshgateInitWouldRefuseDeniesThePod) {
  const auto d = admit(
      createRequest("shop", appPod(json{{"meshgate.io/exclude-outbound-ports", "postgres"}})));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 422);
  EXPECT_EQ(d.reason, "Invalid");
  EXPECT_EQ(d.message,
            "annotation meshgate.io/exclude-outbound-ports: \"postgres\": \"postgres\" is not a "
            "port (1-65535)");
}

TEST_F(PodAdmissionTest, AnUnknownCaptureValueWarnsAndCaptures) {
  const json pod = appPod(json{{"meshgate.io/capture", "no"}});
  const auto d = admit(createRequest("shop", pod));
  ASSERT_TRUE(d.patch.has_value());
  EXPECT_EQ(pod.patch(*d.patch)["spec"]["initContainers"][0]["name"], "meshgate-init");
  EXPECT_THAT(d.warnings,
              ElementsAre(HasSubstr("annotation meshgate.io/capture: \"no\" is ignored")));
}

TEST_F(PodAdmissionTest, PatchPathsEscapeTheAnnotationSlash) {
  const auto d = admit(createRequest("shop", appPod(json{{"team", "a"}})));
  ASSERT_TRUE(d.patch.has_value());
  bool found = false;
  for (const json& op : *d.patch) {
    found = found || op["path"] == "/metadata/annotations/meshgate.io~1injected";
  }
  EXPECT_TRUE(found) << d.patch->dump(2);
}

TEST_F(PodAdmissionTest, AnnotationTrueInjectsInUnlabelledNamespace) {
  const json pod = appPod(json{{"meshgate.io/inject", "true"}});
  const auto d = admit(createRequest("plain", pod));
  ASSERT_TRUE(d.patch.has_value());
  const json injected = pod.patch(*d.patch);
  EXPECT_EQ(injected["spec"]["containers"][1]["name"], "meshgate-proxy");
  EXPECT_EQ(injected["spec"]["volumes"][0]["secret"]["secretName"], "meshgate-identity-web-sa");
}

TEST_F(PodAdmissionTest, UnlabelledNamespaceIsUntouched) {
  expectNoPatch(admit(createRequest("plain", appPod())));
}

TEST_F(PodAdmissionTest, OptOutInLabelledNamespaceIsUntouched) {
  const auto d = admit(createRequest("shop", appPod(json{{"meshgate.io/inject", "false"}})));
  expectNoPatch(d);
  EXPECT_THAT(d.warnings, IsEmpty());
}

TEST_F(PodAdmissionTest, SystemNamespacesAreNeverInjectedEvenWhenAsked) {
  for (const char* ns : {"kube-system", "kube-public", "meshgate-system"}) {
    expectNoPatch(admit(createRequest(ns, appPod(json{{"meshgate.io/inject", "true"}}))));
  }
}

TEST_F(PodAdmissionTest, ConfigExcludedNamespaceIsNotInjected) {
  expectNoPatch(admit(createRequest("legacy", appPod(json{{"meshgate.io/inject", "true"}}))));
}

TEST_F(PodAdmissionTest, NamespaceFallsBackToThePodMetadata) {
  json pod = appPod();
  pod["metadata"]["namespace"] = "shop";
  const auto d = admit(createRequest("", pod));
  EXPECT_TRUE(d.patch.has_value() && !d.patch->empty());
}

TEST_F(PodAdmissionTest, ReadmittingThePatchedPodIsANoOp) {
  const json pod = appPod();
  const auto first = admit(createRequest("shop", pod));
  ASSERT_TRUE(first.patch.has_value());
  const json patched = pod.patch(*first.patch);
  expectNoPatch(admit(createRequest("shop", patched)));
}

TEST_F(PodAdmissionTest, HostNetworkPodIsAdmittedWithoutPatchButWithAWarning) {
  json pod = appPod();
  pod["spec"]["hostNetwork"] = true;
  const auto d = admit(createRequest("shop", pod));
  expectNoPatch(d);
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_THAT(d.warnings[0], HasSubstr("pod uses hostNetwork"));
  EXPECT_THAT(d.warnings[0], HasSubstr("meshgate.io/inject: \"false\""));
}

TEST_F(PodAdmissionTest, OnlyCreateIsMutated) {
  for (const char* op : {"UPDATE", "DELETE", "CONNECT"}) {
    AdmissionRequest r = createRequest("shop", appPod());
    r.operation = op;
    r.oldObject = appPod();
    const auto d = admit(r);
    expectNoPatch(d);
    EXPECT_THAT(d.warnings, IsEmpty()) << op;
  }
}

TEST_F(PodAdmissionTest, SubresourceCreateIsLeftAlone) {
  AdmissionRequest r = createRequest("shop", json{{"kind", "Binding"}});
  r.subResource = "binding";
  r.kind = {"", "v1", "Binding"};
  expectNoPatch(admit(r));
}

TEST_F(PodAdmissionTest, NonObjectIsDeniedAsBadRequest) {
  for (const json& object : {json(nullptr), json("pod"), json::array()}) {
    const auto d = admit(createRequest("shop", object));
    EXPECT_FALSE(d.allowed) << object.dump();
    EXPECT_EQ(d.code, 400);
    EXPECT_EQ(d.reason, "BadRequest");
    EXPECT_THAT(d.message, HasSubstr("expected a Pod object"));
  }
}

TEST_F(PodAdmissionTest, KindMismatchIsDeniedAsBadRequest) {
  AdmissionRequest r = createRequest("shop", appPod());
  r.kind = {"apps", "v1", "Deployment"};
  auto d = admit(r);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 400);
  EXPECT_THAT(d.message, HasSubstr("apps/Deployment"));

  json service = appPod();
  service["kind"] = "Service";
  d = admit(createRequest("shop", service));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 400);
  EXPECT_THAT(d.message, HasSubstr("kind: Unsupported value: \"Service\""));
}

TEST_F(PodAdmissionTest, MalformedPodFieldsAreDeniedNamingTheField) {
  struct Case {
    const char* what;
    json pod;
    const char* message;
  };
  json containersObject = appPod();
  containersObject["spec"]["containers"] = {{"name", "app"}};
  json containerString = appPod();
  containerString["spec"]["containers"][0] = "app";
  json noContainers = appPod();
  noContainers["spec"].erase("containers");
  json noSpec = appPod();
  noSpec.erase("spec");
  json badAnnotations = appPod(json{{"meshgate.io/inject", true}});
  json badVolumes = appPod();
  badVolumes["spec"]["volumes"] = "data";
  json badHostNetwork = appPod();
  badHostNetwork["spec"]["hostNetwork"] = "true";
  json badName = appPod();
  badName["spec"]["containers"][0]["name"] = 5;
  json badMetadata = appPod();
  badMetadata["metadata"] = "x";
  json badInitContainers = appPod();
  badInitContainers["spec"]["initContainers"] = json::array({"migrate"});
  const Case cases[] = {
      {"containers object", containersObject,
       "malformed pod: spec.containers: Invalid value: \"object\": expected an array"},
      {"container string", containerString,
       "malformed pod: spec.containers[0]: Invalid value: \"app\": expected an object"},
      {"no containers", noContainers, "malformed pod: spec.containers: Required value"},
      {"no spec", noSpec, "malformed pod: spec: Required value"},
      {"annotation bool", badAnnotations,
       "malformed pod: metadata.annotations[meshgate.io/inject]: Invalid value: true: expected a "
       "string"},
      {"volumes string", badVolumes,
       "malformed pod: spec.volumes: Invalid value: \"data\": expected an array"},
      {"hostNetwork string", badHostNetwork,
       "malformed pod: spec.hostNetwork: Invalid value: \"true\": expected a boolean"},
      {"container name number", badName,
       "malformed pod: spec.containers[0].name: Invalid value: 5: expected a string"},
      {"metadata string", badMetadata,
       "malformed pod: metadata: Invalid value: \"x\": expected an object"},
      {"init container string", badInitContainers,
       "malformed pod: spec.initContainers[0]: Invalid value: \"migrate\": expected an object"},
  };
  for (const Case& c : cases) {
    const auto d = admit(createRequest("shop", c.pod));
    EXPECT_FALSE(d.allowed) << c.what;
    EXPECT_EQ(d.code, 400) << c.what;
    EXPECT_EQ(d.reason, "BadRequest") << c.what;
    EXPECT_EQ(d.message, c.message) << c.what;
  }
}

TEST_F(PodAdmissionTest, ArbitraryJsonNeverThrows) {
  // Every subtree of a pod replaced by values of each JSON type: no input may escape as an
  // exception (the server would answer 500 for the whole review).
  const json base = appPod(json{{"meshgate.io/inject", "true"}});
  const json values[] = {
      nullptr, true, 1, -1.5, "s", json::array(), json::object(), json::array({1, "x"})};
  const json flat = base.flatten();
  for (const auto& [pointer, unused] : flat.items()) {
    (void)unused;
    std::string path = pointer;
    while (!path.empty()) {
      for (const json& v : values) {
        json pod = base;
        pod[json::json_pointer(path)] = v;
        EXPECT_NO_THROW((void)admit(createRequest("shop", pod))) << path << " = " << v.dump();
        const auto d = admit(createRequest("shop", pod));
        if (d.allowed && d.patch.has_value()) {
          EXPECT_NO_THROW((void)pod.patch(*d.patch)) << path << " = " << v.dump();
        }
      }
      path.resize(path.rfind('/'));
    }
  }
}

}  // namespace
}  // namespace meshgate::webhook
