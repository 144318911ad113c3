// Tests for webhook/injection/injection_decision.h: the order of the rules (exclusion, already
// injected, opt-out, opt-in, namespace label) and the hostNetwork refusal.
#include "webhook/injection/injection_decision.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace meshgate::webhook {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

json pod(const json& annotations = json::object()) {
  return {{"metadata", {{"name", "p"}, {"annotations", annotations}}},
          {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "app:1"}}})}}}};
}

json namespaceWith(const json& labels) {
  return {{"metadata", {{"name", "ns"}, {"labels", labels}}}};
}

const json kEnabled = namespaceWith({{"meshgate.io/inject", "enabled"}});
const json kPlain = namespaceWith(json::object());

TEST(InjectionDecisionTest, LabelledNamespaceInjects) {
  const auto d = decideInjection(pod(), "shop", &kEnabled, {});
  EXPECT_EQ(d.verdict, InjectionVerdict::kInject);
  EXPECT_THAT(d.reason, HasSubstr("meshgate.io/inject=enabled"));
  EXPECT_THAT(d.warnings, IsEmpty());
}

TEST(InjectionDecisionTest, NamespaceLabelOtherThanEnabledDoesNotInject) {
  const json disabled = namespaceWith({{"meshgate.io/inject", "disabled"}});
  EXPECT_EQ(decideInjection(pod(), "shop", &disabled, {}).verdict, InjectionVerdict::kSkip);
}

TEST(InjectionDecisionTest, UnlabelledNamespaceSkips) {
  const auto d = decideInjection(pod(), "shop", &kPlain, {});
  EXPECT_EQ(d.verdict, InjectionVerdict::kSkip);
  EXPECT_THAT(d.warnings, IsEmpty());
}

TEST(InjectionDecisionTest, PodAnnotationTrueInjectsInUnlabelledNamespace) {
  const auto d = decideInjection(pod({{"meshgate.io/inject", "true"}}), "shop", &kPlain, {});
  EXPECT_EQ(d.verdict, InjectionVerdict::kInject);
}

TEST(InjectionDecisionTest, PodAnnotationTrueInjectsWhenNamespaceIsNotCached) {
  const auto d = decideInjection(pod({{"meshgate.io/inject", "true"}}), "shop", nullptr, {});
  EXPECT_EQ(d.verdict, InjectionVerdict::kInject);
  EXPECT_THAT(d.warnings, IsEmpty());
}

TEST(InjectionDecisionTest, UncachedNamespaceSkipsWithAWarning) {
  const auto d = decideInjection(pod(), "shop", nullptr, {});
  EXPECT_EQ(d.verdict, InjectionVerdict::kSkip);
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_THAT(d.warnings[0], HasSubstr("namespace shop is not yet known"));
}

TEST(InjectionDecisionTest, OptOutWinsOverLabelledNamespace) {
  const auto d = decideInjection(pod({{"meshgate.io/inject", "false"}}), "shop", &kEnabled, {});
  EXPECT_EQ(d.verdict, InjectionVerdict::kSkip);
  EXPECT_THAT(d.reason, HasSubstr("opted out"));
}

TEST(InjectionDecisionTest, SystemNamespacesAreNeverInjected) {
  for (const char* ns : {"kube-system", "kube-public", "meshgate-system"}) {
    const auto d = decideInjection(pod({{"meshgate.io/inject", "true"}}), ns, &kEnabled, {});
    EXPECT_EQ(d.verdict, InjectionVerdict::kSkip) << ns;
    EXPECT_EQ(d.reason, "namespace " + std::string(ns) + " is excluded from injection");
  }
}

TEST(InjectionDecisionTest, ConfigExcludedNamespaceIsNotInjected) {
  InjectionSettings settings;
  settings.excludedNamespaces = {"legacy"};
  const auto d =
      decideInjection(pod({{"meshgate.io/inject", "true"}}), "legacy", &kEnabled, settings);
  EXPECT_EQ(d.verdict, InjectionVerdict::kSkip);
  EXPECT_EQ(d.reason, "namespace legacy is excluded from injection");
  EXPECT_EQ(decideInjection(pod(), "shop", &kEnabled, settings).verdict, InjectionVerdict::kInject);
}

TEST(InjectionDecisionTest, InjectedAnnotationMeansAlreadyInjected) {
  const auto d = decideInjection(pod({{"meshgate.io/injected", "0.1.0"}}), "shop", &kEnabled, {});
  EXPECT_EQ(d.verdict, InjectionVerdict::kSkip);
  EXPECT_EQ(d.reason, "pod is already injected");
}

TEST(InjectionDecisionTest, SidecarContainerMeansAlreadyInjected) {
  json p = pod({{"meshgate.io/inject", "true"}});
  p["spec"]["containers"].push_back({{"name", "meshgate-proxy"}});
  const auto d = decideInjection(p, "shop", &kPlain, {});
  EXPECT_EQ(d.verdict, InjectionVerdict::kSkip);
  EXPECT_EQ(d.reason, "pod is already injected");
}

TEST(InjectionDecisionTest, HostNetworkPodIsRefusedWithTheReason) {
  json p = pod();
  p["spec"]["hostNetwork"] = true;
  const auto d = decideInjection(p, "shop", &kEnabled, {});
  EXPECT_EQ(d.verdict, InjectionVerdict::kRefused);
  EXPECT_EQ(d.reason,
            "pod uses hostNetwork: the meshgate-proxy sidecar cannot be injected (its ports "
            "15000/15001/15006 would bind on the node); set annotation meshgate.io/inject: "
            "\"false\" to admit it without the mesh");
}

TEST(InjectionDecisionTest, HostNetworkPodOutsideTheMeshIsSimplySkipped) {
  json p = pod();
  p["spec"]["hostNetwork"] = true;
  EXPECT_EQ(decideInjection(p, "shop", &kPlain, {}).verdict, InjectionVerdict::kSkip);
  p["metadata"]["annotations"]["meshgate.io/inject"] = "false";
  EXPECT_EQ(decideInjection(p, "shop", &kEnabled, {}).verdict, InjectionVerdict::kSkip);
}

TEST(InjectionDecisionTest, UnrecognisedAnnotationValueFallsBackToNamespaceWithAWarning) {
  const auto labelled =
      decideInjection(pod({{"meshgate.io/inject", "yes"}}), "shop", &kEnabled, {});
  EXPECT_EQ(labelled.verdict, InjectionVerdict::kInject);
  ASSERT_EQ(labelled.warnings.size(), 1u);
  EXPECT_THAT(labelled.warnings[0], HasSubstr("\"yes\" is ignored"));
  EXPECT_EQ(decideInjection(pod({{"meshgate.io/inject", "True"}}), "shop", &kPlain, {}).verdict,
            InjectionVerdict::kSkip);
}

TEST(InjectionDecisionTest, MalformedPodNeverThrows) {
  for (const json& p : {json(nullptr), json(7), json::array(), json{{"metadata", 1}},
                        json{{"metadata", {{"annotations", json::array()}}}, {"spec", "x"}},
                        json{{"spec", {{"containers", {{"a", 1}}}, {"hostNetwork", "true"}}}}}) {
    EXPECT_NO_THROW((void)decideInjection(p, "shop", &kEnabled, {})) << p.dump();
  }
}

}  // namespace
}  // namespace meshgate::webhook
