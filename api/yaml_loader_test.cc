// Tests for api/yaml_loader.h: YAML/JSON manifests to nlohmann::json documents.
#include "api/yaml_loader.h"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace meshgate::api {
namespace {

using nlohmann::json;

json loadOne(const std::string& text) {
  const auto result = loadYaml(text, "test.yaml");
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.documents.size(), 1u);
  return result.documents.empty() ? json() : result.documents[0];
}

TEST(YamlLoaderTest, LoadsEveryDocumentAndSkipsEmptyOnes) {
  const auto result = loadYaml("---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n...\n", "x");
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.documents.size(), 2u);
  EXPECT_EQ(result.documents[0], json::parse(R"({"a":1})"));
  EXPECT_EQ(result.documents[1], json::parse(R"({"b":2})"));
}

TEST(YamlLoaderTest, EmptyInputHasNoDocuments) {
  const auto result = loadYaml("", "x");
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result.documents.empty());
}

TEST(YamlLoaderTest, ResolvesPlainScalarsWithTheCoreSchema) {
  const json doc = loadOne(
      "int: 8080\nneg: -3\nplus: +4\nhex: 0x1F\noct: 0o17\nfloat: 2.5\nexp: 1e3\n"
      "t: true\nT: True\nf: FALSE\nn1: null\nn2: ~\nn3:\n"
      "yes: yes\non: on\nword: hello world\nver: 1.2.3\nzero: 0\n");
  EXPECT_EQ(doc["int"], 8080);
  EXPECT_TRUE(doc["int"].is_number_integer());
  EXPECT_EQ(doc["neg"], -3);
  EXPECT_EQ(doc["plus"], 4);
  EXPECT_EQ(doc["hex"], 31);
  EXPECT_EQ(doc["oct"], 15);
  EXPECT_TRUE(doc["float"].is_number_float());
  EXPECT_EQ(doc["float"], 2.5);
  EXPECT_EQ(doc["exp"], 1000.0);
  EXPECT_EQ(doc["t"], true);
  EXPECT_EQ(doc["T"], true);
  EXPECT_EQ(doc["f"], false);
  EXPECT_TRUE(doc["n1"].is_null());
  EXPECT_TRUE(doc["n2"].is_null());
  EXPECT_TRUE(doc["n3"].is_null());
  // YAML 1.1 booleans are plain strings in the core schema.
  EXPECT_EQ(doc["yes"], "yes");
  EXPECT_EQ(doc["on"], "on");
  EXPECT_EQ(doc["word"], "hello world");
  EXPECT_EQ(doc["ver"], "1.2.3");
  EXPECT_EQ(doc["zero"], 0);
}

TEST(YamlLoaderTest, QuotedAndBlockScalarsStayStrings) {
  const json doc =
      loadOne("a: \"8080\"\nb: 'true'\nc: \"null\"\nd: !!str 42\ne: |\n  123\nf: >-\n  false\n");
  EXPECT_EQ(doc["a"], "8080");
  EXPECT_EQ(doc["b"], "true");
  EXPECT_EQ(doc["c"], "null");
  EXPECT_EQ(doc["d"], "42");
  EXPECT_EQ(doc["e"], "123\n");
  EXPECT_EQ(doc["f"], "false");
}

TEST(YamlLoaderTest, IntegersBeyondInt64BecomeUnsignedOrFloat) {
  const json doc =
      loadOne("u: 18446744073709551615\nbig: 99999999999999999999\nmin: -9223372036854775808\n");
  EXPECT_TRUE(doc["u"].is_number_unsigned());
  EXPECT_EQ(doc["u"].get<std::uint64_t>(), 18446744073709551615ULL);
  EXPECT_TRUE(doc["big"].is_number_float());
  EXPECT_EQ(doc["min"].get<std::int64_t>(), INT64_MIN);
}

// 1 followed by 400 zeros became +infinity, which a JSON document cannot hold (it dumps as null);
// fuzz/yaml_loader_fuzzer checks every number it loads is finite.
TEST(YamlLoaderTest, IntegersBeyondADoubleStayStrings) {
  const std::string huge = "1" + std::string(400, '0');
  const json doc =
      loadOne("d: " + huge + "\nh: 0x" + std::string(300, 'f') + "\nn: -" + huge + "\n");
  EXPECT_EQ(doc["d"], huge);
  EXPECT_EQ(doc["h"], "0x" + std::string(300, 'f'));
  EXPECT_EQ(doc["n"], "-" + huge);
}

TEST(YamlLoaderTest, ConvertsNestedMapsAndSequences) {
  const json doc =
      loadOne("spec:\n  hosts: [a.example.com, b.example.com]\n  rules:\n  - {x: 1}\n");
  EXPECT_EQ(doc, json::parse(
                     R"({"spec":{"hosts":["a.example.com","b.example.com"],"rules":[{"x":1}]}})"));
}

TEST(YamlLoaderTest, ReportsSyntaxErrorsWithSourceAndLine) {
  const auto result = loadYaml("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(result.documents.empty());
  EXPECT_EQ(result.error.rfind("bad.yaml:", 0), 0u) << result.error;
  EXPECT_NE(result.error.find(':', 9), std::string::npos) << result.error;
}

// Found by fuzz/api_route_fuzzer: yaml-cpp 0.7 takes a ',' where a document should start for an
// empty document without consuming it, and YAML::LoadAll then adds documents until memory runs
// out.
TEST(YamlLoaderTest, ACommaWhereADocumentStartsIsAnErrorNotEndlessDocuments) {
  const auto result = loadYaml(",N.U", "comma.yaml");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(result.documents.empty());
  EXPECT_EQ(result.error, "comma.yaml:1:1: unexpected token: no node starts here");
  EXPECT_EQ(loadYaml("a: 1\n--- ,\n", "x").error, "x:2:5: unexpected token: no node starts here");
  EXPECT_TRUE(loadYaml("[a, b]\n---\n{c: d}\n", "x").ok());
}

// Found by fuzz/yaml_loader_fuzzer: yaml-cpp passes the bytes of a scalar through unchecked, and a
// document holding invalid UTF-8 throws when nlohmann::json dumps it (/config_dump, meshgatectl).
TEST(YamlLoaderTest, InvalidUtf8IsAnErrorWithItsPosition) {
  EXPECT_EQ(loadYaml("\xbf", "u.yaml").error, "u.yaml:1:1: invalid UTF-8");
  EXPECT_EQ(loadYaml("a: b\nc: \"\xc3\x28\"\n", "u.yaml").error, "u.yaml:2:4: invalid UTF-8");
  EXPECT_EQ(loadYaml("? \xed\xa0\x80\n: v\n", "u.yaml").error, "u.yaml:1:3: invalid UTF-8");
  EXPECT_EQ(loadOne("caf\xc3\xa9: \xf0\x9f\x9a\x80\n"),
            json::parse("{\"caf\xc3\xa9\": \"\xf0\x9f\x9a\x80\"}"));
}

TEST(YamlLoaderTest, RejectsDuplicateKeys) {
  const auto result = loadYaml("a: 1\nb: 2\na: 3\n", "dup.yaml");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error, "dup.yaml:3:1: duplicate key \"a\"");
}

TEST(YamlLoaderTest, StopsAliasExpansionBombs) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 8; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k)
      text += (k ? ", " : "") + prev;
    text += "]\n";
  }
  const auto result = loadYaml(text, "bomb.yaml");
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("too many nodes"), std::string::npos) << result.error;
}

// Found by the yaml_loader fuzzer: a NUL byte ended yaml-cpp's input early, and a document of a
// tag and an anchor on an empty scalar came out as a null document.
TEST(YamlLoaderTest, RefusesNulBytesWithTheirPosition) {
  const std::string text("a: 1\nb: x\0y\n", 13);
  const YamlLoadResult result = loadYaml(text, "in.yaml");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(result.documents.empty());
  EXPECT_EQ(result.error, "in.yaml:2:5: a NUL byte, which YAML does not allow");
}

TEST(YamlLoaderTest, ADocumentOfOnlyATagAndAnAnchorIsSkippedLikeAnEmptyOne) {
  const YamlLoadResult result = loadYaml("a: 1\n---\n!- &anchor\n...\n", "in.yaml");
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.documents.size(), 1u);
  EXPECT_EQ(result.documents[0], nlohmann::json({{"a", 1}}));
}

TEST(YamlLoaderTest, ParsesJsonInput) {
  const json doc =
      loadOne(R"(  {"kind": "MeshService", "spec": {"ports": [{"port": 8080}], "x": null}})");
  EXPECT_EQ(doc["spec"]["ports"][0]["port"], 8080);
  EXPECT_TRUE(doc["spec"]["x"].is_null());
}

TEST(YamlLoaderTest, ReportsMissingFiles) {
  const auto result = loadYamlFile("/nonexistent/meshgate.yaml");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error, "/nonexistent/meshgate.yaml: No such file or directory");
}

TEST(YamlLoaderTest, LoadsAFile) {
  const auto result = loadYamlFile("api/testdata/valid/mesh-service-minimal.yaml");
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.documents.size(), 1u);
  EXPECT_EQ(result.documents[0]["kind"], "MeshService");
}

}  // namespace
}  // namespace meshgate::api
