// Retry policy: which outcomes each retryOn value retries, the attempt limit, unknown values, and
// the bounds and growth of the jittered backoff.
#include "dataplane/upstream/retry_policy.h"

#include <gtest/gtest.h>

namespace meshgate::dp {
namespace {

using std::chrono::milliseconds;

RetryPolicy policy(std::vector<std::string> retryOn, uint32_t retries = 1) {
  RetryConfig config;
  config.retries = retries;
  config.retryOn = std::move(retryOn);
  return RetryPolicy::create(config).value();
}

struct Attempt {
  AttemptOutcome outcome;
  unsigned status;
};

constexpr Attempt kConnectFailure{AttemptOutcome::ConnectFailure, 0};
constexpr Attempt kReset{AttemptOutcome::Reset, 0};
constexpr Attempt kTimeout{AttemptOutcome::Timeout, 0};
constexpr Attempt k200{AttemptOutcome::Response, 200};
constexpr Attempt k404{AttemptOutcome::Response, 404};
constexpr Attempt k409{AttemptOutcome::Response, 409};
constexpr Attempt k500{AttemptOutcome::Response, 500};
constexpr Attempt k502{AttemptOutcome::Response, 502};
constexpr Attempt k503{AttemptOutcome::Response, 503};
constexpr Attempt k504{AttemptOutcome::Response, 504};
constexpr Attempt k505{AttemptOutcome::Response, 505};
constexpr Attempt kAll[] = {
    kConnectFailure, kReset, kTimeout, k200, k404, k409, k500, k502, k503, k504, k505};

// The outcomes of kAll, in order, that `retryOn` retries, as a string of 0/1.
std::string retried(std::vector<std::string> retryOn) {
  const auto p = policy(std::move(retryOn));
  std::string result;
  for (const auto& attempt : kAll)
    result += p.shouldRetry(attempt.outcome, attempt.status, 1) ? '1' : '0';
  return result;
}

TEST(RetryPolicyTest, WhatEachRetryOnValueRetries) {
  // One character per outcome of kAll:
  //   connect-failure, reset, timeout, 200, 404, 409, 500, 502, 503, 504, 505
  EXPECT_EQ(retried({"connect-failure"}), "10000000000");
  EXPECT_EQ(retried({"reset"}), "01100000000");
  EXPECT_EQ(retried({"5xx"}), "11100011111");
  EXPECT_EQ(retried({"gateway-error"}), "11100001110");
  EXPECT_EQ(retried({"retriable-4xx"}), "00000100000");
  EXPECT_EQ(retried({"connect-failure", "retriable-4xx"}), "10000100000");
  // No retryOn: connect-failure and reset.
  EXPECT_EQ(retried({}), "11100000000");
}

TEST(RetryPolicyTest, GrpcStatusesAreRetriedOnlyWhenListed) {
  // grpc-status 1, 4, 8, 14, 0 and 13 on an HTTP 200 Trailers-Only response.
  const auto retriedGrpc = [](std::vector<std::string> retryOn) {
    const auto p = policy(std::move(retryOn));
    std::string result;
    for (const unsigned status : {1u, 4u, 8u, 14u, 0u, 13u})
      result += p.shouldRetry(AttemptOutcome::Response, 200, 1, status) ? '1' : '0';
    return result;
  };
  EXPECT_EQ(retriedGrpc({"cancelled"}), "100000");
  EXPECT_EQ(retriedGrpc({"deadline-exceeded"}), "010000");
  EXPECT_EQ(retriedGrpc({"resource-exhausted"}), "001000");
  EXPECT_EQ(retriedGrpc({"unavailable"}), "000100");
  EXPECT_EQ(retriedGrpc({"unavailable", "cancelled", "5xx"}), "100100");
  EXPECT_EQ(retriedGrpc({}), "000000");
  // Without a grpc-status the gRPC values retry nothing.
  EXPECT_EQ(retried({"unavailable", "deadline-exceeded"}), "00000000000");
}

TEST(RetryPolicyTest, StopsWhenTheRetriesAreUsedUp) {
  const auto p = policy({"5xx"}, 2);
  EXPECT_EQ(p.maxAttempts(), 3u);
  EXPECT_TRUE(p.shouldRetry(AttemptOutcome::Response, 503, 1));
  EXPECT_TRUE(p.shouldRetry(AttemptOutcome::Response, 503, 2));
  EXPECT_FALSE(p.shouldRetry(AttemptOutcome::Response, 503, 3));
}

TEST(RetryPolicyTest, TheDefaultIsOneRetry) {
  const auto p = RetryPolicy::create({}).value();
  EXPECT_EQ(p.maxAttempts(), 2u);
  EXPECT_TRUE(p.shouldRetry(AttemptOutcome::ConnectFailure, 0, 1));
  EXPECT_FALSE(p.shouldRetry(AttemptOutcome::ConnectFailure, 0, 2));
}

TEST(RetryPolicyTest, UnknownRetryOnValueIsAnError) {
  RetryConfig config;
  config.retryOn = {"5xx", "refused-stream"};
  const auto result = RetryPolicy::create(config);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), "unknown retryOn value \"refused-stream\"");
}

TEST(RetryPolicyTest, BackoffStaysUnderItsBoundAndGrows) {
  const auto p = RetryPolicy::create({}).value();  // base 25 ms, max 250 ms
  std::mt19937_64 rng(11);
  constexpr int kDraws = 20000;
  // Exclusive upper bounds per retry number: (2^n − 1) × 25 ms, then the 250 ms cap.
  const std::vector<int> bounds = {25, 75, 175, 250, 250, 250};
  std::vector<double> means;
  for (unsigned n = 1; n <= bounds.size(); n++) {
    const int bound = bounds[n - 1];
    int64_t sum = 0, lowest = bound, highest = 0;
    for (int i = 0; i < kDraws; i++) {
      const int64_t wait = p.backoff(n, rng).count();
      ASSERT_GE(wait, 0);
      ASSERT_LT(wait, bound) << "retry " << n;
      sum += wait;
      lowest = std::min(lowest, wait);
      highest = std::max(highest, wait);
    }
    // Full jitter: the whole range is used, and the mean is about half the bound.
    EXPECT_EQ(lowest, 0);
    EXPECT_EQ(highest, bound - 1);
    const double mean = static_cast<double>(sum) / kDraws;
    EXPECT_NEAR(mean, (bound - 1) / 2.0, bound * 0.03) << "retry " << n;
    means.push_back(mean);
  }
  EXPECT_LT(means[0], means[1]);
  EXPECT_LT(means[1], means[2]);
  EXPECT_LT(means[2], means[3]);
}

TEST(RetryPolicyTest, BackoffEdgeCases) {
  RetryConfig config;
  config.backoffBase = milliseconds(100);
  config.backoffMax = milliseconds(40);  // shorter than base: the base is the cap
  const auto p = RetryPolicy::create(config).value();
  std::mt19937_64 rng(3);
  for (int i = 0; i < 1000; i++) {
    EXPECT_LT(p.backoff(0, rng), milliseconds(100));     // retry 0 counts as 1
    EXPECT_LT(p.backoff(1000, rng), milliseconds(100));  // no overflow at huge retry numbers
  }
  config.backoffBase = milliseconds(0);
  EXPECT_EQ(RetryPolicy::create(config).value().backoff(5, rng), milliseconds(0));
}

}  // namespace
}  // namespace meshgate::dp
