// Tests for cli/yaml_writer.h: the Kubernetes block shape, and strings that a YAML reader would
// take for something else are quoted so they read back as themselves.
#include "cli/yaml_writer.h"

#include <string>

#include <gtest/gtest.h>

#include "api/yaml_loader.h"

namespace meshgate::cli {
namespace {

using nlohmann::json;

json readBack(const std::string& yaml) {
  const auto loaded = api::loadYaml(yaml, "test");
  EXPECT_TRUE(loaded.ok()) << loaded.error << "\n" << yaml;
  EXPECT_EQ(loaded.documents.size(), 1u) << yaml;
  return loaded.documents.empty() ? json() : loaded.documents[0];
}

TEST(YamlWriterTest, WritesMappingsAndSequencesInKubernetesBlockStyle) {
  const json object = json::parse(R"({
    "kind": "Service",
    "metadata": {"name": "orders", "labels": {"app.kubernetes.io/managed-by": "meshgate"}},
    "spec": {"ports": [{"name": "http", "port": 80}], "selector": {}, "ipFamilies": []},
    "items": [["a", "b"], []]
  })");
  EXPECT_EQ(toYaml(object),
            "items:\n"
            "-\n"
            "  - a\n"
            "  - b\n"
            "- []\n"
            "kind: Service\n"
            "metadata:\n"
            "  labels:\n"
            "    app.kubernetes.io/managed-by: meshgate\n"
            "  name: orders\n"
            "spec:\n"
            "  ipFamilies: []\n"
            "  ports:\n"
            "  - name: http\n"
            "    port: 80\n"
            "  selector: {}\n");
  EXPECT_EQ(readBack(toYaml(object)), object);
}

TEST(YamlWriterTest, QuotesStringsAReaderWouldTakeForSomethingElse) {
  const json object = {
      {"numbers", {"8080", "1.5", "0x1f", "1e3", "10s", "-1"}},
      {"words", {"true", "False", "yes", "No", "on", "OFF", "y", "null", "~"}},
      {"syntax",
       {"",    "a: b",  "#x", "x #y", " lead", "trail ", "*ref", "&a",     "!tag", "[x]", "{x}",
        "'q'", "\"q\"", "|",  ">",    "%",     "@",      "`",    "- item", "?",    "a,b", "<<"}},
      {"escapes", {"two\nlines", "tab\there", "back\\slash", "bell\a", "del\x7f"}},
      {"unicode", "caf\xc3\xa9"},
      {"8080", "a numeric key"},
      {"true", "a boolean key"},
      {"plain", {"shop.example.com", "/orders", "meshgate.io/v1alpha1", "http"}}};
  const std::string yaml = toYaml(object);
  EXPECT_EQ(readBack(yaml), object) << yaml;
  EXPECT_NE(yaml.find("- \"8080\"\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("- \"yes\"\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("- shop.example.com\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("- /orders\n"), std::string::npos) << yaml;
}

TEST(YamlWriterTest, WritesScalarsAsYamlReadsThem) {
  const json object = {
      {"null", nullptr}, {"yes", true},   {"no", false},    {"int", -42},
      {"big", 1u << 31}, {"float", 0.25}, {"emptyMap", {}}, {"emptyList", json::array()}};
  EXPECT_EQ(readBack(toYaml(object)), object) << toYaml(object);
  EXPECT_EQ(toYaml(json("alone")), "alone\n");
  EXPECT_EQ(toYaml(json::array({1, 2})), "- 1\n- 2\n");
}

}  // namespace
}  // namespace meshgate::cli
