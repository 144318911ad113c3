// Config deltas: applying the delta of A → B to A gives exactly B, whatever changed; a one-element
// edit costs about that element; split configs share unchanged elements; deltas that do not fit
// the base config are errors; a sidecar's `mesh` section travels as a top-level member.
#include "api/config_delta.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "api/proxy_config_codec.h"

namespace meshgate::api::stream {
namespace {

using nlohmann::json;

json route(int i, const std::string& prefix = "/") {
  return {{"metadata", {{"name", "r" + std::to_string(i)}, {"namespace", "shop"}}},
          {"spec", {{"hosts", {"h" + std::to_string(i) + ".example.com"}}, {"path", prefix}}}};
}

json config(int routes) {
  json out = {{"version", "v"},
              {"timeouts", {{"connect", 1000}}},
              {"listeners", json::array({{{"name", "http"}, {"port", 8080}}})},
              {"clusters", json::array()},
              {"routes", json::array()}};
  for (int i = 0; i < routes; ++i) {
    out["routes"].push_back(route(i));
    out["clusters"].push_back({{"name", "c" + std::to_string(i)}, {"endpoints", {"10.0.0.1"}}});
  }
  return out;
}

// Encodes the delta of from → to, decodes it as a proxy would and applies it to `from`.
json roundTrip(const json& from, const json& to, std::size_t* frameBytes = nullptr) {
  const SplitConfig base = splitConfig(from);
  const SplitConfig target = splitConfig(to, &base);
  const std::string frame = encodeDeltaFrame("v2", "v1", base, target);
  if (frameBytes) *frameBytes = frame.size();
  EXPECT_EQ(frameVersion(frame), "v2");
  auto decoded = decodeServerMessage(frame);
  EXPECT_TRUE(decoded.ok()) << decoded.error();
  if (!decoded.ok()) return {};
  const auto& delta = std::get<Delta>(*decoded);
  EXPECT_EQ(delta.base, "v1");
  auto applied = applyDelta(from, delta);
  EXPECT_TRUE(applied.ok()) << applied.error();
  return applied.ok() ? *applied : json();
}

TEST(ConfigDelta, JoiningASplitConfigGivesItsDump) {
  const json c = config(5);
  EXPECT_EQ(joinConfig(splitConfig(c)), c.dump());
  const json mixed = {{"a", 1}, {"b", json::array({1, 2})}, {"c", json::array()}, {"d", "x"}};
  EXPECT_EQ(joinConfig(splitConfig(mixed)), mixed.dump());
  EXPECT_EQ(joinConfig(splitConfig(json::object())), "{}");
}

TEST(ConfigDelta, AOneRouteEditCostsAboutThatRoute) {
  const json from = config(1000);
  json to = from;
  to["routes"][500] = route(500, "/v2");
  std::size_t bytes = 0;
  EXPECT_EQ(roundTrip(from, to, &bytes), to);
  EXPECT_LT(bytes, 300u) << "the delta should hold one route and two runs";
  EXPECT_GT(from.dump().size(), 100'000u);
}

TEST(ConfigDelta, EveryKindOfChangeRoundTrips) {
  const json from = config(20);
  std::vector<std::pair<std::string, json>> cases;
  json same = from;
  cases.emplace_back("nothing changed", same);
  json added = from;
  added["routes"].insert(added["routes"].begin() + 3, route(99));
  added["routes"].push_back(route(100));
  cases.emplace_back("routes added in the middle and at the end", added);
  json removed = from;
  removed["routes"].erase(removed["routes"].begin());
  removed["routes"].erase(removed["routes"].begin() + 10);
  cases.emplace_back("routes removed", removed);
  json reordered = from;
  std::reverse(reordered["clusters"].begin(), reordered["clusters"].end());
  cases.emplace_back("clusters reordered", reordered);
  json duplicated = from;
  duplicated["routes"].push_back(from["routes"][0]);
  cases.emplace_back("an element repeated", duplicated);
  json emptied = from;
  emptied["routes"] = json::array();
  cases.emplace_back("every route gone", emptied);
  json member = from;
  member["timeouts"]["connect"] = 2000;
  member["accessLog"] = {{"path", "/dev/stdout"}};
  cases.emplace_back("a member changed and one added", member);
  json unset = from;
  unset.erase("timeouts");
  unset.erase("clusters");
  cases.emplace_back("members removed", unset);
  json newArray = from;
  newArray["extra"] = json::array({{{"name", "x"}}});
  newArray["none"] = json::array();
  cases.emplace_back("new array members, one empty", newArray);
  json toScalar = from;
  toScalar["listeners"] = "none";
  cases.emplace_back("an array became a scalar", toScalar);
  json fromScalar = from;
  fromScalar["timeouts"] = json::array({{{"connect", 1}}});
  cases.emplace_back("a scalar became an array", fromScalar);
  for (const auto& [what, to] : cases)
    EXPECT_EQ(roundTrip(from, to), to) << what;
}

TEST(ConfigDelta, TheMeshSectionTravelsAsATopLevelMember) {
  ProxyConfig first;
  first.mesh = MeshConfig{.identity = "spiffe://cluster.local/ns/shop/sa/cart",
                          .trustDomain = "cluster.local",
                          .outbound = {{.name = "web",
                                        .namespace_ = "shop",
                                        .addresses = {"10.96.0.1"},
                                        .ports = {80},
                                        .hosts = {"web"},
                                        .identity = "",
                                        .allowed = true}},
                          .inbound = {}};
  ProxyConfig second = first;
  second.mesh->outbound[0].allowed = false;
  second.mesh->inbound.push_back({.port = 8080,
                                  .mtlsMode = "Permissive",
                                  .allow = std::vector<AuthorizationRule>{},
                                  .service = "shop/cart"});
  ProxyConfig gone = second;
  gone.mesh.reset();

  const std::vector<std::pair<ProxyConfig, ProxyConfig>> steps = {
      {ProxyConfig{}, first}, {first, second}, {second, gone}};
  for (const auto& [before, after] : steps) {
    const json from = encodeProxyConfig(before);
    const json to = encodeProxyConfig(after);
    const SplitConfig base = splitConfig(from);
    const SplitConfig target = splitConfig(to, &base);
    auto decoded = decodeServerMessage(encodeDeltaFrame("v2", "v1", base, target));
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    const auto& delta = std::get<Delta>(*decoded);
    // A change of `mesh` alone is a set or an unset of that member, nothing else.
    EXPECT_TRUE(delta.patch.empty()) << delta.patch.dump();
    if (after.mesh) {
      EXPECT_EQ(delta.set, (json{{"mesh", to["mesh"]}}));
      EXPECT_TRUE(delta.unset.empty());
    } else {
      EXPECT_TRUE(delta.set.empty()) << delta.set.dump();
      EXPECT_EQ(delta.unset, std::vector<std::string>{"mesh"});
    }
    auto applied = applyDelta(from, delta);
    ASSERT_TRUE(applied.ok()) << applied.error();
    EXPECT_EQ(*applied, to);
    // And the proxy reads back the same config.
    const auto config = decodeProxyConfig(*applied);
    ASSERT_TRUE(config.ok()) << formatErrors(config.errors);
    ASSERT_EQ(config.object->mesh.has_value(), after.mesh.has_value());
    if (after.mesh) {
      EXPECT_EQ(config.object->mesh->outbound[0].allowed, after.mesh->outbound[0].allowed);
      EXPECT_EQ(config.object->mesh->inbound.size(), after.mesh->inbound.size());
    }
  }
}

TEST(ConfigDelta, SplitConfigsShareTheElementsTheyHaveInCommon) {
  const json from = config(10);
  json to = from;
  to["routes"][4] = route(4, "/changed");
  const SplitConfig base = splitConfig(from);
  const SplitConfig target = splitConfig(to, &base);
  EXPECT_EQ(target.arrays.at("routes")[3].get(), base.arrays.at("routes")[3].get());
  EXPECT_NE(target.arrays.at("routes")[4].get(), base.arrays.at("routes")[4].get());
  EXPECT_EQ(target.arrays.at("clusters")[9].get(), base.arrays.at("clusters")[9].get());
}

TEST(ConfigDelta, ADeltaThatDoesNotFitTheBaseIsAnError) {
  const json base = config(3);
  Delta past{"v2", "v1", json::object(), {}, {{"routes", json::array({json::array({2, 2})})}}};
  EXPECT_EQ(applyDelta(base, past).error(),
            "patch.routes: run [2, 2] is past the end of the base array (3 elements)");
  Delta notArray{"v2", "v1", json::object(), {}, {{"timeouts", json::array()}}};
  EXPECT_EQ(applyDelta(base, notArray).error(), "patch.timeouts: the base member is not an array");
  Delta badPiece{"v2", "v1", json::object(), {}, {{"routes", json::array({"x"})}}};
  EXPECT_EQ(applyDelta(base, badPiece).error(),
            "patch.routes: a piece is neither an element nor a [start, count] run");
  Delta negative{"v2", "v1", json::object(), {}, {{"routes", json::array({json::array({-1, 1})})}}};
  EXPECT_FALSE(applyDelta(base, negative).ok());
}

TEST(ConfigDelta, FrameVersionReadsBothServerFramesAndNothingElse) {
  EXPECT_EQ(frameVersion(encodeSnapshotFrame("abc", "{}")), "abc");
  EXPECT_EQ(frameVersion(encode(ServerMessage{Delta{"def", "abc"}})), "def");
  EXPECT_EQ(frameVersion(R"({"version":"abc","type":"Snapshot"})"), "");
  EXPECT_EQ(frameVersion(R"({"type":"Delta","version":"a\"b"})"), "");
  EXPECT_EQ(frameVersion("{"), "");
}

}  // namespace
}  // namespace meshgate::api::stream
