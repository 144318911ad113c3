// RestClient over a scripted transport: URLs, retries by failure kind, error decoding, pagination,
// accounting, and the QPS limit on an injected clock.
#include "kube/rest_client.h"

#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "kube/fake_clock.h"
#include "kube/fake_transport.h"

namespace kube {
namespace {

class RestClientTest : public ::testing::Test {
 protected:
  RestClientTest() {
    RestClientOptions options;
    options.qps = 0;  // no client-side limit in these tests
    options.sleep = [this](std::chrono::milliseconds d) { slept_.push_back(d); };
    client_ = std::make_unique<RestClient>(transport_, options);
  }

  std::shared_ptr<FakeTransport> transport_ = std::make_shared<FakeTransport>();
  std::vector<std::chrono::milliseconds> slept_;
  std::unique_ptr<RestClient> client_;
};

TEST_F(RestClientTest, BuildsCoreAndGroupPaths) {
  EXPECT_EQ(resources::kConfigMaps.path("a", "b"), "/api/v1/namespaces/a/configmaps/b");
  EXPECT_EQ(resources::kMeshServices.path("a", "b", "status"),
            "/apis/meshgate.io/v1alpha1/namespaces/a/meshservices/b/status");
  EXPECT_EQ(resources::kIngressClasses.path("ignored", "meshgate"),
            "/apis/networking.k8s.io/v1/ingressclasses/meshgate");
  EXPECT_EQ(resources::kConfigMaps.path(""), "/api/v1/configmaps");
}

TEST_F(RestClientTest, EscapesSelectorsInTheQuery) {
  transport_->enqueueResponse(200, R"({"kind":"ConfigMapList","metadata":{},"items":[]})");
  ListOptions options;
  options.labelSelector = "app in (a,b),tier!=web";
  options.limit = 5;
  ASSERT_TRUE(client_->list(resources::kConfigMaps, "ns", options).ok());
  EXPECT_EQ(transport_->sent().at(0).target,
            "/api/v1/namespaces/ns/"
            "configmaps?labelSelector=app%20in%20%28a%2Cb%29%2Ctier%21%3Dweb&limit=5");
}

TEST_F(RestClientTest, DecodesStatusIntoApiError) {
  transport_->enqueueResponse(
      409,
      R"({"kind":"Status","status":"Failure","reason":"Conflict","code":409,"message":"the object has been modified"})");
  auto result = client_->update(
      resources::kConfigMaps,
      {{"metadata", {{"name", "x"}, {"namespace", "ns"}, {"resourceVersion", "1"}}}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.error().isConflict());
  EXPECT_EQ(result.error().toString(),
            "ApiError{code=409, reason=Conflict}: the object has been modified");
  EXPECT_EQ(transport_->sent().at(0).method, "PUT");
  EXPECT_EQ(transport_->sent().at(0).target, "/api/v1/namespaces/ns/configmaps/x");
}

TEST_F(RestClientTest, RetriesTooManyRequestsAfterRetryAfter) {
  transport_->enqueueResponse(429, R"({"kind":"Status","reason":"TooManyRequests","code":429})",
                              {{"retry-after", "2"}});
  transport_->enqueueResponse(200, R"({"metadata":{"name":"x"}})");
  auto result = client_->get(resources::kConfigMaps, "ns", "x");
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(slept_.size(), 1u);
  EXPECT_EQ(slept_[0], std::chrono::seconds(2));
  EXPECT_EQ(transport_->sent().size(), 2u);
}

TEST_F(RestClientTest, GivesUpAfterMaxRetries) {
  transport_->setFallback([](const HttpRequest&) -> Result<HttpResponse> {
    HttpResponse r;
    r.status = 503;
    r.body = R"({"kind":"Status","reason":"ServiceUnavailable","code":503})";
    return r;
  });
  auto result = client_->get(resources::kConfigMaps, "ns", "x");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, 503);
  EXPECT_EQ(transport_->sent().size(), 6u);  // first try + 5 retries
}

TEST_F(RestClientTest, RetriesConnectionErrorsOnlyForIdempotentRequests) {
  transport_->enqueue([](const HttpRequest&) -> Result<HttpResponse> {
    return ApiError::network("connection refused");
  });
  transport_->enqueueResponse(200, R"({"metadata":{"name":"x"}})");
  EXPECT_TRUE(client_->get(resources::kConfigMaps, "ns", "x").ok());
  EXPECT_EQ(slept_.size(), 1u);  // the backoff before the second try

  transport_->enqueue([](const HttpRequest&) -> Result<HttpResponse> {
    return ApiError::network("connection reset");
  });
  auto created = client_->create(resources::kConfigMaps, "ns", {{"metadata", {{"name", "y"}}}});
  ASSERT_FALSE(created.ok());
  EXPECT_TRUE(created.error().isNetwork());
  EXPECT_EQ(transport_->sent().size(), 3u);
}

TEST_F(RestClientTest, DoesNotResendATimedOutRequestEvenAnIdempotentOne) {
  transport_->enqueue([](const HttpRequest&) -> Result<HttpResponse> {
    return ApiError::timeout("GET /api/v1/namespaces/ns/configmaps/x: timed out after 30000ms");
  });
  transport_->enqueueResponse(200, R"({"metadata":{"name":"x"}})");
  auto result = client_->get(resources::kConfigMaps, "ns", "x");
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.error().isTimeout());
  EXPECT_EQ(transport_->sent().size(), 1u);
  EXPECT_TRUE(slept_.empty());
}

TEST_F(RestClientTest, SendsOnlyNetworkFailuresAgain) {
  for (const ApiError& failure : {ApiError::cancelled(), ApiError::invalidConfig("bad SNI name"),
                                  ApiError::invalidResponse("garbled")}) {
    auto transport = std::make_shared<FakeTransport>();
    transport->enqueue([failure](const HttpRequest&) -> Result<HttpResponse> { return failure; });
    transport->enqueueResponse(200, R"({"metadata":{"name":"x"}})");
    RestClientOptions options;
    options.qps = 0;
    options.sleep = [](std::chrono::milliseconds) {};
    RestClient client(transport, options);
    auto result = client.get(resources::kConfigMaps, "ns", "x");
    ASSERT_FALSE(result.ok()) << failure.toString();
    EXPECT_EQ(result.error().kind, failure.kind);
    EXPECT_EQ(transport->sent().size(), 1u) << failure.toString();
  }
}

TEST_F(RestClientTest, ABodyThatIsNotJsonIsAnInvalidResponse) {
  transport_->enqueueResponse(200, "<html>login</html>");
  auto result = client_->get(resources::kConfigMaps, "ns", "x");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, FailureKind::InvalidResponse);
  EXPECT_FALSE(result.error().retryable());
}

TEST_F(RestClientTest, AWatchReadAfterCancelIsCancelled) {
  transport_->enqueueStream([](const HttpRequest&) -> Result<ResponseStreamPtr> {
    return ResponseStreamPtr(std::make_unique<FakeResponseStream>(std::deque<std::string>{},
                                                                  /*holdOpen=*/true));
  });
  auto stream = client_->watchStream(resources::kConfigMaps, "ns", {});
  ASSERT_TRUE(stream.ok());
  (*stream)->cancel();
  auto read = (*stream)->read(std::chrono::minutes(1));
  ASSERT_FALSE(read.ok());
  EXPECT_TRUE(read.error().isCancelled());
}

TEST(RestClientClockTest, TheQpsLimitWaitsAsLongAsTheInjectedClockSays) {
  auto transport = std::make_shared<FakeTransport>();
  transport->setFallback([](const HttpRequest&) -> Result<HttpResponse> {
    HttpResponse response;
    response.status = 200;
    response.body = R"({"metadata":{"name":"x"}})";
    return response;
  });
  FakeClock clock;
  std::vector<std::chrono::milliseconds> waits;
  RestClientOptions options;
  options.qps = 2;  // a token every 500ms
  options.burst = 1;
  options.clock = &clock;
  options.sleep = [&](std::chrono::milliseconds d) { waits.push_back(d); };
  RestClient client(transport, options);

  ASSERT_TRUE(client.get(resources::kConfigMaps, "ns", "x").ok());  // the burst token
  ASSERT_TRUE(client.get(resources::kConfigMaps, "ns", "x").ok());  // reserves the next one
  ASSERT_EQ(waits, std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(500)});
  // Only the injected clock's time counts: once it has moved past both reservations, no wait.
  clock.advance(std::chrono::seconds(1));
  ASSERT_TRUE(client.get(resources::kConfigMaps, "ns", "x").ok());
  EXPECT_EQ(waits.size(), 1u);
  clock.advance(std::chrono::milliseconds(100));
  ASSERT_TRUE(client.get(resources::kConfigMaps, "ns", "x").ok());
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_EQ(waits[1], std::chrono::milliseconds(400));
}

TEST(RestClientClockTest, WithoutASleepFunctionTheClientWaitsOnItsClock) {
  auto transport = std::make_shared<FakeTransport>();
  transport->setFallback([](const HttpRequest&) -> Result<HttpResponse> {
    HttpResponse response;
    response.status = 200;
    response.body = R"({"metadata":{"name":"x"}})";
    return response;
  });
  FakeClock clock;
  RestClientOptions options;
  options.qps = 1;
  options.burst = 1;
  options.clock = &clock;
  RestClient client(transport, options);
  ASSERT_TRUE(client.get(resources::kConfigMaps, "ns", "x").ok());

  std::thread second([&] { EXPECT_TRUE(client.get(resources::kConfigMaps, "ns", "x").ok()); });
  ASSERT_TRUE(clock.awaitWaiters(1));
  EXPECT_EQ(transport->sent().size(), 1u);  // parked on the clock, not yet sent
  clock.advance(std::chrono::seconds(1));
  second.join();
  EXPECT_EQ(transport->sent().size(), 2u);
}

TEST(RestClientClockTest, RefusesAQpsLimitWithoutAClock) {
  RestClientOptions options;
  options.qps = 5;
  EXPECT_THROW(RestClient(std::make_shared<FakeTransport>(), options), std::invalid_argument);
  options.qps = 0;  // no limit, but nothing to wait on either
  EXPECT_THROW(RestClient(std::make_shared<FakeTransport>(), options), std::invalid_argument);
  options.sleep = [](std::chrono::milliseconds) {};
  EXPECT_NO_THROW(RestClient(std::make_shared<FakeTransport>(), options));
}

TEST_F(RestClientTest, ListAllFollowsContinueTokens) {
  transport_->enqueueResponse(
      200,
      R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"7","continue":"t1"},"items":[{"metadata":{"name":"a"}}]})");
  transport_->enqueueResponse(
      200,
      R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"7"},"items":[{"metadata":{"name":"b"}}]})");
  auto all = client_->listAll(resources::kConfigMaps, "", {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)["items"].size(), 2u);
  EXPECT_EQ((*all)["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(transport_->sent().at(1).target, "/api/v1/configmaps?limit=500&continue=t1");
}

TEST_F(RestClientTest, ApplySendsApplyPatchWithFieldManagerAndForce) {
  transport_->enqueueResponse(200, R"({"metadata":{"name":"x"}})");
  nlohmann::json object = {{"apiVersion", "v1"},
                           {"kind", "ConfigMap"},
                           {"metadata", {{"name", "x"}, {"namespace", "ns"}}}};
  ASSERT_TRUE(client_->apply(resources::kConfigMaps, object, "meshgate").ok());
  const auto sent = transport_->sent().at(0);
  EXPECT_EQ(sent.method, "PATCH");
  EXPECT_EQ(sent.contentType, "application/apply-patch+yaml");
  EXPECT_EQ(sent.target, "/api/v1/namespaces/ns/configmaps/x?fieldManager=meshgate&force=true");
  EXPECT_EQ(nlohmann::json::parse(sent.body), object);
  EXPECT_EQ(client_->requestCounts().at("PATCH"), 1u);
}

TEST_F(RestClientTest, DeleteCarriesPropagationPolicyAndPreconditions) {
  transport_->enqueueResponse(200, R"({"kind":"Status","status":"Success"})");
  DeleteOptions options;
  options.propagationPolicy = "Foreground";
  options.preconditionUid = "u-1";
  ASSERT_TRUE(client_->remove(resources::kConfigMaps, "ns", "x", options).ok());
  auto body = nlohmann::json::parse(transport_->sent().at(0).body);
  EXPECT_EQ(body["propagationPolicy"], "Foreground");
  EXPECT_EQ(body["preconditions"]["uid"], "u-1");
}

}  // namespace
}  // namespace kube
