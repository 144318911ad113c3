// A replica's report of its proxies: JSON both ways, what it keeps of the registry's states, and
// the names of the ConfigMaps that hold the reports.
#include "operator/dataplane_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace meshgate::op {
namespace {

using std::chrono::microseconds;
using std::chrono::system_clock;

system_clock::time_point at(std::int64_t micros) {
  return system_clock::time_point(microseconds(micros));
}

DataplaneState state(const std::string& node, system_clock::time_point connectedAt) {
  DataplaneState out;
  out.id = 7;
  out.info = {.node = node,
              .mode = "gateway",
              .ingressClass = "meshgate",
              .identity = "spiffe://cluster.local/ns/meshgate-system/sa/meshgate-gateway",
              .proxyVersion = "0.1.0",
              .peer = "10.0.0.9:41000"};
  out.connectedAt = connectedAt;
  return out;
}

TEST(DataplaneReportTest, EncodedAndDecodedItIsTheSameReport) {
  DataplaneReport report;
  report.replica = "meshgate-operator-7d9f-x2";
  report.dataplanes.push_back({.node = "gateway~a",
                               .mode = "gateway",
                               .ingressClass = "meshgate",
                               .connectedAt = at(1767322245123456),
                               .sentVersion = "v3",
                               .ackedVersion = "v2",
                               .refusedRoutes = {{"shop/store", {"rateLimit: not supported"}}},
                               .nackedVersion = "v3",
                               .nackErrors = {"listeners[0]: bad certificate"}});
  ReportedDataplane b;
  b.node = "gateway~b";
  b.mode = "gateway";
  b.ingressClass = "internal";
  report.dataplanes.push_back(b);
  const std::string json = encodeDataplaneReport(report);
  const auto decoded = decodeDataplaneReport(json);
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_EQ(*decoded, report);
  EXPECT_NE(json.find(R"("connectedAt":"2026-01-02T02:50:45.123456Z")"), std::string::npos) << json;
}

TEST(DataplaneReportTest, EmptyFieldsAreLeftOut) {
  DataplaneReport report;
  report.replica = "r1";
  report.dataplanes.emplace_back().node = "gateway~a";
  EXPECT_EQ(encodeDataplaneReport(report),
            R"({"dataplanes":[{"node":"gateway~a"}],"replica":"r1"})");
  report.dataplanes.clear();
  EXPECT_EQ(encodeDataplaneReport(report), R"({"replica":"r1"})");
}

TEST(DataplaneReportTest, MalformedInputIsAnErrorNotAnException) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", "not JSON"},
      {"[]", "must be an object"},
      {R"({"dataplanes":[]})", "replica: required"},
      {R"({"replica":3})", "replica: must be a string"},
      {R"({"replica":"r","dataplanes":{}})", "dataplanes: must be a list"},
      {R"({"replica":"r","dataplanes":[7]})", "dataplanes[0]: must be an object"},
      {R"({"replica":"r","dataplanes":[{"mode":"gateway"}]})", "dataplanes[0].node: required"},
      {R"({"replica":"r","dataplanes":[{"node":"a","ackedVersion":1}]})",
       "dataplanes[0].ackedVersion: must be a string"},
      {R"({"replica":"r","dataplanes":[{"node":"a","connectedAt":"yesterday"}]})",
       "dataplanes[0].connectedAt: not an RFC 3339 UTC time: yesterday"},
      {R"({"replica":"r","dataplanes":[{"node":"a","connectedAt":"2026-01-02T03:04:05+01:00"}]})",
       "dataplanes[0].connectedAt: not an RFC 3339 UTC time"},
      {R"({"replica":"r","dataplanes":[{"node":"a","nackErrors":"bad"}]})",
       "dataplanes[0].nackErrors: must be a list of strings"},
      {R"({"replica":"r","dataplanes":[{"node":"a","refusedRoutes":{"shop/x":[1]}}]})",
       "dataplanes[0].refusedRoutes[shop/x]: must be a list of strings"},
      {R"({"replica":"r","dataplanes":[{"node":"a"},{"node":"b","refusedRoutes":[]}]})",
       "dataplanes[1].refusedRoutes: must be an object"},
  };
  for (const auto& [input, error] : cases) {
    const auto decoded = decodeDataplaneReport(input);
    ASSERT_FALSE(decoded) << input;
    EXPECT_NE(decoded.error().find(error), std::string::npos)
        << input << " gave: " << decoded.error();
  }
  EXPECT_TRUE(decodeDataplaneReport(R"({"replica":"r","dataplanes":[{"node":"a",
      "connectedAt":"2026-01-02T03:04:05Z","unknownField":true}]})"));
}

TEST(DataplaneReportTest, MadeFromTheRegistrySortedByNodeWithTheFirstErrorsOnly) {
  auto b = state("gateway~b", at(2000000));
  b.ackedVersion = "v2";
  b.sentVersion = "v3";
  b.nackedVersion = "v3";
  b.nackErrors = {"first", "second"};
  b.refusedRoutes = {{"shop/store", {"rateLimit", "cors"}}};
  auto a = state("gateway~a", at(1000000) + std::chrono::nanoseconds(999));
  a.nackErrors = {std::string(600, 'x') + "\xC3\xA9"};  // past the limit, with a 2-byte character
  const auto report = makeDataplaneReport("r1", {b, a});
  EXPECT_EQ(report.replica, "r1");
  ASSERT_EQ(report.dataplanes.size(), 2u);
  EXPECT_EQ(report.dataplanes[0].node, "gateway~a");
  EXPECT_EQ(report.dataplanes[0].connectedAt, at(1000000)) << "microseconds, as the wire has it";
  ASSERT_EQ(report.dataplanes[0].nackErrors.size(), 1u);
  EXPECT_LE(report.dataplanes[0].nackErrors[0].size(), 512u);
  EXPECT_EQ(report.dataplanes[0].nackErrors[0].substr(509), "...");
  const auto& second = report.dataplanes[1];
  EXPECT_EQ(second.nackErrors, std::vector<std::string>{"first"});
  EXPECT_EQ(second.refusedRoutes.at("shop/store"), std::vector<std::string>{"rateLimit"});
  EXPECT_EQ(second.sentVersion, "v3");
  EXPECT_EQ(second.ackedVersion, "v2");
  EXPECT_EQ(second.nackedVersion, "v3");
  EXPECT_EQ(second.ingressClass, "meshgate");
  // What the leader merges from it.
  const auto states = reportedStates(*decodeDataplaneReport(encodeDataplaneReport(report)));
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[1].info.node, "gateway~b");
  EXPECT_EQ(states[1].info.ingressClass, "meshgate");
  EXPECT_EQ(states[1].connectedAt, at(2000000));
  EXPECT_EQ(states[1].nackErrors, std::vector<std::string>{"first"});
}

TEST(DataplaneReportTest, SidecarsAreLeftOut) {
  auto sidecar = state("sidecar~cart-1.shop", at(1000000));
  sidecar.info.mode = "sidecar";
  sidecar.info.ingressClass = "";
  const auto report = makeDataplaneReport("r1", {sidecar, state("gateway~a", at(2000000))});
  ASSERT_EQ(report.dataplanes.size(), 1u);
  EXPECT_EQ(report.dataplanes[0].node, "gateway~a");
  EXPECT_TRUE(makeDataplaneReport("r1", {sidecar}).dataplanes.empty());
}

TEST(DataplaneReportTest, ReplicaNamesBecomeDnsLabels) {
  EXPECT_EQ(replicaLabel("meshgate-operator-5c7d9-x2x8k"), "meshgate-operator-5c7d9-x2x8k");
  EXPECT_EQ(replicaLabel("Build-Host_0a1b2c3d4e5f6071"), "build-host-0a1b2c3d4e5f6071");
  EXPECT_EQ(replicaLabel("--a..b--"), "a-b");
  EXPECT_EQ(replicaLabel(""), "replica");
  EXPECT_EQ(replicaLabel("___"), "replica");
  const std::string longA = std::string(80, 'a') + "-1";
  const std::string longB = std::string(80, 'a') + "-2";
  EXPECT_EQ(replicaLabel(longA).size(), 63u);
  EXPECT_NE(replicaLabel(longA), replicaLabel(longB)) << "a shortened name keeps a hash of it";
  EXPECT_EQ(dataplaneReportName("r1"), "meshgate-dataplanes-r1");
}

}  // namespace
}  // namespace meshgate::op
