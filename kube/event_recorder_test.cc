// EventRecorder over a FakeTransport that answers Event creates and patches, with FakeClock time:
// Event bodies, aggregation into series, per-object budget, queue bound, flush on stop.
#include "kube/event_recorder.h"

#include <gtest/gtest.h>

#include <future>
#include <regex>

#include "kube/fake_clock.h"
#include "kube/fake_transport.h"

namespace kube {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using Json = nlohmann::json;

// 2026-01-02T03:04:05.123456Z.
Clock::WallTimePoint wallStart() {
  return Clock::WallTimePoint(std::chrono::seconds(1767323045) + std::chrono::microseconds(123456));
}

Json pod(const std::string& name, const std::string& uid) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name}, {"namespace", "shop"}, {"uid", uid}, {"resourceVersion", "42"}}},
          {"spec", {{"nodeName", "n1"}}}};
}

class EventRecorderTest : public ::testing::Test {
 protected:
  EventRecorderTest() {
    transport_->setFallback([this](const HttpRequest& request) { return serve(request); });
    RestClientOptions options;
    options.qps = 0;
    options.sleep = [](std::chrono::milliseconds) {};
    client_ = std::make_unique<RestClient>(transport_, options);
  }

  ~EventRecorderTest() override {
    hold(false);
    recorder_.reset();
  }

  EventRecorderOptions options() {
    EventRecorderOptions options;
    options.reportingInstance = "operator-0";
    return options;
  }
  void makeRecorder(EventRecorderOptions options) {
    recorder_ = std::make_unique<EventRecorder>(*client_, clock_, options);
  }
  void makeRecorder() { makeRecorder(options()); }

  void synced(const Json& object, EventType type = EventType::Normal,
              const std::string& note = "routes programmed") {
    recorder_->record(object, type, "Synced", "Reconcile", note);
  }

  // While held, requests wait inside the transport (a slow apiserver).
  void hold(bool on) {
    std::lock_guard lock(mutex_);
    hold_ = on;
    changed_.notify_all();
  }
  // Waits (real time, bounded) until n requests with this method were answered, or for
  // "held" until n requests are waiting inside the transport.
  bool await(const std::string& what, size_t n = 1) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, seconds(5), [&] { return counts_[what] >= n; });
  }
  void failPatches(int status) {
    std::lock_guard lock(mutex_);
    patchStatus_ = status;
  }
  // Runs inside the transport after a held request is let go.
  std::function<void()> onRelease_;

  std::vector<HttpRequest> sent(const std::string& method) {
    std::vector<HttpRequest> out;
    for (auto& request : transport_->sent()) {
      if (request.method == method) out.push_back(request);
    }
    return out;
  }
  std::vector<Json> bodies(const std::string& method) {
    std::vector<Json> out;
    for (const auto& request : sent(method))
      out.push_back(Json::parse(request.body));
    return out;
  }

  FakeClock clock_{wallStart()};
  std::shared_ptr<FakeTransport> transport_ = std::make_shared<FakeTransport>();
  std::unique_ptr<RestClient> client_;

 private:
  Result<HttpResponse> serve(const HttpRequest& request) {
    std::unique_lock lock(mutex_);
    if (hold_) {
      counts_["held"]++;
      changed_.notify_all();
      changed_.wait(lock, [this] { return !hold_; });
      if (onRelease_) {
        auto hook = std::move(onRelease_);
        lock.unlock();
        hook();
        lock.lock();
      }
    }
    HttpResponse response;
    if (request.method == "POST") {
      response.status = 201;
      response.body = request.body;
    } else if (request.method == "PATCH" && patchStatus_ != 0) {
      response.status = patchStatus_;
      response.body =
          Json{{"kind", "Status"}, {"code", patchStatus_}, {"reason", "NotFound"}}.dump();
    } else {
      response.status = 200;
      response.body = "{}";
    }
    counts_[request.method]++;
    changed_.notify_all();
    return response;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, size_t> counts_;
  bool hold_ = false;
  int patchStatus_ = 0;

 protected:
  // Last, so it is destroyed (its sender joined) before the transport state it calls into.
  std::unique_ptr<EventRecorder> recorder_;
};

TEST_F(EventRecorderTest, CreatesOneEventPerDistinctRecord) {
  makeRecorder();
  synced(pod("web-0", "u-1"));
  recorder_->record(pod("web-0", "u-1"), EventType::Normal, "Pruned", "Reconcile", "stale route");
  recorder_->stop();

  const auto posts = sent("POST");
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0].target, "/apis/events.k8s.io/v1/namespaces/shop/events");
  Json event = Json::parse(posts[0].body);
  const std::string name = event["metadata"]["name"];
  EXPECT_TRUE(std::regex_match(name, std::regex(R"(web-0\.[0-9a-f]{16})"))) << name;
  EXPECT_NE(name, Json::parse(posts[1].body)["metadata"]["name"]);
  event["metadata"].erase("name");
  EXPECT_EQ(event, (Json{{"apiVersion", "events.k8s.io/v1"},
                         {"kind", "Event"},
                         {"metadata", {{"namespace", "shop"}}},
                         {"eventTime", "2026-01-02T03:04:05.123456Z"},
                         {"reportingController", "meshgate.io/operator"},
                         {"reportingInstance", "operator-0"},
                         {"regarding",
                          {{"apiVersion", "v1"},
                           {"kind", "Pod"},
                           {"name", "web-0"},
                           {"namespace", "shop"},
                           {"uid", "u-1"},
                           {"resourceVersion", "42"}}},
                         {"type", "Normal"},
                         {"reason", "Synced"},
                         {"action", "Reconcile"},
                         {"note", "routes programmed"}}));
  EXPECT_EQ(Json::parse(posts[1].body)["reason"], "Pruned");
  EXPECT_EQ(recorder_->stats().created, 2u);
}

TEST_F(EventRecorderTest, FoldsARecordingHotLoopIntoOneEventAndOneSeriesUpdate) {
  makeRecorder();
  for (int i = 0; i < 100; i++)
    synced(pod("web-0", "u-1"));
  recorder_->stop();  // flushes the series count that was not yet due

  const auto posts = bodies("POST");
  const auto patches = sent("PATCH");
  ASSERT_EQ(posts.size(), 1u);
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].target, "/apis/events.k8s.io/v1/namespaces/shop/events/" +
                                   posts[0]["metadata"]["name"].get<std::string>());
  EXPECT_EQ(patches[0].contentType, "application/merge-patch+json");
  EXPECT_EQ(
      Json::parse(patches[0].body),
      (Json{{"series", {{"count", 100}, {"lastObservedTime", "2026-01-02T03:04:05.123456Z"}}}}));
  const auto stats = recorder_->stats();
  EXPECT_EQ(stats.recorded, 100u);
  EXPECT_EQ(stats.created, 1u);
  EXPECT_EQ(stats.aggregated, 99u);
  EXPECT_EQ(stats.seriesUpdates, 1u);
}

TEST_F(EventRecorderTest, WritesASeriesAtMostOncePerInterval) {
  makeRecorder();
  for (int i = 0; i < 100; i++)
    synced(pod("web-0", "u-1"));
  ASSERT_TRUE(await("POST"));
  clock_.advance(seconds(30));
  ASSERT_TRUE(await("PATCH"));
  EXPECT_EQ(Json::parse(sent("PATCH").at(0).body)["series"]["count"], 100);

  for (int i = 0; i < 50; i++)
    synced(pod("web-0", "u-1"));
  ASSERT_TRUE(clock_.awaitWaiters(1));  // the sender is parked until the next write is due
  clock_.advance(seconds(29));
  EXPECT_EQ(sent("PATCH").size(), 1u);
  clock_.advance(seconds(1));
  ASSERT_TRUE(await("PATCH", 2));
  EXPECT_EQ(
      Json::parse(sent("PATCH").at(1).body),
      (Json{{"series", {{"count", 150}, {"lastObservedTime", "2026-01-02T03:04:35.123456Z"}}}}));
  EXPECT_EQ(sent("POST").size(), 1u);
}

TEST_F(EventRecorderTest, RepeatsAfterTheAggregationWindowStartANewEvent) {
  makeRecorder();
  synced(pod("web-0", "u-1"));
  ASSERT_TRUE(await("POST"));
  clock_.advance(minutes(9));
  synced(pod("web-0", "u-1"));  // within 10 min of the last one: joins the series
  ASSERT_TRUE(await("PATCH"));
  clock_.advance(minutes(10));
  synced(pod("web-0", "u-1"));  // 10 min after the last one: a new Event
  ASSERT_TRUE(await("POST", 2));
  recorder_->stop();

  const auto posts = bodies("POST");
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_NE(posts[0]["metadata"]["name"], posts[1]["metadata"]["name"]);
  EXPECT_EQ(posts[1]["eventTime"], "2026-01-02T03:23:05.123456Z");
  EXPECT_FALSE(posts[1].contains("series"));
  EXPECT_EQ(sent("PATCH").size(), 1u);
}

TEST_F(EventRecorderTest, PerObjectBudgetDropsExcessDistinctEventsAndCountsThem) {
  auto options = this->options();
  options.perObjectBurst = 3;  // refilled one per 5 minutes (the default rate)
  makeRecorder(options);
  for (int i = 0; i < 5; i++)
    synced(pod("web-0", "u-1"), EventType::Normal, "note " + std::to_string(i));
  for (int i = 0; i < 2; i++)
    synced(pod("web-1", "u-2"), EventType::Normal, "note " + std::to_string(i));
  EXPECT_EQ(recorder_->stats().droppedRateLimited, 2u);

  clock_.advance(minutes(5));
  synced(pod("web-0", "u-1"), EventType::Normal, "note 5");
  synced(pod("web-0", "u-1"), EventType::Normal, "note 6");
  recorder_->stop();

  int forWeb0 = 0;
  for (const auto& post : bodies("POST"))
    forWeb0 += post["regarding"]["name"] == "web-0";
  EXPECT_EQ(forWeb0, 4);
  EXPECT_EQ(sent("POST").size(), 6u);
  EXPECT_EQ(recorder_->stats().droppedRateLimited, 3u);
}

TEST_F(EventRecorderTest, WarningAndNormalAreDistinctEvents) {
  makeRecorder();
  synced(pod("web-0", "u-1"), EventType::Normal);
  synced(pod("web-0", "u-1"), EventType::Warning);
  synced(pod("web-0", "u-1"), EventType::Normal);
  recorder_->stop();

  const auto posts = bodies("POST");
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0]["type"], "Normal");
  EXPECT_EQ(posts[1]["type"], "Warning");
  ASSERT_EQ(sent("PATCH").size(), 1u);
  EXPECT_EQ(sent("PATCH")[0].target, "/apis/events.k8s.io/v1/namespaces/shop/events/" +
                                         posts[0]["metadata"]["name"].get<std::string>());
}

TEST_F(EventRecorderTest, TruncatesTheNoteTo1KiBOnACharacterBoundary) {
  makeRecorder();
  synced(pod("web-0", "u-1"), EventType::Warning, std::string(3000, 'x'));
  std::string accented;
  for (int i = 0; i < 600; i++)
    accented += "\xC3\xA9";  // é: 1200 bytes
  synced(pod("web-0", "u-1"), EventType::Warning, accented);
  synced(pod("web-0", "u-1"), EventType::Warning, "bad \xFF byte");
  recorder_->stop();

  const auto posts = bodies("POST");
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(posts[0]["note"], std::string(1024, 'x'));
  EXPECT_EQ(posts[1]["note"], accented.substr(0, 1024));
  EXPECT_EQ(posts[2]["note"], "bad \xEF\xBF\xBD byte");
}

TEST_F(EventRecorderTest, RecordDoesNotBlockWhileTheApiserverIsSlow) {
  makeRecorder();
  hold(true);
  auto recording = std::async(std::launch::async, [this] {
    for (int i = 0; i < 20; i++)
      synced(pod("web-0", "u-1"), EventType::Normal, std::to_string(i));
  });
  ASSERT_EQ(recording.wait_for(seconds(5)), std::future_status::ready);
  ASSERT_TRUE(await("held"));
  EXPECT_TRUE(sent("POST").size() <= 1u);  // at most the one stuck in the transport

  hold(false);
  recorder_->stop();
  EXPECT_EQ(sent("POST").size(), 20u);
  EXPECT_EQ(recorder_->stats().created, 20u);
}

TEST_F(EventRecorderTest, DropsAndCountsRecordsWhenTheQueueIsFull) {
  auto options = this->options();
  options.queueCapacity = 2;
  makeRecorder(options);
  hold(true);
  synced(pod("web-0", "u-0"));
  ASSERT_TRUE(await("held"));  // in flight, the queue is empty again
  for (int i = 1; i <= 4; i++)
    synced(pod("web-" + std::to_string(i), "u-" + std::to_string(i)));
  EXPECT_EQ(recorder_->stats().droppedQueueFull, 2u);

  hold(false);
  recorder_->stop();
  EXPECT_EQ(sent("POST").size(), 3u);
}

TEST_F(EventRecorderTest, StopDropsWhatIsStillQueuedAfterTheFlushTimeout) {
  makeRecorder();
  hold(true);
  synced(pod("web-0", "u-0"));
  ASSERT_TRUE(await("held"));
  for (int i = 1; i <= 3; i++)
    synced(pod("web-" + std::to_string(i), "u-" + std::to_string(i)));
  // The stop arrives while the first create is stuck, which outlasts the 5 s flush timeout.
  onRelease_ = [this] {
    recorder_->stop();
    clock_.advance(seconds(6));
  };
  hold(false);
  recorder_->stop();

  EXPECT_EQ(sent("POST").size(), 1u);
  const auto stats = recorder_->stats();
  EXPECT_EQ(stats.created, 1u);
  EXPECT_EQ(stats.droppedStopped, 3u);
}

TEST_F(EventRecorderTest, RecreatesTheEventWithItsSeriesWhenTheApiserverDeletedIt) {
  makeRecorder();
  synced(pod("web-0", "u-1"));
  synced(pod("web-0", "u-1"));
  failPatches(404);
  recorder_->stop();

  const auto posts = bodies("POST");
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(sent("PATCH").size(), 1u);
  EXPECT_NE(posts[1]["metadata"]["name"], posts[0]["metadata"]["name"]);
  EXPECT_EQ(posts[1]["series"],
            (Json{{"count", 2}, {"lastObservedTime", "2026-01-02T03:04:05.123456Z"}}));
  EXPECT_EQ(posts[1]["reason"], "Synced");
  EXPECT_EQ(recorder_->stats().seriesUpdates, 1u);
}

TEST_F(EventRecorderTest, EventsAboutClusterScopedObjectsGoToTheDefaultNamespace) {
  makeRecorder();
  const Json ingressClass = {{"apiVersion", "networking.k8s.io/v1"},
                             {"kind", "IngressClass"},
                             {"metadata", {{"name", "meshgate"}, {"uid", "u-9"}}}};
  recorder_->record(ingressClass, EventType::Normal, "Claimed", "Reconcile", "");
  recorder_->stop();

  const auto posts = sent("POST");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, "/apis/events.k8s.io/v1/namespaces/default/events");
  EXPECT_FALSE(Json::parse(posts[0].body)["regarding"].contains("namespace"));
}

TEST_F(EventRecorderTest, RecordsAfterStopOrWithoutANameAreDroppedAndCounted) {
  makeRecorder();
  recorder_->record(Json{{"kind", "Pod"}}, EventType::Normal, "Synced", "Reconcile", "");
  recorder_->stop();
  synced(pod("web-0", "u-1"));
  const auto stats = recorder_->stats();
  EXPECT_EQ(stats.recorded, 2u);
  EXPECT_EQ(stats.droppedInvalid, 1u);
  EXPECT_EQ(stats.droppedStopped, 1u);
  EXPECT_TRUE(transport_->sent().empty());
}

}  // namespace
}  // namespace kube
