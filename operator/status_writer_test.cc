// StatusWriter over a scripted transport: writes only a changed status, and tells a failure that
// retrying can mend from one it cannot (the object or its namespace is gone).
#include "operator/status_writer.h"

#include <gtest/gtest.h>

#include "kube/fake_transport.h"

namespace meshgate::op {
namespace {

class StatusWriterTest : public ::testing::Test {
 protected:
  StatusWriterTest() {
    kube::RestClientOptions options;
    options.qps = 0;
    options.sleep = [](std::chrono::milliseconds) {};
    client_ = std::make_unique<kube::RestClient>(transport_, options);
  }

  nlohmann::json live_ = {{"apiVersion", "meshgate.io/v1alpha1"},
                          {"kind", "MeshService"},
                          {"metadata", {{"name", "orders"}, {"namespace", "shop"}}},
                          {"status", {{"identity", "spiffe://cluster.local/ns/shop/sa/orders"}}}};
  std::shared_ptr<kube::FakeTransport> transport_ = std::make_shared<kube::FakeTransport>();
  std::unique_ptr<kube::RestClient> client_;
  kube::ThreadSafeStore namespaces_;
  GoneNamespaces gone_{namespaces_};
};

TEST_F(StatusWriterTest, WritesNothingWhenTheCachedStatusAlreadySaysIt) {
  StatusWriter writer(*client_, kube::resources::kMeshServices, live_);
  EXPECT_EQ(writer.writeJson({{"identity", "spiffe://cluster.local/ns/shop/sa/orders"}}), "");
  EXPECT_FALSE(writer.wrote());
  EXPECT_TRUE(transport_->sent().empty());
}

TEST_F(StatusWriterTest, AppliesAChangedStatusToTheStatusSubresource) {
  transport_->enqueueResponse(200, live_.dump());
  StatusWriter writer(*client_, kube::resources::kMeshServices, live_);
  EXPECT_EQ(writer.writeJson({{"identity", "spiffe://cluster.local/ns/shop/sa/other"}}), "");
  EXPECT_TRUE(writer.wrote());
  ASSERT_EQ(transport_->sent().size(), 1u);
  EXPECT_EQ(transport_->sent()[0].method, "PATCH");
  EXPECT_EQ(transport_->sent()[0].target,
            "/apis/meshgate.io/v1alpha1/namespaces/shop/meshservices/orders/"
            "status?fieldManager=meshgate&force=true");
}

TEST_F(StatusWriterTest, AGoneNamespaceIsTerminalNotRetried) {
  transport_->enqueueResponse(404, R"({"kind":"Status","reason":"NotFound","code":404,
      "message":"namespaces \"shop\" not found","details":{"name":"shop","kind":"namespaces"}})");
  StatusWriter writer(*client_, kube::resources::kMeshServices, live_);
  auto failure = writer.writeJson({{"identity", "changed"}});
  ASSERT_NE(failure, "");
  EXPECT_TRUE(writer.targetGone());
  auto result = statusFailure(writer, failure, gone_);
  EXPECT_EQ(result.kind(), kube::ReconcileResult::Kind::Terminal);
  EXPECT_NE(result.error().find("namespaces \"shop\" not found"), std::string::npos);
}

TEST_F(StatusWriterTest, AServerErrorIsRetried) {
  transport_->enqueueResponse(500, R"({"kind":"Status","reason":"InternalError","code":500})");
  StatusWriter writer(*client_, kube::resources::kMeshServices, live_);
  auto failure = writer.writeJson({{"identity", "changed"}});
  ASSERT_NE(failure, "");
  EXPECT_FALSE(writer.targetGone());
  EXPECT_EQ(statusFailure(writer, failure, gone_).kind(), kube::ReconcileResult::Kind::Retry);
}

}  // namespace
}  // namespace meshgate::op
