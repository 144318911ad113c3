// AdmissionRouter: HTTP errors for what is not an AdmissionReview, denials for what fails inside,
// and the admission metrics.
#include "webhook/admission_router.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace meshgate::webhook {
namespace {

namespace http = boost::beast::http;

HttpRequest post(const std::string& target, std::string body) {
  HttpRequest request{http::verb::post, target, 11};
  request.set(http::field::content_type, "application/json");
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

std::string review(const std::string& kind, const std::string& uid = "uid-1") {
  return nlohmann::json{{"apiVersion", "admission.k8s.io/v1"},
                        {"kind", "AdmissionReview"},
                        {"request",
                         {{"uid", uid},
                          {"kind", {{"group", ""}, {"version", "v1"}, {"kind", kind}}},
                          {"operation", "CREATE"},
                          {"namespace", "shop"},
                          {"object", {{"kind", kind}}}}}}
      .dump();
}

double counterValue(const metrics::Registry& registry, const std::string& name,
                    const std::map<std::string, std::string>& labels) {
  for (const auto& family : registry.collect()) {
    if (family.name != name) continue;
    for (const auto& sample : family.samples) {
      bool match = true;
      for (const auto& [key, value] : labels) {
        bool found = false;
        for (const auto& label : sample.labels)
          found = found || (label.name == key && label.value == value);
        match = match && found;
      }
      if (match) return sample.value;
    }
  }
  return -1;
}

class AdmissionRouterTest : public ::testing::Test {
 protected:
  AdmissionRouterTest() : router_(registry_) {
    router_.add("/mutate-v1-pod",
                {"pod-injection", "Pod", [](const AdmissionRequest&) {
                   AdmissionDecision d;
                   d.patch = nlohmann::json::array({{{"op", "add"},
                                                     {"path", "/metadata/labels"},
                                                     {"value", nlohmann::json::object()}}});
                   return d;
                 }});
    router_.add("/validate-throws",
                {"throws", "Pod", [](const AdmissionRequest&) -> AdmissionDecision {
                   throw std::runtime_error("decoder exploded");
                 }});
  }

  metrics::Registry registry_;
  AdmissionRouter router_;
};

TEST_F(AdmissionRouterTest, AnswersAReviewWithItsUidAndPatch) {
  auto response = router_.handle(post("/mutate-v1-pod", review("Pod", "abc")));
  ASSERT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  auto body = nlohmann::json::parse(response.body());
  EXPECT_EQ(body["response"]["uid"], "abc");
  EXPECT_EQ(body["response"]["allowed"], true);
  EXPECT_EQ(body["response"]["patchType"], "JSONPatch");
  EXPECT_EQ(
      counterValue(registry_, "meshgate_webhook_admission_requests_total",
                   {{"webhook", "pod-injection"}, {"operation", "CREATE"}, {"result", "patched"}}),
      1);
}

TEST_F(AdmissionRouterTest, TheQueryStringDoesNotChangeTheEndpoint) {
  auto response = router_.handle(post("/mutate-v1-pod?timeout=5s", review("Pod")));
  EXPECT_EQ(response.result(), http::status::ok);
}

TEST_F(AdmissionRouterTest, MalformedRequestsGet400WithTheReason) {
  auto notJson = router_.handle(post("/mutate-v1-pod", "{not json"));
  EXPECT_EQ(notJson.result(), http::status::bad_request);
  EXPECT_NE(notJson.body().find("not valid JSON"), std::string::npos);

  auto noUid = nlohmann::json::parse(review("Pod"));
  noUid["request"].erase("uid");
  auto missing = router_.handle(post("/mutate-v1-pod", noUid.dump()));
  EXPECT_EQ(missing.result(), http::status::bad_request);
  EXPECT_NE(missing.body().find("request.uid: Required value"), std::string::npos);
  EXPECT_EQ(counterValue(registry_, "meshgate_webhook_admission_requests_total",
                         {{"webhook", "pod-injection"}, {"result", "error"}}),
            2);
}

TEST_F(AdmissionRouterTest, WrongPathMethodOrMediaType) {
  EXPECT_EQ(router_.handle(post("/mutate-v1-secret", review("Pod"))).result(),
            http::status::not_found);
  HttpRequest get{http::verb::get, "/mutate-v1-pod", 11};
  auto notPost = router_.handle(get);
  EXPECT_EQ(notPost.result(), http::status::method_not_allowed);
  EXPECT_EQ(notPost[http::field::allow], "POST");
  auto yaml = post("/mutate-v1-pod", review("Pod"));
  yaml.set(http::field::content_type, "application/yaml");
  EXPECT_EQ(router_.handle(yaml).result(), http::status::unsupported_media_type);
  auto withCharset = post("/mutate-v1-pod", review("Pod"));
  withCharset.set(http::field::content_type, "application/json; charset=utf-8");
  EXPECT_EQ(router_.handle(withCharset).result(), http::status::ok);
}

TEST_F(AdmissionRouterTest, AnExceptionBecomesADenialWithItsMessage) {
  auto response = router_.handle(post("/validate-throws", review("Pod", "u-9")));
  ASSERT_EQ(response.result(), http::status::ok);
  auto body = nlohmann::json::parse(response.body());
  EXPECT_EQ(body["response"]["uid"], "u-9");
  EXPECT_EQ(body["response"]["allowed"], false);
  EXPECT_EQ(body["response"]["status"]["code"], 500);
  EXPECT_EQ(body["response"]["status"]["message"],
            "internal error in the meshgate webhook: decoder exploded");
  // and the router keeps answering
  EXPECT_EQ(router_.handle(post("/mutate-v1-pod", review("Pod"))).result(), http::status::ok);
}

TEST_F(AdmissionRouterTest, AReviewOfAnotherKindIsDenied) {
  auto response = router_.handle(post("/mutate-v1-pod", review("Secret")));
  auto body = nlohmann::json::parse(response.body());
  EXPECT_EQ(body["response"]["allowed"], false);
  EXPECT_NE(body["response"]["status"]["message"].get<std::string>().find("not Secret"),
            std::string::npos);
}

}  // namespace
}  // namespace meshgate::webhook
