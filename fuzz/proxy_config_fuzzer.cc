// Fuzzes the proxy's config file path (dataplane/config/proxy_config_loader.h) stage by stage, so
// that a throw is a crash rather than the loader's catch-all message: api::loadYaml, then
// api::decodeProxyConfig, then dp::validateProxyConfig (route validation, regex compilation,
// references). Invariants: a decoded config encodes (secrets included) to JSON that decodes and
// encodes to the same JSON again. The TLS file names a config gives are replaced by one that does
// not exist before validation, so the target never reads files the input names.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/proxy_config_codec.h"
#include "api/yaml_loader.h"
#include "dataplane/config/proxy_config_validation.h"
#include "fuzz/fuzz_check.h"

namespace {

using meshgate::api::ProxyConfig;

constexpr const char* kMissingFile = "/nonexistent/meshgate-fuzz.pem";

void replaceFileNames(ProxyConfig& config) {
  for (auto& listener : config.listeners) {
    if (!listener.tls) continue;
    for (auto& certificate : listener.tls->certificates) {
      if (!certificate.certFile.empty()) certificate.certFile = kMissingFile;
      if (!certificate.keyFile.empty()) certificate.keyFile = kMissingFile;
    }
  }
  for (auto& cluster : config.clusters) {
    if (cluster.tls && cluster.tls->caFile && !cluster.tls->caFile->empty()) {
      cluster.tls->caFile = kMissingFile;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshgate;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const api::YamlLoadResult yaml = api::loadYaml(text, "<fuzz>");
  if (yaml.documents.size() != 1) return 0;

  auto decoded = api::decodeProxyConfig(yaml.documents.front());
  FUZZ_CHECK(decoded.ok() == decoded.object.has_value());
  if (!decoded.ok()) return 0;
  ProxyConfig& config = *decoded.object;

  const nlohmann::json encoded = api::encodeProxyConfig(config);
  const auto again = api::decodeProxyConfig(encoded);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(api::encodeProxyConfig(*again.object) == encoded);
  (void)api::encodeProxyConfig(config, api::SecretEncoding::kRedact).dump();

  replaceFileNames(config);
  (void)dp::validateProxyConfig(config);
  return 0;
}
