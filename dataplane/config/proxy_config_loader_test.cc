// Tests of loadProxyConfigFile/loadProxyConfigText: the shipped sample loads, errors come as one
// ready-to-print message, and the default version is a hash of the text; and of
// loadStreamedProxyConfig: the gateway's overrides, its version check, its errors one per entry.
// Run with the repo root as working directory (as ctest does).
#include "dataplane/config/proxy_config_loader.h"

#include <cstdio>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/proxy_config_codec.h"
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
  const auto decoded = api::decodeProxyConfig(dump);
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
            "port, tls, tcp, tlsPassthrough)");
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

// A streamed snapshot as the operator sends it: listeners "http" and "https", its own admin.
nlohmann::json streamedConfig(const std::string& version) {
  nlohmann::json config = nlohmann::json::parse(R"({
    "listeners": [{"name": "http", "address": "0.0.0.0", "port": 80},
                  {"name": "other", "address": "0.0.0.0", "port": 9090}],
    "routes": [{"metadata": {"name": "r"},
                "spec": {"hosts": ["a.example.com"], "rules": [{"backends": [{"service": "c", "port": 80}]}]}}],
    "clusters": [{"name": "c", "endpoints": [{"address": "127.0.0.1"}]}],
    "admin": {"address": "0.0.0.0", "port": 9901}
  })");
  config["version"] = version;
  return config;
}

TEST(ProxyConfigLoaderTest, StreamedConfigGetsTheCommandLineOverrides) {
  BootstrapOverrides overrides;
  overrides.http = ListenAddress{"10.0.0.5", 8080};
  overrides.https = ListenAddress{"10.0.0.5", 8443};  // no listener of that name: nothing to do
  overrides.admin = ListenAddress{"127.0.0.1", 15000};
  overrides.accessLogPath = "/var/log/access.log";
  const auto loaded = loadStreamedProxyConfig("v1", streamedConfig("v1"), overrides);
  ASSERT_TRUE(loaded.ok()) << formatInvalidProxyConfig("stream", loaded.error());
  EXPECT_EQ(loaded->config.version, "v1");
  ASSERT_EQ(loaded->config.listeners.size(), 2u);
  EXPECT_EQ(loaded->config.listeners[0].address, "10.0.0.5");
  EXPECT_EQ(loaded->config.listeners[0].port, 8080);
  EXPECT_EQ(loaded->config.listeners[1].address, "0.0.0.0");
  EXPECT_EQ(loaded->config.listeners[1].port, 9090);
  EXPECT_EQ(loaded->config.admin.address, "127.0.0.1");
  EXPECT_EQ(loaded->config.admin.port, 15000);
  EXPECT_TRUE(loaded->config.accessLog.enabled);
  EXPECT_EQ(loaded->config.accessLog.path, "/var/log/access.log");
}

TEST(ProxyConfigLoaderTest, StreamedConfigIsValidatedAfterTheOverrides) {
  // The override moves the http listener onto the admin port: validation sees the real addresses.
  BootstrapOverrides overrides;
  overrides.http = ListenAddress{"127.0.0.1", 15000};
  overrides.admin = ListenAddress{"127.0.0.1", 15000};
  const auto loaded = loadStreamedProxyConfig("v1", streamedConfig("v1"), overrides);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(
      loaded.error(),
      ::testing::ElementsAre(
          "listeners[0].port: Invalid value: 15000: conflicts with admin (127.0.0.1:15000)"));
}

TEST(ProxyConfigLoaderTest, StreamedConfigErrorsAreTheFieldErrorsOnePerEntry) {
  nlohmann::json config = streamedConfig("v2");
  config["routes"][0]["spec"]["rules"][0]["backends"][0]["service"] = "shopx";
  config["listeners"][1]["prot"] = 1;
  const auto loaded = loadStreamedProxyConfig("v2", config, {});
  ASSERT_FALSE(loaded.ok());
  // Decode errors stop before validation, as for a file.
  EXPECT_THAT(loaded.error(), ::testing::ElementsAre(::testing::StartsWith(
                                  "listeners[1].prot: Invalid value: 1: unknown field")));
  config["listeners"][1].erase("prot");
  // A route the proxy refuses does not refuse the snapshot: it is left out (it had no last good
  // form) and reported; the rest serves.
  const auto isolated = loadStreamedProxyConfig("v2", config, {});
  ASSERT_TRUE(isolated.ok()) << formatInvalidProxyConfig("stream", isolated.error());
  EXPECT_TRUE(isolated->config.routes.empty());
  EXPECT_THAT(
      isolated->refused.at("default/r"),
      ::testing::ElementsAre(
          "spec.rules[0].backends[0].service: Not found: \"shopx\": no cluster of that name"));
  // An error outside routes refuses it all.
  config["listeners"][1]["address"] = "not-an-address";
  const auto invalid = loadStreamedProxyConfig("v2", config, {});
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().size(), 2u);
  EXPECT_EQ(formatInvalidProxyConfig("<config stream>", {invalid.error()[0]}),
            "<config stream>: invalid proxy config (1 error)\n" + invalid.error()[0]);
}

TEST(ProxyConfigLoaderTest, StreamedConfigVersionMustBeTheFramesVersion) {
  const auto loaded = loadStreamedProxyConfig("v2", streamedConfig("v1"), {});
  ASSERT_FALSE(loaded.ok());
  ASSERT_EQ(loaded.error().size(), 1u);
  EXPECT_THAT(loaded.error()[0], ::testing::HasSubstr("version mismatch"));
  EXPECT_THAT(loaded.error()[0], StartsWith("version: Invalid value: \"v1\""));
}

TEST(ProxyConfigLoaderTest, SecretFilesAreReadIntoDataAndIntoTheVersion) {
  const std::string dir = ::testing::TempDir();
  const std::string keys = dir + "/meshgate-loader-api-keys";
  const std::string text =
      std::string(kMinimal) + "secrets: [{name: keys, files: {api-keys: " + keys + "}}]\n";
  { std::ofstream(keys) << "mobile: 0123456789abcdef0123\n"; }
  const auto first = loadProxyConfigText(text, "proxy.yaml");
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_EQ(first->secrets[0].data.at("api-keys"), "mobile: 0123456789abcdef0123\n");
  EXPECT_TRUE(first->secrets[0].files.empty());
  { std::ofstream(keys) << "mobile: 0123456789abcdef0124\n"; }
  const auto second = loadProxyConfigText(text, "proxy.yaml");
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_NE(second->version, first->version) << "a changed secret file is a changed config";
  std::remove(keys.c_str());
  const auto missing = loadProxyConfigText(text, "proxy.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error(), ::testing::HasSubstr("secrets[0].files.api-keys: Invalid value: \"" +
                                                    keys + "\": cannot read: "));
}

}  // namespace
}  // namespace meshgate::dp
