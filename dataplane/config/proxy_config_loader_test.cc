// Tests of loadProxyConfigFile/loadProxyConfigText: the shipped sample loads, errors come as one
// ready-to-print message, and the default version is a hash of the text. Run with the repo root
// as working directory (as ctest does).
#include "dataplane/config/proxy_config_loader.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane/config/proxy_config_codec.h"
#include "dataplane/config/proxy_config_validation.h"
#include "dataplane/config/testing_tls_files.h"

namespace meshgate::dp {
namespace {

using ::testing::StartsWith;

constexpr const char* kSample = "config/samples/proxy-standalone.yaml";

const char* const kMinimal = R"(
listeners: [{name: public, address: 127.0.0.1, port: 8080}]
routes:
- metadata: {name: r}
  spec:
    hosts: [a.example.com]
    rules: [{backends: [{service: c, port: 80}]}]
clusters: [{name: c, endpoints: [{address: 127.0.0.1}]}]
)";

TEST(ProxyConfigLoaderTest, SampleFileLoads) {
  const auto loaded = loadProxyConfigFile(kSample);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const ProxyConfig& c = *loaded;
  EXPECT_EQ(c.version, "sample-1");
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].port, 8080);
  EXPECT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.clusters.size(), 3u);
  EXPECT_EQ(c.routes[0].metadata.namespace_, "default");
  EXPECT_TRUE(c.accessLog.enabled);
}

TEST(ProxyConfigLoaderTest, SampleSurvivesTheConfigDumpRoundTrip) {
  const auto loaded = loadProxyConfigFile(kSample);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const nlohmann::json dump = encodeProxyConfig(*loaded);
  const auto decoded = decodeProxyConfig(dump);
  ASSERT_TRUE(decoded.ok()) << api::formatErrors(decoded.errors);
  EXPECT_THAT(validateProxyConfig(*decoded.object), ::testing::IsEmpty());
  EXPECT_EQ(encodeProxyConfig(*decoded.object), dump);
  EXPECT_EQ(decoded.object->routes, loaded->routes);
}

TEST(ProxyConfigLoaderTest, MinimalTextLoadsWithADefaultVersion) {
  const auto loaded = loadProxyConfigText(kMinimal, "inline");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->version, defaultConfigVersion(kMinimal));
  EXPECT_EQ(loaded->version.size(), 12u);
}

TEST(ProxyConfigLoaderTest, DefaultVersionIsTheStartOfTheSha256OfTheText) {
  // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
  EXPECT_EQ(defaultConfigVersion("abc"), "ba7816bf8f01");
  EXPECT_NE(defaultConfigVersion("abc"), defaultConfigVersion("abd"));
}

TEST(ProxyConfigLoaderTest, ExplicitVersionIsKept) {
  const auto loaded = loadProxyConfigText(std::string("version: v7\n") + kMinimal, "inline");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->version, "v7");
}

TEST(ProxyConfigLoaderTest, JsonIsAcceptedToo) {
  const auto loaded = loadProxyConfigText(
      R"({"listeners": [{"name": "a", "address": "::1", "port": 0}]})", "inline.json");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->listeners[0].address, "::1");
}

TEST(ProxyConfigLoaderTest, ValidationErrorsFormOneMessageWithAHeaderLine) {
  const auto loaded = loadProxyConfigText(R"(
listeners:
- {name: a, address: 127.0.0.1, port: 8080}
- {name: b, address: 127.0.0.1, port: 8080}
routes:
- metadata: {name: r}
  spec:
    hosts: [a.example.com]
    rules: [{backends: [{service: shopx, port: 80}]}]
)",
                                          "proxy.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error(),
            "proxy.yaml: invalid proxy config (2 errors)\n"
            "listeners[1].port: Invalid value: 8080: conflicts with listeners[0] "
            "(127.0.0.1:8080)\n"
            "routes[0].spec.rules[0].backends[0].service: Not found: \"shopx\": no cluster of "
            "that name");
}

TEST(ProxyConfigLoaderTest, DecodeErrorsUseTheSameFormat) {
  const auto loaded = loadProxyConfigText("listeners: [{name: a, prot: 1}]\n", "p.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error(),
            "p.yaml: invalid proxy config (1 error)\n"
            "listeners[0].prot: Invalid value: 1: unknown field (known fields: name, address, "
            "port, tls)");
}

TEST(ProxyConfigLoaderTest, YamlSyntaxErrorNamesThePosition) {
  const auto loaded = loadProxyConfigText("listeners: [\n", "broken.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error(), StartsWith("broken.yaml:"));
}

TEST(ProxyConfigLoaderTest, ExactlyOneDocumentIsExpected) {
  const auto empty = loadProxyConfigText("# nothing\n", "empty.yaml");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error(), "empty.yaml: a proxy config is exactly one YAML document, found 0");
  const auto two = loadProxyConfigText("a: 1\n---\nb: 2\n", "two.yaml");
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error(), "two.yaml: a proxy config is exactly one YAML document, found 2");
}

TEST(ProxyConfigLoaderTest, UnreadableFileIsReported) {
  const auto loaded = loadProxyConfigFile("/nonexistent/proxy.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error(), "/nonexistent/proxy.yaml: cannot read: No such file or directory");
}

TEST(ProxyConfigLoaderTest, FileVersionDefaultsToTheHashOfItsText) {
  testing::TempTlsDir dir;
  const std::string path = dir.writeFile("proxy.yaml", kMinimal);
  const auto loaded = loadProxyConfigFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->version, defaultConfigVersion(kMinimal));
}

TEST(ProxyConfigLoaderTest, HttpsListenerWithGeneratedCertificateLoads) {
  testing::TempTlsDir dir;
  const std::string a = dir.writeKeyAndCertificate("a");
  const std::string config = R"(
listeners:
- name: https
  address: 127.0.0.1
  port: 8443
  tls:
    minVersion: TLSv1.3
    certificates: [{certFile: )" +
                             a + R"(.crt, keyFile: )" + a + R"(.key}]
)";
  const auto loaded = loadProxyConfigText(config, "tls.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->listeners[0].tls->certificates[0].keyFile, a + ".key");
}

}  // namespace
}  // namespace meshgate::dp
