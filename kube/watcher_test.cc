// Watcher over scripted streams: ERROR events come back as the apiserver's Status, a malformed
// event as an undecodable response, stop() as a cancellation (which the Reflector does not count
// as a broken watch).
#include "kube/watcher.h"

#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "kube/fake_transport.h"

namespace kube {
namespace {

ResponseStreamPtr streamOf(std::deque<std::string> chunks, bool holdOpen = false) {
  return std::make_unique<FakeResponseStream>(std::move(chunks), holdOpen);
}

TEST(WatcherTest, AnErrorEventIsTheApiserversStatus) {
  Watcher watcher(
      streamOf({R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})"
                "\n"}),
      std::chrono::seconds(5));
  auto next = watcher.next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().kind, FailureKind::ApiStatus);
  EXPECT_TRUE(next.error().isGone());
}

TEST(WatcherTest, AMalformedEventIsAnInvalidResponse) {
  Watcher watcher(streamOf({"{not json}\n"}), std::chrono::seconds(5));
  auto next = watcher.next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().kind, FailureKind::InvalidResponse);
}

TEST(WatcherTest, StopEndsABlockedNextAsCancelled) {
  Watcher watcher(streamOf({}, /*holdOpen=*/true), std::chrono::minutes(5));
  std::optional<ApiError> failure;
  std::thread reader([&] {
    auto next = watcher.next();
    if (!next.ok()) failure = next.error();
  });
  watcher.stop();
  reader.join();
  ASSERT_TRUE(failure.has_value());
  EXPECT_TRUE(failure->isCancelled());
}

}  // namespace
}  // namespace kube
