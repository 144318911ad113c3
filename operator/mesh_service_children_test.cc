// MeshService → Service and static EndpointSlices.
#include "operator/mesh_service_children.h"

#include <gtest/gtest.h>

namespace meshgate::op {
namespace {

api::MeshService meshService() {
  api::MeshService ms;
  ms.metadata.name = "billing";
  ms.metadata.namespace_ = "shop";
  ms.metadata.uid = "uid-1";
  ms.spec.ports = {{.name = "http", .port = 80, .targetPort = 8080, .protocol = "HTTP"},
                   {.name = "grpc", .port = 9090, .targetPort = std::nullopt, .protocol = "HTTP2"}};
  return ms;
}

TEST(MeshServiceChildrenTest, ServiceCarriesSelectorPortsAndControllerOwner) {
  auto ms = meshService();
  ms.spec.selector = {{"app", "billing"}};
  auto service = desiredService(ms);
  EXPECT_EQ(service["metadata"]["name"], "billing");
  EXPECT_EQ(service["metadata"]["labels"]["app.kubernetes.io/managed-by"], "meshgate");
  EXPECT_EQ(service["metadata"]["ownerReferences"][0]["kind"], "MeshService");
  EXPECT_EQ(service["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  EXPECT_EQ(service["metadata"]["ownerReferences"][0]["controller"], true);
  EXPECT_EQ(service["spec"]["selector"]["app"], "billing");
  EXPECT_EQ(service["spec"]["ports"][0]["targetPort"], 8080);
  EXPECT_EQ(service["spec"]["ports"][1]["targetPort"], 9090);
  EXPECT_EQ(service["spec"]["ports"][1]["appProtocol"], "kubernetes.io/h2c");
}

TEST(MeshServiceChildrenTest, StaticEndpointsGroupByFamilyAndPort) {
  auto ms = meshService();
  ms.spec.endpoints = {{.address = "10.0.0.1", .port = std::nullopt, .weight = std::nullopt},
                       {.address = "10.0.0.2", .port = std::nullopt, .weight = std::nullopt},
                       {.address = "fd00::1", .port = std::nullopt, .weight = std::nullopt},
                       {.address = "10.0.0.3", .port = 7000, .weight = std::nullopt}};
  auto service = desiredService(ms);
  EXPECT_FALSE(service["spec"].contains("selector"));
  auto slices = desiredEndpointSlices(ms);
  ASSERT_EQ(slices.size(), 3u);
  EXPECT_EQ(slices[0]["metadata"]["name"], "billing-static-ipv4");
  EXPECT_EQ(slices[0]["endpoints"].size(), 2u);
  EXPECT_EQ(slices[0]["ports"][0]["port"], 8080);
  EXPECT_EQ(slices[1]["metadata"]["name"], "billing-static-ipv4-7000");
  EXPECT_EQ(slices[1]["ports"][0]["port"], 7000);
  EXPECT_EQ(slices[2]["addressType"], "IPv6");
  EXPECT_EQ(slices[2]["metadata"]["labels"]["kubernetes.io/service-name"], "billing");
  EXPECT_EQ(slices[2]["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
            "meshgate.io");
}

TEST(MeshServiceChildrenTest, LoopbackAndLinkLocalAddressesStayOutOfSlices) {
  EXPECT_FALSE(isSliceAddress("127.0.0.10"));
  EXPECT_FALSE(isSliceAddress("::1"));
  EXPECT_FALSE(isSliceAddress("169.254.1.1"));
  EXPECT_FALSE(isSliceAddress("fe80::1"));
  EXPECT_TRUE(isSliceAddress("10.0.0.1"));
  EXPECT_TRUE(isSliceAddress("fd00::1"));
  auto ms = meshService();
  ms.spec.endpoints = {{.address = "127.0.0.10", .port = std::nullopt, .weight = std::nullopt}};
  EXPECT_TRUE(desiredEndpointSlices(ms).empty());
}

TEST(MeshServiceChildrenTest, CountsDistinctAndReadyEndpointsAcrossSlices) {
  nlohmann::json a = {{"endpoints",
                       {{{"addresses", {"10.0.0.1"}}, {"conditions", {{"ready", true}}}},
                        {{"addresses", {"10.0.0.2"}}, {"conditions", {{"ready", false}}}}}}};
  nlohmann::json b = {
      {"endpoints", {{{"addresses", {"10.0.0.1"}}}, {{"addresses", {"10.0.0.3"}}}}}};
  auto counts = countEndpoints(meshService(), {}, {&a, &b});
  EXPECT_EQ(counts.total, 3);
  EXPECT_EQ(counts.ready, 2);
}

TEST(MeshServiceChildrenTest, CountsAppliedStaticSlicesInsteadOfTheirCachedCopies) {
  auto ms = meshService();
  ms.spec.endpoints = {{.address = "10.0.0.1", .port = std::nullopt, .weight = std::nullopt},
                       {.address = "10.0.0.2", .port = std::nullopt, .weight = std::nullopt}};
  const auto applied = desiredEndpointSlices(ms);
  // The cache still holds an older copy of the static slice (one endpoint, not ready) and a slice
  // kube-controller-manager keeps for the same Service.
  nlohmann::json stale = applied[0];
  stale["endpoints"] = {{{"addresses", {"10.0.0.9"}}, {"conditions", {{"ready", false}}}}};
  nlohmann::json discovered = {
      {"metadata",
       {{"name", "billing-abcde"},
        {"labels",
         {{"kubernetes.io/service-name", "billing"},
          {"endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io"}}}}},
      {"endpoints", {{{"addresses", {"10.1.0.5"}}, {"conditions", {{"ready", true}}}}}}};
  EXPECT_TRUE(isStaticEndpointSlice(stale));
  EXPECT_FALSE(isStaticEndpointSlice(discovered));

  auto counts = countEndpoints(ms, applied, {&stale, &discovered});
  EXPECT_EQ(counts.total, 3);  // 10.0.0.1, 10.0.0.2 as applied, 10.1.0.5 discovered
  EXPECT_EQ(counts.ready, 3);
  counts = countEndpoints(ms, applied, {});
  EXPECT_EQ(counts.total, 2) << "an empty cache does not hide what was just applied";
  EXPECT_EQ(counts.ready, 2);
}

TEST(MeshServiceChildrenTest, ProxyOnlyAddressesCountAsReadyOnce) {
  auto ms = meshService();
  ms.spec.endpoints = {{.address = "127.0.0.1", .port = std::nullopt, .weight = std::nullopt},
                       {.address = "10.0.0.1", .port = std::nullopt, .weight = std::nullopt},
                       {.address = "fe80::1", .port = 7000, .weight = std::nullopt},
                       {.address = "127.0.0.1", .port = 7001, .weight = std::nullopt}};
  EXPECT_EQ(proxyOnlyAddresses(ms), (std::vector<std::string>{"127.0.0.1", "fe80::1"}));
  auto counts = countEndpoints(ms, desiredEndpointSlices(ms), {});
  EXPECT_EQ(counts.total, 3);
  EXPECT_EQ(counts.ready, 3);
}

TEST(MeshServiceChildrenTest, IdentityDefaultsToTheObjectName) {
  auto ms = meshService();
  EXPECT_EQ(serviceAccountOf(ms), "billing");
  ms.spec.serviceAccount = "payments";
  EXPECT_EQ(spiffeId("cluster.local", "shop", serviceAccountOf(ms)),
            "spiffe://cluster.local/ns/shop/sa/payments");
}

}  // namespace
}  // namespace meshgate::op
