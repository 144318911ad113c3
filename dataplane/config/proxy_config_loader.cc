// Config file loading; see proxy_config_loader.h.
#include "dataplane/config/proxy_config_loader.h"

#include <cstring>
#include <exception>

#include <openssl/evp.h>

#include "api/yaml_loader.h"
#include "base/read_file.h"
#include "dataplane/config/proxy_config_codec.h"
#include "dataplane/config/proxy_config_validation.h"

namespace meshgate::dp {
namespace {

constexpr std::size_t kVersionHexDigits = 12;

std::string invalidConfigMessage(std::string_view source, const api::ErrorList& errors) {
  std::string out(source);
  out += ": invalid proxy config (" + std::to_string(errors.size()) +
         (errors.size() == 1 ? " error)" : " errors)");
  for (const auto& e : errors) {
    out += '\n';
    out += e.toString();
  }
  return out;
}

}  // namespace

std::string defaultConfigVersion(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    return "unknown";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length && out.size() < kVersionHexDigits; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

Expected<ProxyConfig, std::string> loadProxyConfigText(std::string_view text,
                                                       std::string_view source) {
  try {
    const api::YamlLoadResult yaml = api::loadYaml(text, source);
    if (!yaml.ok()) return yaml.error;
    if (yaml.documents.size() != 1) {
      return std::string(source) + ": a proxy config is exactly one YAML document, found " +
             std::to_string(yaml.documents.size());
    }
    auto decoded = decodeProxyConfig(yaml.documents.front());
    if (!decoded.ok()) return invalidConfigMessage(source, decoded.errors);
    ProxyConfig config = std::move(*decoded.object);
    if (config.version.empty()) config.version = defaultConfigVersion(text);
    const api::ErrorList errors = validateProxyConfig(config);
    if (!errors.empty()) return invalidConfigMessage(source, errors);
    return config;
  } catch (const std::exception& e) {
    return std::string(source) + ": " + e.what();
  }
}

Expected<ProxyConfig, std::string> loadProxyConfigFile(const std::string& path) {
  std::string error;
  const auto text = readFileText(path, error);
  if (!text) return path + ": " + error;
  return loadProxyConfigText(*text, path);
}

}  // namespace meshgate::dp
