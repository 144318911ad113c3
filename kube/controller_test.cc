// Controller over scripted informers: primary and owned objects enqueue the right keys, failures
// retry with backoff, nothing runs before the caches sync.
#include "kube/controller.h"

#include <gtest/gtest.h>

#include "kube/fake_transport.h"

namespace kube {
namespace {

class RecordingReconciler : public Reconciler {
 public:
  ReconcileResult reconcile(const Request& request) override {
    std::lock_guard lock(mutex_);
    calls_.push_back(request.key());
    cv_.notify_all();
    if (failuresLeft_ > 0) {
      failuresLeft_--;
      return ReconcileResult::retry("transient");
    }
    return ReconcileResult::done();
  }
  bool waitFor(size_t n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return calls_.size() >= n; });
  }
  std::vector<std::string> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  void failTimes(int n) {
    std::lock_guard lock(mutex_);
    failuresLeft_ = n;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> calls_;
  int failuresLeft_ = 0;
};

std::string list(const std::string& items) {
  return R"({"metadata":{"resourceVersion":"1"},"items":[)" + items + "]}";
}

class ControllerTest : public ::testing::Test {
 protected:
  ControllerTest() {
    RestClientOptions options;
    options.qps = 0;
    options.sleep = [](std::chrono::milliseconds) {};
    client_ = std::make_unique<RestClient>(transport_, options);
  }
  void holdWatchOpen(int n) {
    for (int i = 0; i < n; i++) {
      transport_->enqueueStream([](const HttpRequest&) -> Result<ResponseStreamPtr> {
        return ResponseStreamPtr(
            std::make_unique<FakeResponseStream>(std::deque<std::string>{}, true));
      });
    }
  }

  std::shared_ptr<FakeTransport> transport_ = std::make_shared<FakeTransport>();
  std::unique_ptr<RestClient> client_;
  SystemClock clock_;
};

TEST_F(ControllerTest, ReconcilesPrimaryAndOwnersOfOwnedObjects) {
  transport_->setFallback([](const HttpRequest& request) -> Result<HttpResponse> {
    HttpResponse r;
    r.status = 200;
    if (request.target.find("/meshservices") != std::string::npos) {
      r.body = list(R"({"metadata":{"name":"pay","namespace":"shop","resourceVersion":"1"}})");
    } else {
      r.body = list(
          R"({"metadata":{"name":"pay-svc","namespace":"shop","resourceVersion":"1","ownerReferences":[{"kind":"MeshService","name":"orders","controller":true},{"kind":"Other","name":"x","controller":false}]}})");
    }
    return r;
  });
  holdWatchOpen(2);
  Informer primary(*client_, resources::kMeshServices, "", {}, clock_);
  Informer owned(*client_, resources::kServices, "", {}, clock_);
  RecordingReconciler reconciler;
  Controller controller("meshservice", reconciler, {}, clock_);
  controller.watchPrimary(primary);
  controller.watchOwned(owned, "MeshService");
  primary.start();
  owned.start();
  ASSERT_TRUE(controller.start());
  ASSERT_TRUE(reconciler.waitFor(2));
  auto calls = reconciler.calls();
  std::sort(calls.begin(), calls.end());
  EXPECT_EQ(calls, (std::vector<std::string>{"shop/orders", "shop/pay"}));
  controller.stop();
  primary.stop();
  owned.stop();
  EXPECT_EQ(controller.metrics().reconcileTotal.load(), 2u);
}

TEST_F(ControllerTest, RetriesAFailedReconcileUntilItSucceeds) {
  transport_->setFallback([](const HttpRequest&) -> Result<HttpResponse> {
    HttpResponse r;
    r.status = 200;
    r.body = list(R"({"metadata":{"name":"a","namespace":"n","resourceVersion":"1"}})");
    return r;
  });
  holdWatchOpen(1);
  Informer informer(*client_, resources::kConfigMaps, "", {}, clock_);
  RecordingReconciler reconciler;
  reconciler.failTimes(3);
  Controller controller("cm", reconciler, {}, clock_);
  controller.watchPrimary(informer);
  informer.start();
  ASSERT_TRUE(controller.start());
  ASSERT_TRUE(reconciler.waitFor(4));
  controller.stop();
  informer.stop();
  EXPECT_EQ(controller.metrics().reconcileErrors.load(), 3u);
  EXPECT_EQ(controller.queue().len(), 0u);
}

TEST_F(ControllerTest, DoesNotStartBeforeCachesSync) {
  transport_->setFallback([](const HttpRequest&) -> Result<HttpResponse> {
    return ApiError::network("connection refused");
  });
  Informer informer(*client_, resources::kConfigMaps, "", {}, clock_);
  RecordingReconciler reconciler;
  ControllerOptions options;
  options.cacheSyncTimeout = std::chrono::milliseconds(50);
  Controller controller("cm", reconciler, std::move(options), clock_);
  controller.watchPrimary(informer);
  informer.start();
  controller.enqueue({"n", "queued-early"});
  EXPECT_FALSE(controller.start());
  informer.stop();
  EXPECT_TRUE(reconciler.calls().empty());
}

TEST(RequestTest, SplitsKeys) {
  EXPECT_EQ(Request::fromKey("ns/name"), (Request{"ns", "name"}));
  EXPECT_EQ(Request::fromKey("cluster-scoped"), (Request{"", "cluster-scoped"}));
  EXPECT_EQ((Request{"ns", "n"}).key(), "ns/n");
}

}  // namespace
}  // namespace kube
