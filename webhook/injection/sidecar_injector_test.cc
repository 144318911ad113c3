// Tests for webhook/injection/sidecar_injector.h: every field the sidecar needs, the identity
// volume per service account, the annotation, and that the rest of the pod is left intact.
#include "webhook/injection/sidecar_injector.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace meshgate::webhook {
namespace {

using nlohmann::json;

json appPod() {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"generateName": "web-", "labels": {"app": "web"}},
    "spec": {
      "serviceAccountName": "web-sa",
      "containers": [{"name": "app", "image": "web:1", "ports": [{"containerPort": 8080}]}],
      "volumes": [{"name": "data", "emptyDir": {}}]
    }})");
}

const json& containerNamed(const json& pod, std::string_view name) {
  for (const json& c : pod["spec"]["containers"]) {
    if (c["name"] == std::string(name)) return c;
  }
  static const json missing;
  ADD_FAILURE() << "no container " << name << " in " << pod.dump();
  return missing;
}

json envNamed(const json& container, std::string_view name) {
  for (const json& e : container["env"]) {
    if (e["name"] == std::string(name)) return e;
  }
  ADD_FAILURE() << "no env " << name;
  return nullptr;
}

TEST(SidecarInjectorTest, AppendsTheSidecarAfterTheAppContainers) {
  const json out = injectSidecar(appPod(), {}, "0.1.0");
  ASSERT_EQ(out["spec"]["containers"].size(), 2u);
  EXPECT_EQ(out["spec"]["containers"][0], appPod()["spec"]["containers"][0]);
  EXPECT_EQ(out["spec"]["containers"][1]["name"], "meshgate-proxy");
}

TEST(SidecarInjectorTest, SidecarUsesTheConfiguredImageAndResources) {
  InjectionSettings settings;
  settings.image = "registry.example/proxy:9";
  settings.imagePullPolicy = "Always";
  settings.resources = {{"limits", {{"memory", "1Gi"}}}};
  const json out = injectSidecar(appPod(), settings, "v");
  const json& c = containerNamed(out, "meshgate-proxy");
  EXPECT_EQ(c["image"], "registry.example/proxy:9");
  EXPECT_EQ(c["imagePullPolicy"], "Always");
  EXPECT_EQ(c["resources"], settings.resources);
}

TEST(SidecarInjectorTest, SidecarBootstrapsFromArgsAndEnv) {
  InjectionSettings settings;
  settings.controlPlaneAddress = "op.sys.svc:15012";
  settings.trustDomain = "mesh.example";
  const json c = sidecarContainer(settings);
  // The flags meshgate-proxy --mode sidecar accepts; the admin listener on the pod's addresses,
  // where the kubelet's readiness probe connects.
  EXPECT_EQ(c["args"],
            json::array({"--mode", "sidecar", "--control-plane", "https://op.sys.svc:15012",
                         "--cert-dir", "/var/run/meshgate/identity", "--node",
                         "$(MESHGATE_NODE_ID)", "--admin-address", "0.0.0.0:15000"}));
  EXPECT_EQ(envNamed(c, "POD_NAME")["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
  EXPECT_EQ(envNamed(c, "POD_NAMESPACE")["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.namespace");
  EXPECT_EQ(envNamed(c, "MESHGATE_NODE_ID")["value"], "sidecar~$(POD_NAME).$(POD_NAMESPACE)");
  EXPECT_EQ(envNamed(c, "MESHGATE_MODE")["value"], "sidecar");
  EXPECT_EQ(envNamed(c, "MESHGATE_CONTROL_PLANE")["value"], "op.sys.svc:15012");
  EXPECT_EQ(envNamed(c, "MESHGATE_TRUST_DOMAIN")["value"], "mesh.example");
}

TEST(SidecarInjectorTest, ControlPlaneUrlAddsTheSchemeOnlyWhenMissing) {
  EXPECT_EQ(controlPlaneUrl("op.sys.svc:15012"), "https://op.sys.svc:15012");
  EXPECT_EQ(controlPlaneUrl("https://op.sys.svc:15012"), "https://op.sys.svc:15012");
  EXPECT_EQ(controlPlaneUrl("[fd00::1]:15012"), "https://[fd00::1]:15012");
}

TEST(SidecarInjectorTest, NodeIdEnvComesAfterTheVariablesItExpands) {
  // The kubelet expands $(VAR) only from entries listed earlier; a reorder would leave the
  // literal "$(POD_NAME)" in the node id.
  const json env = sidecarContainer({})["env"];
  std::vector<std::string> names;
  for (const json& e : env)
    names.push_back(e["name"]);
  const auto at = [&](const char* n) {
    return std::find(names.begin(), names.end(), n) - names.begin();
  };
  EXPECT_LT(at("POD_NAME"), at("MESHGATE_NODE_ID"));
  EXPECT_LT(at("POD_NAMESPACE"), at("MESHGATE_NODE_ID"));
  EXPECT_LT(at("MESHGATE_NODE_ID"), static_cast<long>(names.size()));
}

TEST(SidecarInjectorTest, SidecarDeclaresItsPortsAndReadinessProbe) {
  const json c = sidecarContainer({});
  EXPECT_EQ(c["ports"], json::parse(R"([
      {"name": "mesh-outbound", "containerPort": 15001, "protocol": "TCP"},
      {"name": "mesh-inbound", "containerPort": 15006, "protocol": "TCP"},
      {"name": "mesh-admin", "containerPort": 15000, "protocol": "TCP"}])"));
  EXPECT_EQ(c["readinessProbe"]["httpGet"], json::parse(R"({"path": "/ready", "port": 15000})"));
  EXPECT_EQ(c["readinessProbe"]["periodSeconds"], 2);
  EXPECT_TRUE(c["readinessProbe"]["failureThreshold"].is_number_integer());
}

TEST(SidecarInjectorTest, SidecarRunsLockedDown) {
  EXPECT_EQ(sidecarContainer({})["securityContext"], json::parse(R"({
      "runAsNonRoot": true, "runAsUser": 1337, "runAsGroup": 1337,
      "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
      "capabilities": {"drop": ["ALL"]}})"));
}

TEST(SidecarInjectorTest, SidecarMountsTheIdentityReadOnly) {
  EXPECT_EQ(sidecarContainer({})["volumeMounts"], json::parse(R"([
      {"name": "meshgate-identity", "mountPath": "/var/run/meshgate/identity", "readOnly": true}])"));
}

TEST(SidecarInjectorTest, IdentityVolumeUsesTheServiceAccountSecret) {
  const json out = injectSidecar(appPod(), {}, "0.1.0");
  ASSERT_EQ(out["spec"]["volumes"].size(), 2u);
  EXPECT_EQ(out["spec"]["volumes"][0], appPod()["spec"]["volumes"][0]);
  EXPECT_EQ(out["spec"]["volumes"][1], json::parse(R"({"name": "meshgate-identity",
      "secret": {"secretName": "meshgate-identity-web-sa", "defaultMode": 292,
                 "optional": true}})"));
}

TEST(SidecarInjectorTest, PodWithoutServiceAccountUsesDefault) {
  json pod = appPod();
  pod["spec"].erase("serviceAccountName");
  EXPECT_EQ(injectSidecar(pod, {}, "v")["spec"]["volumes"][1]["secret"]["secretName"],
            "meshgate-identity-default");
  pod["spec"]["serviceAccount"] = "legacy-sa";
  EXPECT_EQ(injectSidecar(pod, {}, "v")["spec"]["volumes"][1]["secret"]["secretName"],
            "meshgate-identity-legacy-sa");
}

TEST(SidecarInjectorTest, AnnotatesWithTheVersionCreatingAnnotations) {
  const json out = injectSidecar(appPod(), {}, "1.2.3");
  EXPECT_EQ(out["metadata"]["annotations"], json::parse(R"({"meshgate.io/injected": "1.2.3"})"));
  json annotated = appPod();
  annotated["metadata"]["annotations"] = {{"keep", "me"}};
  EXPECT_EQ(injectSidecar(annotated, {}, "1.2.3")["metadata"]["annotations"],
            json::parse(R"({"keep": "me", "meshgate.io/injected": "1.2.3"})"));
}

TEST(SidecarInjectorTest, KeepsEverythingElseIntact) {
  json out = injectSidecar(appPod(), {}, "v");
  out["spec"]["containers"].erase(1);
  out["spec"]["volumes"].erase(1);
  out["metadata"].erase("annotations");
  EXPECT_EQ(out, appPod());
}

TEST(SidecarInjectorTest, CreatesVolumesWhenThePodHasNone) {
  json pod = appPod();
  pod["spec"].erase("volumes");
  const json out = injectSidecar(pod, {}, "v");
  ASSERT_EQ(out["spec"]["volumes"].size(), 1u);
  EXPECT_EQ(out["spec"]["volumes"][0]["name"], "meshgate-identity");
}

TEST(SidecarInjectorTest, DoesNotDuplicateExistingSidecarOrVolume) {
  const json once = injectSidecar(appPod(), {}, "v1");
  const json twice = injectSidecar(once, {}, "v1");
  EXPECT_EQ(twice, once);
}

}  // namespace
}  // namespace meshgate::webhook
