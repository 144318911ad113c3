// One match: path kinds (prefix on segment boundaries), method, headers, query parameters.
#include "dataplane/router/request_match.h"

#include <gtest/gtest.h>

namespace meshgate::dp {
namespace {

RequestView get(std::string_view path) {
  return RequestView{.method = "GET", .host = "a.test", .path = path, .query = {}, .headers = {}};
}

RequestMatch compiled(const api::RouteMatch& match) {
  auto m = RequestMatch::compile(match);
  EXPECT_TRUE(m.ok()) << m.error();
  return *m;
}

TEST(RequestMatchTest, PrefixMatchesWholeSegmentsOnly) {
  auto m = compiled({.path = api::PathMatch{.type = "PathPrefix", .value = "/api"}});
  EXPECT_TRUE(m.matches(get("/api")));
  EXPECT_TRUE(m.matches(get("/api/orders")));
  EXPECT_FALSE(m.matches(get("/apix")));
  auto slash = compiled({.path = api::PathMatch{.type = "PathPrefix", .value = "/api/"}});
  EXPECT_TRUE(slash.matches(get("/api")));
  EXPECT_TRUE(slash.matches(get("/api/x")));
  auto root = compiled({});
  EXPECT_TRUE(root.matches(get("/anything")));
}

TEST(RequestMatchTest, ExactAndRegexMatchTheWholePath) {
  auto exact = compiled({.path = api::PathMatch{.type = "Exact", .value = "/health"}});
  EXPECT_TRUE(exact.matches(get("/health")));
  EXPECT_FALSE(exact.matches(get("/health/")));
  auto regex =
      compiled({.path = api::PathMatch{.type = "RegularExpression", .value = "/v[0-9]+/.*"}});
  EXPECT_TRUE(regex.matches(get("/v2/orders")));
  EXPECT_FALSE(regex.matches(get("/x/v2/orders")));
  EXPECT_EQ(regex.pathKind(), PathKind::Regex);
}

TEST(RequestMatchTest, MethodHeadersAndQueryMustAllHold) {
  auto m =
      compiled({.path = std::nullopt,
                .method = "POST",
                .headers = {{.name = "X-Env", .type = std::nullopt, .value = "prod"},
                            {.name = "x-user", .type = "RegularExpression", .value = "u-[0-9]+"}},
                .queryParams = {{.name = "v", .type = std::nullopt, .value = "2"}}});
  RequestView request{.method = "POST",
                      .host = "a.test",
                      .path = "/",
                      .query = {{"v", "2"}},
                      .headers = {{"x-env", "prod"}, {"x-user", "u-42"}}};
  EXPECT_TRUE(m.matches(request));
  request.method = "GET";
  EXPECT_FALSE(m.matches(request));
  request.method = "POST";
  request.headers[1].second = "admin";
  EXPECT_FALSE(m.matches(request));
  request.headers[1].second = "u-42";
  request.query.clear();
  EXPECT_FALSE(m.matches(request));
}

TEST(RequestMatchTest, ABadRegexIsRefusedWithRe2sReason) {
  auto m =
      RequestMatch::compile({.path = api::PathMatch{.type = "RegularExpression", .value = "(a"}});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("path: invalid regular expression: missing )"), std::string::npos)
      << m.error();
}

}  // namespace
}  // namespace meshgate::dp
