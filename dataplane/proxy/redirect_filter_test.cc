// Tests of RedirectFilter and the filter chain: the Location a rule's redirect builds (scheme,
// host, port, path, status), the https redirect of a plain listener, what passes through, and a
// chain stopping at the first filter that replies.
#include "dataplane/proxy/redirect_filter.h"

#include <gtest/gtest.h>

namespace meshgate::dp {
namespace {

RequestView requestFor(std::string_view host, std::string_view path) {
  RequestView view;
  view.method = "GET";
  view.host = host;
  view.path = path;
  return view;
}

FilterState& unusedState() {
  static FilterState state;
  return state;
}

FilterContext contextFor(const RequestView& view, std::string_view target, bool tls) {
  return FilterContext{.request = view,
                       .target = target,
                       .clientIp = "127.0.0.1",
                       .tls = tls,
                       .state = unusedState()};
}

TEST(RedirectFilterTest, PlainRequestGoesToHttpsWithHostWithoutPortAndTheWholeTarget) {
  const RedirectFilter filter(std::nullopt, /*toHttps=*/true);
  const RequestView view = requestFor("shop.example.com:8080", "/cart");
  LocalReply reply;
  ASSERT_EQ(filter.onRequest(contextFor(view, "/cart?id=7", false), reply), FilterStatus::Reply);
  EXPECT_EQ(reply.status, 301u);
  EXPECT_EQ(reply.extraHeaders, "location: https://shop.example.com/cart?id=7\r\n");
  EXPECT_TRUE(reply.body.empty());
}

TEST(RedirectFilterTest, HttpsRedirectLetsTlsRequestsThrough) {
  const RedirectFilter filter(std::nullopt, /*toHttps=*/true);
  const RequestView view = requestFor("shop.example.com", "/cart");
  LocalReply reply;
  EXPECT_EQ(filter.onRequest(contextFor(view, "/cart", true), reply), FilterStatus::Continue);
  EXPECT_EQ(reply.status, 0u);
}

TEST(RedirectFilterTest, RuleRedirectTakesEachFieldItSets) {
  api::Redirect redirect;
  redirect.scheme = "https";
  redirect.hostname = "new.example.com";
  redirect.port = 8443;
  redirect.path = "/moved";
  redirect.statusCode = 308;
  const RedirectFilter filter(redirect, /*toHttps=*/false);
  const RequestView view = requestFor("old.example.com", "/a");
  LocalReply reply;
  ASSERT_EQ(filter.onRequest(contextFor(view, "/a?b=1", false), reply), FilterStatus::Reply);
  EXPECT_EQ(reply.status, 308u);
  EXPECT_EQ(reply.extraHeaders, "location: https://new.example.com:8443/moved\r\n");
}

TEST(RedirectFilterTest, RuleRedirectKeepsWhatItDoesNotSetAndDropsAStandardPort) {
  api::Redirect redirect;
  redirect.port = 80;
  const RedirectFilter filter(redirect, /*toHttps=*/false);
  const RequestView view = requestFor("[::1]:8080", "/x");
  LocalReply reply;
  ASSERT_EQ(filter.onRequest(contextFor(view, "/x", false), reply), FilterStatus::Reply);
  EXPECT_EQ(reply.status, 302u);
  EXPECT_EQ(reply.extraHeaders, "location: http://[::1]/x\r\n");
}

TEST(RedirectFilterTest, RuleRedirectWinsOverTheHttpsRedirect) {
  api::Redirect redirect;
  redirect.hostname = "elsewhere.example.com";
  const RedirectFilter filter(redirect, /*toHttps=*/true);
  const RequestView view = requestFor("shop.example.com", "/");
  LocalReply reply;
  ASSERT_EQ(filter.onRequest(contextFor(view, "/", false), reply), FilterStatus::Reply);
  EXPECT_EQ(reply.extraHeaders, "location: http://elsewhere.example.com/\r\n");
}

// A filter that records that it ran and replies or not.
class RecordingFilter final : public RequestFilter {
 public:
  RecordingFilter(bool replies, int& runs) : replies_(replies), runs_(runs) {}
  std::string_view name() const override { return "recording"; }
  FilterStatus onRequest(const FilterContext&, LocalReply& reply) const override {
    ++runs_;
    if (!replies_) return FilterStatus::Continue;
    reply.status = 429;
    return FilterStatus::Reply;
  }

 private:
  bool replies_;
  int& runs_;
};

TEST(RequestFilterTest, ChainStopsAtTheFirstReply) {
  int first = 0, second = 0, third = 0;
  FilterChain chain;
  chain.push_back(std::make_unique<RecordingFilter>(false, first));
  chain.push_back(std::make_unique<RecordingFilter>(true, second));
  chain.push_back(std::make_unique<RecordingFilter>(false, third));
  const RequestView view = requestFor("a.example", "/");
  LocalReply reply;
  EXPECT_EQ(runFilters(chain, contextFor(view, "/", false), reply), FilterStatus::Reply);
  EXPECT_EQ(reply.status, 429u);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
  EXPECT_EQ(third, 0);
  chain.erase(chain.begin() + 1);
  EXPECT_EQ(runFilters(chain, contextFor(view, "/", false), reply), FilterStatus::Continue);
  EXPECT_EQ(third, 1);
}

}  // namespace
}  // namespace meshgate::dp
