// Tests for webhook/injection/capture_injector.h: the meshgate-init container, its place among
// the init containers, the pod annotations that shape or skip it.
#include "webhook/injection/capture_injector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace meshgate::webhook {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

json podWith(const json& annotations) {
  json pod = {{"metadata", {{"name", "web"}}},
              {"spec", {{"containers", json::array({{{"name", "app"}}})}}}};
  if (!annotations.is_null()) pod["metadata"]["annotations"] = annotations;
  return pod;
}

capture::CaptureOptions optionsOf(const json& pod) {
  const auto plan = planCapture(pod);
  EXPECT_TRUE(plan.ok()) << plan.error();
  EXPECT_TRUE(plan.ok() && plan->options.has_value());
  return plan.ok() && plan->options ? *plan->options : capture::CaptureOptions{};
}

TEST(CaptureInjectorTest, CapturesByDefaultWithTheSidecarsIdsAndPorts) {
  const auto options = optionsOf(podWith(nullptr));
  EXPECT_EQ(options.proxyUid, 1337u);
  EXPECT_EQ(options.proxyGid, 1337u);
  EXPECT_EQ(options.inboundPort, 15006);
  EXPECT_EQ(options.outboundPort, 15001);
  EXPECT_EQ(options.excludeInboundPorts, std::vector<int>{15000});
  EXPECT_THAT(options.excludeOutboundPorts, IsEmpty());
  EXPECT_THAT(options.excludeOutboundCidrs, IsEmpty());
}

TEST(CaptureInjectorTest, CaptureFalseSkipsTheInitContainer) {
  const auto plan = planCapture(podWith({{"meshgate.io/capture", "false"}}));
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->options.has_value());
  EXPECT_THAT(plan->warnings, IsEmpty());
  const auto explicitTrue = planCapture(podWith({{"meshgate.io/capture", "true"}}));
  ASSERT_TRUE(explicitTrue.ok());
  EXPECT_TRUE(explicitTrue->options.has_value());
  EXPECT_THAT(explicitTrue->warnings, IsEmpty());
}

TEST(CaptureInjectorTest, AnotherCaptureValueCapturesWithAWarning) {
  const auto plan = planCapture(podWith({{"meshgate.io/capture", "False"}}));
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->options.has_value());
  EXPECT_THAT(plan->warnings,
              ElementsAre("annotation meshgate.io/capture: \"False\" is ignored: the value must be "
                          "\"true\" or \"false\"; traffic is captured"));
}

TEST(CaptureInjectorTest, ExclusionAnnotationsAreParsedLikeMeshgateInitsFlags) {
  const auto options =
      optionsOf(podWith({{"meshgate.io/exclude-inbound-ports", "9090, 15000"},
                         {"meshgate.io/exclude-outbound-ports", "5432,6379"},
                         {"meshgate.io/exclude-outbound-cidrs", "10.0.0.0/8, 169.254.169.254"}}));
  EXPECT_EQ(options.excludeInboundPorts, (std::vector<int>{15000, 9090}));
  EXPECT_EQ(options.excludeOutboundPorts, (std::vector<int>{5432, 6379}));
  EXPECT_EQ(options.excludeOutboundCidrs,
            (std::vector<std::string>{"10.0.0.0/8", "169.254.169.254/32"}));
}

TEST(CaptureInjectorTest, ABadExclusionIsAnErrorNamingTheAnnotation) {
  EXPECT_EQ(planCapture(podWith({{"meshgate.io/exclude-inbound-ports", "80,"}})).error(),
            "annotation meshgate.io/exclude-inbound-ports: \"80,\": empty entry in port list "
            "\"80,\"");
  EXPECT_EQ(planCapture(podWith({{"meshgate.io/exclude-outbound-cidrs", "10.1.2.3/8"}})).error(),
            "annotation meshgate.io/exclude-outbound-cidrs: \"10.1.2.3/8\": \"10.1.2.3/8\" has "
            "host bits set; the network is 10.0.0.0/8");
  EXPECT_THAT(planCapture(podWith({{"meshgate.io/exclude-outbound-cidrs", "fd00::/8"}})).error(),
              HasSubstr("IPv4 only"));
}

TEST(CaptureInjectorTest, ExclusionsAreIgnoredWhenCaptureIsOff) {
  const auto plan = planCapture(podWith(
      {{"meshgate.io/capture", "false"}, {"meshgate.io/exclude-outbound-ports", "nonsense"}}));
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->options.has_value());
}

TEST(CaptureInjectorTest, InitContainerRunsMeshgateInitWithTheOptionsAsFlags) {
  InjectionSettings settings;
  settings.initImage = "registry.example/mesh/init:2";
  settings.imagePullPolicy = "Always";
  capture::CaptureOptions options = optionsOf(podWith(nullptr));
  options.excludeOutboundPorts = {5432};
  options.excludeOutboundCidrs = {"10.0.0.0/8", "192.168.0.0/16"};
  const json c = initContainer(settings, options);
  EXPECT_EQ(c["name"], "meshgate-init");
  EXPECT_EQ(c["image"], "registry.example/mesh/init:2");
  EXPECT_EQ(c["imagePullPolicy"], "Always");
  EXPECT_EQ(c["args"], json::array({"--proxy-uid", "1337", "--proxy-gid", "1337", "--inbound-port",
                                    "15006", "--outbound-port", "15001", "--exclude-inbound-ports",
                                    "15000", "--exclude-outbound-ports", "5432",
                                    "--exclude-outbound-cidrs", "10.0.0.0/8,192.168.0.0/16"}));
  EXPECT_FALSE(c.contains("command")) << "the image's entrypoint is meshgate-init";
  EXPECT_EQ(c["resources"], json::parse(R"({"requests": {"cpu": "10m", "memory": "16Mi"},
                                            "limits": {"cpu": "100m", "memory": "64Mi"}})"));
  EXPECT_EQ(c["terminationMessagePolicy"], "FallbackToLogsOnError");
}

TEST(CaptureInjectorTest, InitContainerIsRootWithOnlyTheNetworkCapabilities) {
  const json c = initContainer({}, {});
  EXPECT_EQ(c["image"], "localhost/meshgate/meshgate-init:0.1.0");
  EXPECT_EQ(c["securityContext"], json::parse(R"({
    "runAsUser": 0, "runAsNonRoot": false, "readOnlyRootFilesystem": true,
    "allowPrivilegeEscalation": false,
    "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]}})"));
}

TEST(CaptureInjectorTest, InjectsLastAmongTheInitContainers) {
  json pod = podWith(nullptr);
  pod["spec"]["initContainers"] = json::array({{{"name", "migrate"}}, {{"name", "fetch"}}});
  const json out = injectCaptureInit(pod, {}, {});
  ASSERT_EQ(out["spec"]["initContainers"].size(), 3u);
  EXPECT_EQ(out["spec"]["initContainers"][2], initContainer({}, {}));
  EXPECT_EQ(out["spec"]["initContainers"][0]["name"], "migrate");
  EXPECT_EQ(out["spec"]["containers"], pod["spec"]["containers"]);
}

TEST(CaptureInjectorTest, CreatesInitContainersWhenThePodHasNone) {
  const json out = injectCaptureInit(podWith(nullptr), {}, {});
  EXPECT_EQ(out["spec"]["initContainers"], json::array({initContainer({}, {})}));
}

TEST(CaptureInjectorTest, AnExistingMeshgateInitIsLeftAlone) {
  json pod = podWith(nullptr);
  pod["spec"]["initContainers"] =
      json::array({{{"name", "meshgate-init"}, {"image", "mine:1"}}, {{"name", "migrate"}}});
  EXPECT_EQ(injectCaptureInit(pod, {}, {}), pod);
  const json once = injectCaptureInit(podWith(nullptr), {}, {});
  EXPECT_EQ(injectCaptureInit(once, {}, {}), once);
}

}  // namespace
}  // namespace meshgate::webhook
