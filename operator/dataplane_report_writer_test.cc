// DataplaneReportWriter over a scripted transport: one apply per change of the report and none
// for the same report again, no report while leading, retries, and the report gone at stop().
#include "operator/dataplane_report_writer.h"

#include <gtest/gtest.h>

#include "base/testing/eventually.h"
#include "kube/fake_transport.h"
#include "operator/dataplane_report.h"

namespace meshgate::op {
namespace {

using meshgate::testing::eventually;

constexpr const char* kTarget =
    "/api/v1/namespaces/meshgate-system/configmaps/meshgate-dataplanes-r2";

class DataplaneReportWriterTest : public ::testing::Test {
 protected:
  DataplaneReportWriterTest() {
    kube::RestClientOptions options;
    options.qps = 0;
    options.maxRetries = 0;
    options.sleep = [](std::chrono::milliseconds) {};
    client_ = std::make_unique<kube::RestClient>(transport_, options);
    // The apiserver: applies succeed unless a test scripts otherwise; a delete finds nothing
    // until something was applied.
    transport_->setFallback(
        [this](const kube::HttpRequest& request) -> kube::Result<kube::HttpResponse> {
          kube::HttpResponse response;
          std::lock_guard lock(mutex_);
          if (request.method == "PATCH") {
            exists_ = true;
            response.status = 200;
            response.body = request.body;
          } else if (request.method == "DELETE") {
            response.status = exists_ ? 200 : 404;
            response.body = exists_ ? R"({"kind":"Status","status":"Success"})"
                                    : R"({"kind":"Status","reason":"NotFound","code":404})";
            exists_ = false;
          }
          return response;
        });
  }

  std::unique_ptr<DataplaneReportWriter> writer(std::string podName = "", std::string podUid = "") {
    return std::make_unique<DataplaneReportWriter>(
        *client_, registry_,
        DataplaneReportWriterOptions{.systemNamespace = "meshgate-system",
                                     .replica = "r2",
                                     .podName = std::move(podName),
                                     .podUid = std::move(podUid),
                                     .window = std::chrono::milliseconds(1),
                                     .firstRetry = std::chrono::milliseconds(5),
                                     .maxRetry = std::chrono::milliseconds(20)});
  }

  SessionId gateway(const std::string& node) {
    DataplaneInfo info;
    info.node = node;
    info.mode = "gateway";
    info.ingressClass = "meshgate";
    return registry_.connected(info);
  }

  std::vector<kube::HttpRequest> requests(const std::string& method) const {
    std::vector<kube::HttpRequest> out;
    for (const auto& request : transport_->sent())
      if (request.method == method) out.push_back(request);
    return out;
  }

  // The report in the body of an apply.
  static DataplaneReport reportIn(const kube::HttpRequest& apply) {
    const auto object = nlohmann::json::parse(apply.body);
    auto report = decodeDataplaneReport(object["data"][kDataplaneReportKey].get<std::string>());
    EXPECT_TRUE(report) << report.error();
    return report ? *report : DataplaneReport{};
  }

  std::shared_ptr<kube::FakeTransport> transport_ = std::make_shared<kube::FakeTransport>();
  std::unique_ptr<kube::RestClient> client_;
  DataplaneRegistry registry_{[](const std::string&) { return nullptr; }};
  std::mutex mutex_;
  bool exists_ = false;
};

TEST_F(DataplaneReportWriterTest, AStartWithoutProxiesRemovesWhatAnEarlierRunLeft) {
  auto w = writer();
  ASSERT_TRUE(eventually([&] { return w->passes() >= 1; }));
  ASSERT_EQ(transport_->sent().size(), 1u);
  EXPECT_EQ(transport_->sent()[0].method, "DELETE");
  EXPECT_EQ(transport_->sent()[0].target, kTarget);
}

TEST_F(DataplaneReportWriterTest, WritesOnlyWhenTheReportChanges) {
  auto w = writer();
  ASSERT_TRUE(eventually([&] { return w->passes() >= 1; }));
  const auto a = gateway("gateway~a");
  w->changed();
  ASSERT_TRUE(eventually([&] { return requests("PATCH").size() == 1; }));
  const auto apply = requests("PATCH")[0];
  EXPECT_EQ(apply.target.substr(0, apply.target.find('?')), kTarget);
  EXPECT_NE(apply.target.find("fieldManager=meshgate"), std::string::npos);
  const auto object = nlohmann::json::parse(apply.body);
  EXPECT_EQ(object["metadata"]["labels"][kDataplaneReportLabel], "true");
  EXPECT_FALSE(object["metadata"].contains("ownerReferences")) << "no Pod named";
  auto report = reportIn(apply);
  EXPECT_EQ(report.replica, "r2");
  ASSERT_EQ(report.dataplanes.size(), 1u);
  EXPECT_EQ(report.dataplanes[0].node, "gateway~a");

  // The same report again: a pass, and no request.
  const auto passes = w->passes();
  w->changed();
  ASSERT_TRUE(eventually([&] { return w->passes() > passes; }));
  EXPECT_EQ(transport_->sent().size(), 2u) << "the start's DELETE and one apply";

  registry_.sent(a, "v1");
  registry_.acked(a, "v1");
  w->changed();
  ASSERT_TRUE(eventually([&] { return requests("PATCH").size() == 2; }));
  EXPECT_EQ(reportIn(requests("PATCH")[1]).dataplanes[0].ackedVersion, "v1");

  // The last proxy leaves: no report at all.
  registry_.disconnected(a);
  w->changed();
  ASSERT_TRUE(eventually([&] { return requests("DELETE").size() == 2; }));
  EXPECT_EQ(requests("DELETE")[1].target, kTarget);
}

TEST_F(DataplaneReportWriterTest, AReplicaServingOnlySidecarsHasNoReport) {
  auto w = writer();
  ASSERT_TRUE(eventually([&] { return w->passes() >= 1; }));
  DataplaneInfo info;
  info.node = "sidecar~cart-1.shop";
  info.mode = "sidecar";
  const auto sidecar = registry_.connected(info);
  registry_.sent(sidecar, "s1");
  registry_.acked(sidecar, "s1");
  const auto passes = w->passes();
  w->changed();
  ASSERT_TRUE(eventually([&] { return w->passes() > passes; }));
  EXPECT_EQ(transport_->sent().size(), 1u) << "the start's DELETE only";

  gateway("gateway~a");
  w->changed();
  ASSERT_TRUE(eventually([&] { return requests("PATCH").size() == 1; }));
  const auto report = reportIn(requests("PATCH")[0]);
  ASSERT_EQ(report.dataplanes.size(), 1u);
  EXPECT_EQ(report.dataplanes[0].node, "gateway~a");
}

TEST_F(DataplaneReportWriterTest, AReplicaThatLeadsHasNoReport) {
  auto w = writer();
  ASSERT_TRUE(eventually([&] { return w->passes() >= 1; }));
  gateway("gateway~a");
  w->changed();
  ASSERT_TRUE(eventually([&] { return requests("PATCH").size() == 1; }));
  w->startedLeading();
  ASSERT_TRUE(eventually([&] { return requests("DELETE").size() == 2; }));
  const auto passes = w->passes();
  gateway("gateway~b");
  w->changed();
  ASSERT_TRUE(eventually([&] { return w->passes() > passes; }));
  EXPECT_EQ(requests("PATCH").size(), 1u) << "the leader counts its proxies itself";
  EXPECT_EQ(requests("DELETE").size(), 2u) << "already gone: nothing to delete";
}

TEST_F(DataplaneReportWriterTest, AFailedWriteIsRetried) {
  auto w = writer();
  ASSERT_TRUE(eventually([&] { return w->passes() >= 1; }));
  transport_->enqueueResponse(
      403,
      R"({"kind":"Status","reason":"Forbidden","code":403,"message":"configmaps is forbidden"})");
  gateway("gateway~a");
  w->changed();
  ASSERT_TRUE(eventually([&] { return requests("PATCH").size() == 2; }));
  ASSERT_TRUE(eventually([&] { return w->passes() >= 2; }));
  EXPECT_EQ(reportIn(requests("PATCH")[1]).dataplanes.size(), 1u);
}

TEST_F(DataplaneReportWriterTest, OwnedByItsPodAndDeletedAtStop) {
  auto w = writer("meshgate-operator-5c7d9-x2x8k", "2f1c7a4e-0000-4000-8000-000000000001");
  gateway("gateway~a");
  w->changed();
  ASSERT_TRUE(eventually([&] { return requests("PATCH").size() == 1; }));
  const auto object = nlohmann::json::parse(requests("PATCH")[0].body);
  const auto owners = object["metadata"]["ownerReferences"];
  ASSERT_EQ(owners.size(), 1u);
  EXPECT_EQ(owners[0]["kind"], "Pod");
  EXPECT_EQ(owners[0]["name"], "meshgate-operator-5c7d9-x2x8k");
  EXPECT_EQ(owners[0]["uid"], "2f1c7a4e-0000-4000-8000-000000000001");
  w->stop();
  const auto sent = transport_->sent();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.back().method, "DELETE");
  EXPECT_EQ(sent.back().target, kTarget);
  const auto count = sent.size();
  w->stop();
  EXPECT_EQ(transport_->sent().size(), count) << "stop() is idempotent";
}

}  // namespace
}  // namespace meshgate::op
