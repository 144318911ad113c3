// Reflector + Informer over a scripted transport: list then watch, resume after a broken watch,
// relist after 410 Expired, handler calls, resync and stop.
#include "kube/informer.h"

#include <gtest/gtest.h>

#include "kube/clock.h"
#include "kube/fake_transport.h"

namespace kube {
namespace {

std::string configMap(const std::string& name, const std::string& rv) {
  return R"({"metadata":{"name":")" + name + R"(","namespace":"ns","resourceVersion":")" + rv +
         R"("}})";
}
std::string event(const std::string& type, const std::string& name, const std::string& rv) {
  return R"({"type":")" + type + R"(","object":)" + configMap(name, rv) + "}\n";
}
std::string listOf(const std::string& rv, const std::vector<std::string>& items) {
  std::string out =
      R"({"kind":"ConfigMapList","metadata":{"resourceVersion":")" + rv + R"("},"items":[)";
  for (size_t i = 0; i < items.size(); i++)
    out += (i ? "," : "") + items[i];
  return out + "]}";
}

FakeTransport::StreamHandler streamOf(std::deque<std::string> chunks, bool holdOpen) {
  return [chunks, holdOpen](const HttpRequest&) -> Result<ResponseStreamPtr> {
    return ResponseStreamPtr(std::make_unique<FakeResponseStream>(chunks, holdOpen));
  };
}

// Records handler calls; waits for a count with a deadline (no sleeps).
struct Recorder {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> calls;

  EventHandlers handlers() {
    return {[this](const ObjectSharedPtr& o) { record("add " + name(o)); },
            [this](const ObjectSharedPtr& a, const ObjectSharedPtr& b) {
              record("update " + name(a) + "@" + rv(a) + "->" + rv(b));
            },
            [this](const ObjectSharedPtr& o) { record("delete " + name(o)); }};
  }
  static std::string name(const ObjectSharedPtr& o) { return (*o)["metadata"]["name"]; }
  static std::string rv(const ObjectSharedPtr& o) { return (*o)["metadata"]["resourceVersion"]; }
  void record(std::string call) {
    std::lock_guard lock(mutex);
    calls.push_back(std::move(call));
    cv.notify_all();
  }
  bool waitFor(size_t n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(5), [&] { return calls.size() >= n; });
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex);
    return calls;
  }
};

class InformerTest : public ::testing::Test {
 protected:
  InformerTest() {
    RestClientOptions options;
    options.qps = 0;
    options.sleep = [](std::chrono::milliseconds) {};
    client_ = std::make_unique<RestClient>(transport_, options);
  }
  InformerOptions fastOptions() {
    InformerOptions options;
    options.reflector.initialBackoff = std::chrono::milliseconds(1);
    options.reflector.maxBackoff = std::chrono::milliseconds(2);
    return options;
  }

  std::shared_ptr<FakeTransport> transport_ = std::make_shared<FakeTransport>();
  std::unique_ptr<RestClient> client_;
  SystemClock clock_;
};

TEST_F(InformerTest, ListsThenAppliesWatchEvents) {
  transport_->enqueueResponse(200, listOf("10", {configMap("a", "5"), configMap("b", "6")}));
  transport_->enqueueStream(streamOf(
      {event("MODIFIED", "a", "11"), event("DELETED", "b", "12"), event("ADDED", "c", "13")},
      /*holdOpen=*/true));
  Informer informer(*client_, resources::kConfigMaps, "ns", fastOptions(), clock_);
  Recorder recorder;
  informer.addEventHandlers(recorder.handlers());
  informer.start();
  ASSERT_TRUE(informer.waitForSync(std::chrono::seconds(5)));
  ASSERT_TRUE(recorder.waitFor(5));
  EXPECT_EQ(recorder.snapshot(),
            (std::vector<std::string>{"add a", "add b", "update a@5->11", "delete b", "add c"}));
  EXPECT_EQ(informer.store().size(), 2u);
  EXPECT_EQ(informer.store().byIndex(std::string(kNamespaceIndex), "ns").size(), 2u);
  informer.stop();  // must return promptly although the watch is held open
  const auto sent = transport_->sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_NE(sent[1].target.find("watch=1"), std::string::npos);
  EXPECT_NE(sent[1].target.find("resourceVersion=10"), std::string::npos);
  EXPECT_NE(sent[1].target.find("allowWatchBookmarks=true"), std::string::npos);
}

TEST_F(InformerTest, ResumesFromTheLastResourceVersionAfterABrokenWatch) {
  transport_->enqueueResponse(200, listOf("10", {}));
  transport_->enqueueStream(streamOf({event("ADDED", "a", "11"), "{broken json\n"}, false));
  transport_->enqueueStream(
      streamOf({R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"20"}}})"
                "\n"},
               false));
  transport_->enqueueStream(streamOf({event("ADDED", "b", "21")}, true));
  Informer informer(*client_, resources::kConfigMaps, "ns", fastOptions(), clock_);
  Recorder recorder;
  informer.addEventHandlers(recorder.handlers());
  informer.start();
  ASSERT_TRUE(recorder.waitFor(2));
  informer.stop();
  const auto sent = transport_->sent();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_NE(sent[2].target.find("resourceVersion=11"), std::string::npos) << sent[2].target;
  EXPECT_NE(sent[3].target.find("resourceVersion=20"), std::string::npos) << sent[3].target;
  EXPECT_EQ(informer.listCount(), 1);
}

TEST_F(InformerTest, RelistsAfterGoneAndDeletesWhatVanished) {
  transport_->enqueueResponse(200, listOf("10", {configMap("a", "5"), configMap("b", "6")}));
  transport_->enqueueStream(streamOf(
      {R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}})"
       "\n"},
      false));
  transport_->enqueueResponse(200, listOf("30", {configMap("a", "25")}));
  transport_->enqueueStream(streamOf({}, true));
  Informer informer(*client_, resources::kConfigMaps, "ns", fastOptions(), clock_);
  Recorder recorder;
  informer.addEventHandlers(recorder.handlers());
  informer.start();
  ASSERT_TRUE(recorder.waitFor(4));
  informer.stop();
  EXPECT_EQ(recorder.snapshot(),
            (std::vector<std::string>{"add a", "add b", "update a@5->25", "delete b"}));
  EXPECT_EQ(informer.listCount(), 2);
  EXPECT_EQ(informer.lastResourceVersion(), "30");
}

TEST_F(InformerTest, RelistsWhenTheWatchRequestItselfIsGone) {
  transport_->enqueueResponse(200, listOf("10", {}));
  transport_->enqueueStream([](const HttpRequest&) -> Result<ResponseStreamPtr> {
    return ApiError::fromResponse(410, R"({"kind":"Status","code":410,"reason":"Expired"})");
  });
  transport_->enqueueResponse(200, listOf("40", {configMap("z", "40")}));
  transport_->enqueueStream(streamOf({}, true));
  Informer informer(*client_, resources::kConfigMaps, "ns", fastOptions(), clock_);
  Recorder recorder;
  informer.addEventHandlers(recorder.handlers());
  informer.start();
  ASSERT_TRUE(recorder.waitFor(1));
  informer.stop();
  EXPECT_EQ(informer.listCount(), 2);
}

TEST_F(InformerTest, ResyncRedeliversEveryObjectAsAnUpdate) {
  transport_->enqueueResponse(200, listOf("10", {configMap("a", "5")}));
  transport_->enqueueStream(streamOf({}, true));
  auto options = fastOptions();
  options.resyncPeriod = std::chrono::milliseconds(20);
  Informer informer(*client_, resources::kConfigMaps, "ns", options, clock_);
  Recorder recorder;
  informer.addEventHandlers(recorder.handlers());
  informer.start();
  ASSERT_TRUE(recorder.waitFor(3));
  informer.stop();
  const auto calls = recorder.snapshot();
  EXPECT_EQ(calls[0], "add a");
  EXPECT_EQ(calls[1], "update a@5->5");
}

TEST_F(InformerTest, WaitForSyncFailsWhileListingFails) {
  transport_->setFallback([](const HttpRequest&) -> Result<HttpResponse> {
    HttpResponse r;
    r.status = 403;
    r.body = R"({"kind":"Status","code":403,"reason":"Forbidden"})";
    return r;
  });
  Informer informer(*client_, resources::kConfigMaps, "ns", fastOptions(), clock_);
  informer.start();
  EXPECT_FALSE(informer.waitForSync(std::chrono::milliseconds(50)));
  informer.stop();
  EXPECT_GE(informer.listCount(), 1);
}

}  // namespace
}  // namespace kube
