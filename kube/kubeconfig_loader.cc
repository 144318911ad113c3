// kubeconfig parsing with yaml-cpp. Relative file paths resolve against the kubeconfig's folder,
// as kubectl does; *-data fields are base64 PEM.
#include "kube/kubeconfig_loader.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "base/base64.h"

namespace kube {

namespace {

ApiError configError(const std::string& message) {
  return ApiError::invalidConfig(message);
}

bool readFile(const std::filesystem::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return true;
}

// The `field` of the entry named `name` in a kubeconfig list (contexts, clusters, users).
std::optional<YAML::Node> findNamed(const YAML::Node& list, const std::string& name,
                                    const std::string& field) {
  if (!list || !list.IsSequence()) return std::nullopt;
  for (const auto& entry : list) {
    if (entry["name"] && entry["name"].as<std::string>() == name && entry[field] &&
        entry[field].IsMap()) {
      return entry[field];
    }
  }
  return std::nullopt;
}

// Reads `<field>-data` (base64) or `<field>` (a file path) into `out`.
std::string loadPem(const YAML::Node& node, const std::string& field,
                    const std::filesystem::path& baseDir, std::string& out) {
  if (node[field + "-data"]) {
    auto decoded = meshgate::base64Decode(node[field + "-data"].as<std::string>());
    if (!decoded) return field + "-data is not valid base64";
    out = std::move(*decoded);
    return "";
  }
  if (node[field]) {
    std::filesystem::path path = node[field].as<std::string>();
    if (path.is_relative()) path = baseDir / path;
    if (!readFile(path, out)) return field + ": cannot read " + path.string();
  }
  return "";
}

}  // namespace

std::string RestConfig::describe() const {
  std::string auth = "none";
  if (!clientCertPem.empty()) {
    auth = "client-cert";
  } else if (!bearerToken.empty() || !bearerTokenFile.empty()) {
    auth = "token";
  }
  return "server=" + server + " auth=" + auth + " ca=" + (caPem.empty() ? "system" : "pinned");
}

Result<RestConfig> loadKubeconfig(const std::string& path, const KubeconfigOptions& options) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return configError("kubeconfig " + path + ": " + e.what());
  }
  const std::filesystem::path baseDir = std::filesystem::path(path).parent_path();
  try {
    std::string contextName = options.context;
    if (contextName.empty() && root["current-context"]) {
      contextName = root["current-context"].as<std::string>();
    }
    if (contextName.empty()) return configError("kubeconfig " + path + ": no current-context");
    auto context = findNamed(root["contexts"], contextName, "context");
    if (!context)
      return configError("kubeconfig " + path + ": context " + contextName + " not found");
    const std::string clusterName = (*context)["cluster"].as<std::string>("");
    const std::string userName = (*context)["user"].as<std::string>("");
    auto clusterNode = findNamed(root["clusters"], clusterName, "cluster");
    if (!clusterNode)
      return configError("kubeconfig " + path + ": cluster " + clusterName + " not found");
    const YAML::Node& cluster = *clusterNode;

    RestConfig config;
    config.server = cluster["server"].as<std::string>("");
    if (config.server.rfind("https://", 0) != 0) {
      return configError("kubeconfig " + path + ": server must be an https:// URL, got \"" +
                         config.server + "\"");
    }
    if (cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>()) {
      if (!options.allowInsecure) {
        return configError(
            "kubeconfig " + path + ": cluster " + clusterName +
            " sets insecure-skip-tls-verify, which is refused unless explicitly allowed");
      }
      config.insecureSkipTlsVerify = true;
    }
    config.tlsServerName = cluster["tls-server-name"].as<std::string>("");
    if (auto err = loadPem(cluster, "certificate-authority", baseDir, config.caPem); !err.empty()) {
      return configError("kubeconfig " + path + ": " + err);
    }

    if (auto userNode = findNamed(root["users"], userName, "user")) {
      const YAML::Node& user = *userNode;
      if (auto err = loadPem(user, "client-certificate", baseDir, config.clientCertPem);
          !err.empty()) {
        return configError("kubeconfig " + path + ": " + err);
      }
      if (auto err = loadPem(user, "client-key", baseDir, config.clientKeyPem); !err.empty()) {
        return configError("kubeconfig " + path + ": " + err);
      }
      if (config.clientCertPem.empty() != config.clientKeyPem.empty()) {
        return configError("kubeconfig " + path + ": user " + userName +
                           " needs both client-certificate and client-key");
      }
      config.bearerToken = user["token"].as<std::string>("");
      if (user["tokenFile"]) {
        std::filesystem::path tokenFile = user["tokenFile"].as<std::string>();
        if (tokenFile.is_relative()) tokenFile = baseDir / tokenFile;
        config.bearerTokenFile = tokenFile.string();
      }
    }
    return config;
  } catch (const std::exception& e) {
    return configError("kubeconfig " + path + ": " + e.what());
  }
}

Result<RestConfig> inClusterConfig(const InClusterPaths& paths) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr || *host == '\0' || *port == '\0') {
    return configError(
        "not running in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set (use --kubeconfig)");
  }
  RestConfig config;
  std::string hostPart = host;
  if (hostPart.find(':') != std::string::npos) hostPart = "[" + hostPart + "]";  // IPv6
  config.server = "https://" + hostPart + ":" + port;
  if (!readFile(paths.caFile, config.caPem)) {
    return configError("in-cluster: cannot read CA file " + paths.caFile);
  }
  std::string token;
  if (!readFile(paths.tokenFile, token)) {
    return configError("in-cluster: cannot read token file " + paths.tokenFile);
  }
  config.bearerTokenFile = paths.tokenFile;
  return config;
}

Result<RestConfig> resolveConfig(const std::string& kubeconfigFlag,
                                 const KubeconfigOptions& options) {
  if (!kubeconfigFlag.empty()) return loadKubeconfig(kubeconfigFlag, options);
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string first = env;
    first = first.substr(0, first.find(':'));
    return loadKubeconfig(first, options);
  }
  return inClusterConfig();
}

}  // namespace kube
