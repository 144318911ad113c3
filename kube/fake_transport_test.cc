// FakeTransport and FakeResponseStream fail the way BeastTransport does — a silent watch with
// isTimeout(), a cancelled one with isCancelled(), a missing script with isNetwork() — so tests
// above the Transport seam exercise the same failure kinds as production.
#include "kube/fake_transport.h"

#include <optional>
#include <thread>

#include <gtest/gtest.h>

namespace kube {
namespace {

TEST(FakeResponseStreamTest, HandsOutItsChunksThenEnds) {
  FakeResponseStream stream({"a", "b"}, /*holdOpen=*/false);
  EXPECT_EQ(stream.read(std::chrono::seconds(1)).value(), "a");
  EXPECT_EQ(stream.read(std::chrono::seconds(1)).value(), "b");
  EXPECT_EQ(stream.read(std::chrono::seconds(1)).value(), "");
}

TEST(FakeResponseStreamTest, AQuietStreamTimesOutAfterItsIdleTimeout) {
  FakeResponseStream stream({}, /*holdOpen=*/true);
  auto read = stream.read(std::chrono::milliseconds(1));
  ASSERT_FALSE(read.ok());
  EXPECT_TRUE(read.error().isTimeout());
  EXPECT_FALSE(read.error().isCancelled());
}

TEST(FakeResponseStreamTest, CancelWakesABlockedReadAsCancelled) {
  FakeResponseStream stream({}, /*holdOpen=*/true);
  std::optional<ApiError> failure;
  std::thread reader([&] {
    auto read = stream.read(std::chrono::minutes(5));
    if (!read.ok()) failure = read.error();
  });
  stream.cancel();
  reader.join();
  ASSERT_TRUE(failure.has_value());
  EXPECT_TRUE(failure->isCancelled());
  EXPECT_FALSE(failure->isTimeout());
}

TEST(FakeTransportTest, AnUnscriptedRequestIsANetworkFailure) {
  FakeTransport transport;
  auto response = transport.roundTrip(HttpRequest{});
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(response.error().isNetwork());
  auto stream = transport.stream(HttpRequest{});
  ASSERT_FALSE(stream.ok());
  EXPECT_TRUE(stream.error().isNetwork());
}

}  // namespace
}  // namespace kube
