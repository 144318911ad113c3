// ProbeHandler routes, without sockets.
#include "metrics/probe_handler.h"

#include <gtest/gtest.h>

#include "metrics/text_format.h"

namespace metrics {
namespace {
namespace http = boost::beast::http;

ProbeHandler::Request request(http::verb method, std::string target, bool keepAlive = true) {
  ProbeHandler::Request r{method, target, 11};
  r.keep_alive(keepAlive);
  return r;
}

TEST(ProbeHandlerTest, HealthzIsOkWithoutALivenessCheck) {
  ProbeHandler handler(ProbeRoutes{});
  auto response = handler.handle(request(http::verb::get, "/healthz"));
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(response.body(), "ok");
  EXPECT_EQ(response[http::field::content_type], "text/plain; charset=utf-8");
}

TEST(ProbeHandlerTest, ReadyzAnswersWithTheCheckReason) {
  bool synced = false;
  ProbeHandler handler(ProbeRoutes{.readiness = [&] {
    return synced ? HealthStatus{} : HealthStatus{false, "caches not synced"};
  }});
  auto notReady = handler.handle(request(http::verb::get, "/readyz"));
  EXPECT_EQ(notReady.result(), http::status::service_unavailable);
  EXPECT_EQ(notReady.body(), "caches not synced");
  synced = true;
  auto ready = handler.handle(request(http::verb::get, "/readyz?verbose"));
  EXPECT_EQ(ready.result(), http::status::ok);
  EXPECT_EQ(ready.body(), "ok");
}

TEST(ProbeHandlerTest, ThrowingCheckIsNotOk) {
  ProbeHandler handler(ProbeRoutes{
      .liveness = []() -> HealthStatus { throw std::runtime_error("leader lease lost"); }});
  auto response = handler.handle(request(http::verb::get, "/healthz"));
  EXPECT_EQ(response.result(), http::status::service_unavailable);
  EXPECT_EQ(response.body(), "check failed: leader lease lost");
}

TEST(ProbeHandlerTest, MetricsRendersTheRegistry) {
  Registry registry;
  registry.counter("meshgate_admissions_total", "Admission reviews").with({}).inc(2);
  ProbeHandler handler(ProbeRoutes{.registry = &registry});
  auto response = handler.handle(request(http::verb::get, "/metrics"));
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(response[http::field::content_type], kTextFormatContentType);
  EXPECT_EQ(response.body(), renderTextFormat(registry.collect()));
  EXPECT_EQ(response[http::field::content_length], std::to_string(response.body().size()));
}

TEST(ProbeHandlerTest, UnservedRoutesAreNotFound) {
  Registry registry;
  ProbeHandler metricsOnly(ProbeRoutes{.registry = &registry, .health = false});
  EXPECT_EQ(metricsOnly.handle(request(http::verb::get, "/healthz")).result(),
            http::status::not_found);
  EXPECT_EQ(metricsOnly.handle(request(http::verb::get, "/readyz")).result(),
            http::status::not_found);
  ProbeHandler probesOnly(ProbeRoutes{});
  EXPECT_EQ(probesOnly.handle(request(http::verb::get, "/metrics")).result(),
            http::status::not_found);
  EXPECT_EQ(probesOnly.handle(request(http::verb::get, "/")).result(), http::status::not_found);
  EXPECT_EQ(probesOnly.handle(request(http::verb::post, "/nope")).result(),
            http::status::not_found);
}

TEST(ProbeHandlerTest, OtherMethodsAreNotAllowedAndDoNotRunChecks) {
  int checks = 0;
  ProbeHandler handler(ProbeRoutes{.readiness = [&] {
    ++checks;
    return HealthStatus{};
  }});
  auto response = handler.handle(request(http::verb::post, "/readyz"));
  EXPECT_EQ(response.result(), http::status::method_not_allowed);
  EXPECT_EQ(response[http::field::allow], "GET, HEAD");
  EXPECT_EQ(checks, 0);
}

TEST(ProbeHandlerTest, HeadHasTheHeadersAndNoBody) {
  ProbeHandler handler(ProbeRoutes{});
  auto response = handler.handle(request(http::verb::head, "/healthz"));
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(response[http::field::content_length], "2");
  EXPECT_TRUE(response.body().empty());
}

TEST(ProbeHandlerTest, ResponseFollowsTheRequestKeepAlive) {
  ProbeHandler handler(ProbeRoutes{});
  EXPECT_TRUE(handler.handle(request(http::verb::get, "/healthz", true)).keep_alive());
  EXPECT_FALSE(handler.handle(request(http::verb::get, "/healthz", false)).keep_alive());
  ProbeHandler::Request http10{http::verb::get, "/healthz", 10};
  auto response = handler.handle(http10);
  EXPECT_EQ(response.version(), 10);
  EXPECT_FALSE(response.keep_alive());
}

}  // namespace
}  // namespace metrics
