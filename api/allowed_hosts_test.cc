// The allowed-hosts annotation: parsing and glob matching.
#include "api/allowed_hosts.h"

#include <gtest/gtest.h>

namespace meshgate::api {
namespace {

nlohmann::json namespaceWith(const std::string& annotation) {
  return {
      {"metadata", {{"name", "team"}, {"annotations", {{kAllowedHostsAnnotation, annotation}}}}}};
}

TEST(AllowedHostsTest, NoAnnotationMeansEveryHost) {
  EXPECT_FALSE(allowedHostGlobs({{"metadata", {{"name", "team"}}}}).has_value());
}

TEST(AllowedHostsTest, SplitsTrimsAndLowersTheList) {
  auto globs = allowedHostGlobs(namespaceWith(" API.example.com, *.shop.example.com ,,"));
  ASSERT_TRUE(globs.has_value());
  EXPECT_EQ(*globs, (std::vector<std::string>{"api.example.com", "*.shop.example.com"}));
}

TEST(AllowedHostsTest, AnEmptyAnnotationAllowsNothing) {
  auto globs = allowedHostGlobs(namespaceWith(""));
  ASSERT_TRUE(globs.has_value());
  EXPECT_FALSE(hostAllowed("api.example.com", *globs));
}

TEST(AllowedHostsTest, ExactNamesMatchCaseInsensitively) {
  EXPECT_TRUE(hostAllowed("Api.Example.com", {"api.example.com"}));
  EXPECT_FALSE(hostAllowed("www.example.com", {"api.example.com"}));
}

TEST(AllowedHostsTest, AWildcardCoversEveryDepthButNotTheApex) {
  const std::vector<std::string> globs = {"*.example.com"};
  EXPECT_TRUE(hostAllowed("a.example.com", globs));
  EXPECT_TRUE(hostAllowed("a.b.example.com", globs));
  EXPECT_TRUE(hostAllowed("*.api.example.com", globs));
  EXPECT_FALSE(hostAllowed("example.com", globs));
  EXPECT_FALSE(hostAllowed("badexample.com", globs));
}

TEST(AllowedHostsTest, AStarAllowsAnyHost) {
  EXPECT_TRUE(hostAllowed("anything.test", {"*"}));
}

}  // namespace
}  // namespace meshgate::api
