// Config loading; see proxy_config_loader.h.
#include "dataplane/config/proxy_config_loader.h"

#include <cstring>
#include <exception>
#include <functional>

#include "api/field_path.h"
#include "api/proxy_config_codec.h"
#include "api/yaml_loader.h"
#include "base/read_file.h"
#include "base/sha256.h"
#include "dataplane/config/proxy_config_validation.h"

namespace meshgate::dp {
namespace {

constexpr std::size_t kVersionHexDigits = 12;

std::vector<std::string> errorLines(const api::ErrorList& errors) {
  std::vector<std::string> lines;
  lines.reserve(errors.size());
  for (const auto& e : errors)
    lines.push_back(e.toString());
  return lines;
}

// The path both sources share: decode, let `prepare` adjust the config (and add errors of its
// own), validate.
Expected<ProxyConfig, api::ErrorList> decodeAndValidate(
    const nlohmann::json& document,
    const std::function<void(ProxyConfig&, api::ErrorList&)>& prepare) {
  auto decoded = api::decodeProxyConfig(document);
  if (!decoded.ok()) return decoded.errors;
  ProxyConfig config = std::move(*decoded.object);
  api::ErrorList errors;
  if (prepare) prepare(config, errors);
  for (auto& e : validateProxyConfig(config))
    errors.push_back(std::move(e));
  if (!errors.empty()) return errors;
  return config;
}

// A config file's `secrets[].files`: each file's content becomes the key's value in `data` (and
// part of the default version, so a changed secret file is a changed config). Paths as given
// (relative ones to the working directory, like certFile).
void readSecretFiles(ProxyConfig& config, std::string& versionInput, api::ErrorList& errors) {
  for (std::size_t i = 0; i < config.secrets.size(); ++i) {
    SecretConfig& secret = config.secrets[i];
    const api::FieldPath files = api::FieldPath("secrets").index(i).child("files");
    for (const auto& [key, path] : secret.files) {
      if (secret.data.count(key)) {
        errors.push_back(api::FieldError::duplicate(files.child(key), key));
        continue;
      }
      std::string error;
      const auto text = readFileText(path, error);
      if (!text) {
        errors.push_back(api::FieldError::invalid(files.child(key), path, error));
        continue;
      }
      versionInput += '\0';
      versionInput += *text;
      secret.data[key] = *text;
    }
    secret.files.clear();
  }
}

void overrideListener(ProxyConfig& config, std::string_view name,
                      const std::optional<ListenAddress>& address) {
  if (!address) return;
  for (auto& listener : config.listeners) {
    if (listener.name != name) continue;
    listener.address = address->address;
    listener.port = address->port;
  }
}

}  // namespace

std::string formatInvalidProxyConfig(std::string_view source,
                                     const std::vector<std::string>& errors) {
  std::string out(source);
  out += ": invalid proxy config (" + std::to_string(errors.size()) +
         (errors.size() == 1 ? " error)" : " errors)");
  for (const auto& e : errors) {
    out += '\n';
    out += e;
  }
  return out;
}

std::string defaultConfigVersion(std::string_view text) {
  return sha256Hex(text, kVersionHexDigits);
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
    auto config =
        decodeAndValidate(yaml.documents.front(), [&](ProxyConfig& config, api::ErrorList& errors) {
          std::string versionInput(text);
          readSecretFiles(config, versionInput, errors);
          if (config.version.empty()) config.version = defaultConfigVersion(versionInput);
        });
    if (!config) return formatInvalidProxyConfig(source, errorLines(config.error()));
    return std::move(*config);
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

void applyBootstrapOverrides(ProxyConfig& config, const BootstrapOverrides& overrides) {
  overrideListener(config, "http", overrides.http);
  overrideListener(config, "https", overrides.https);
  if (overrides.admin) {
    config.admin.address = overrides.admin->address;
    config.admin.port = overrides.admin->port;
  }
  if (overrides.accessLogPath) {
    config.accessLog.enabled = true;
    config.accessLog.path = *overrides.accessLogPath;
  }
}

Expected<IsolatedConfig, std::vector<std::string>> loadStreamedProxyConfig(
    std::string_view version, const nlohmann::json& document, const BootstrapOverrides& overrides,
    const std::map<std::string, api::ApiRoute>& lastGood,
    const std::vector<api::ApiRoute>* serving) {
  try {
    auto decoded = api::decodeProxyConfig(document);
    if (!decoded.ok()) return errorLines(decoded.errors);
    ProxyConfig config = std::move(*decoded.object);
    if (config.version != version) {
      return errorLines({api::FieldError::invalid(
          api::FieldPath("version"), config.version,
          "version mismatch: the Snapshot frame's version is \"" + std::string(version) + "\"")});
    }
    applyBootstrapOverrides(config, overrides);
    IsolatedConfig isolated = isolateRefusedRoutes(std::move(config), lastGood, serving);
    if (!isolated.errors.empty()) return errorLines(isolated.errors);
    return isolated;
  } catch (const std::exception& e) {
    return std::vector<std::string>{std::string("internal error: ") + e.what()};
  }
}

}  // namespace meshgate::dp
