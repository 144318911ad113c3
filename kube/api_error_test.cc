// ApiError: Status decoding, the failure kinds of this side of the wire and the predicates
// callers decide with.
#include "kube/api_error.h"

#include <gtest/gtest.h>

namespace kube {
namespace {

TEST(ApiErrorTest, KeepsAnExcerptOfANonStatusBody) {
  auto err = ApiError::fromResponse(502, "<html>bad gateway</html>");
  EXPECT_EQ(err.reason, "Unknown");
  EXPECT_EQ(err.message, "<html>bad gateway</html>");
  EXPECT_TRUE(err.retryable());
}

TEST(ApiErrorTest, NamespaceGoneIsANotFoundNamingTheNamespace) {
  auto gone = ApiError::fromResponse(404, R"({"kind":"Status","reason":"NotFound","code":404,
               "message":"namespaces \"a\" not found","details":{"name":"a","kind":"namespaces"}})");
  EXPECT_TRUE(gone.isNamespaceGone());
  auto objectGone = ApiError::fromResponse(404, R"({"kind":"Status","reason":"NotFound","code":404,
               "details":{"name":"x","group":"meshgate.io","kind":"meshservices"}})");
  EXPECT_TRUE(objectGone.isNotFound());
  EXPECT_FALSE(objectGone.isNamespaceGone());
}

TEST(ApiErrorTest, NamespaceGoneIsAForbiddenCausedByTermination) {
  auto terminating = ApiError::fromResponse(
      403,
      R"({"kind":"Status","reason":"Forbidden","code":403,"details":{"name":"x","kind":"services",
               "causes":[{"reason":"NamespaceTerminating","field":"metadata.namespace"}]}})");
  EXPECT_TRUE(terminating.isNamespaceGone());
  auto rbac = ApiError::fromResponse(
      403,
      R"({"kind":"Status","reason":"Forbidden","code":403,"details":{"name":"x","kind":"services"}})");
  EXPECT_FALSE(rbac.isNamespaceGone());
}

TEST(ApiErrorTest, AStatusIsAnApiStatusErrorNotATransportOne) {
  auto conflict = ApiError::fromResponse(
      409, R"({"kind":"Status","reason":"Conflict","code":409,"message":"modified"})");
  EXPECT_EQ(conflict.kind, FailureKind::ApiStatus);
  EXPECT_FALSE(conflict.isTransport());
  EXPECT_FALSE(conflict.isCancelled());
  EXPECT_FALSE(conflict.isTimeout());
  EXPECT_FALSE(conflict.isNetwork());
  EXPECT_FALSE(conflict.retryable());
  EXPECT_EQ(conflict.toString(), "ApiError{code=409, reason=Conflict}: modified");
}

TEST(ApiErrorTest, AnApiserverTimeoutStatusIsNotAClientTimeout) {
  auto serverTimeout = ApiError::fromResponse(
      504, R"({"kind":"Status","reason":"Timeout","code":504,"message":"took too long"})");
  EXPECT_EQ(serverTimeout.kind, FailureKind::ApiStatus);
  EXPECT_EQ(serverTimeout.reason, "Timeout");
  EXPECT_FALSE(serverTimeout.isTimeout());
  EXPECT_TRUE(serverTimeout.retryable());
}

TEST(ApiErrorTest, EachLocalFailureAnswersOnlyItsOwnPredicate) {
  const auto cancelled = ApiError::cancelled();
  EXPECT_TRUE(cancelled.isCancelled());
  EXPECT_FALSE(cancelled.isTimeout());
  EXPECT_FALSE(cancelled.isNetwork());

  const auto timeout = ApiError::timeout("GET /x: timed out after 5ms");
  EXPECT_TRUE(timeout.isTimeout());
  EXPECT_FALSE(timeout.isCancelled());
  EXPECT_FALSE(timeout.isNetwork());

  const auto network = ApiError::network("connecting to h:443: Connection refused");
  EXPECT_TRUE(network.isNetwork());
  EXPECT_FALSE(network.isTimeout());
  EXPECT_FALSE(network.isCancelled());

  for (const auto& err : {cancelled, timeout, network, ApiError::invalidConfig("no CA"),
                          ApiError::invalidResponse("not JSON")}) {
    EXPECT_TRUE(err.isTransport()) << err.toString();
    EXPECT_EQ(err.code, 0) << err.toString();
    // The apiserver's reasons stay its own: no local failure looks like NotFound or Timeout.
    EXPECT_TRUE(err.reason.empty()) << err.toString();
    EXPECT_FALSE(err.isNotFound()) << err.toString();
  }
}

TEST(ApiErrorTest, OnlyNetworkFailuresAndTimeoutsAreRetryable) {
  EXPECT_TRUE(ApiError::network("reset").retryable());
  EXPECT_TRUE(ApiError::timeout("slow").retryable());
  EXPECT_FALSE(ApiError::cancelled().retryable());
  EXPECT_FALSE(ApiError::invalidConfig("no CA").retryable());
  EXPECT_FALSE(ApiError::invalidResponse("not JSON").retryable());
}

TEST(ApiErrorTest, LocalFailuresPrintTheirKind) {
  EXPECT_EQ(ApiError::timeout("GET /x: timed out after 5ms").toString(),
            "ApiError{Timeout}: GET /x: timed out after 5ms");
  EXPECT_EQ(ApiError::cancelled().toString(), "ApiError{Cancelled}: request cancelled");
  EXPECT_STREQ(toString(FailureKind::InvalidResponse), "InvalidResponse");
}

}  // namespace
}  // namespace kube
