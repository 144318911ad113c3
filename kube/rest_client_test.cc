// RestClient over a scripted transport: URLs, retries, error decoding, pagination, accounting.
#include "kube/rest_client.h"

#include <gtest/gtest.h>

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
    return ApiError::transport("connection refused");
  });
  transport_->enqueueResponse(200, R"({"metadata":{"name":"x"}})");
  EXPECT_TRUE(client_->get(resources::kConfigMaps, "ns", "x").ok());

  transport_->enqueue([](const HttpRequest&) -> Result<HttpResponse> {
    return ApiError::transport("connection reset");
  });
  auto created = client_->create(resources::kConfigMaps, "ns", {{"metadata", {{"name", "y"}}}});
  ASSERT_FALSE(created.ok());
  EXPECT_TRUE(created.error().isTransport());
  EXPECT_EQ(transport_->sent().size(), 3u);
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

}  // namespace
}  // namespace kube
