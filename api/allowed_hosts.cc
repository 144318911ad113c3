// Host globs of the meshgate.io/allowed-hosts namespace annotation.
#include "api/allowed_hosts.h"

#include "base/ascii.h"

#include <algorithm>
#include <cctype>

namespace meshgate::api {

namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}
}  // namespace

std::optional<std::vector<std::string>> allowedHostGlobs(const nlohmann::json& namespaceObject) {
  const auto metadata = namespaceObject.find("metadata");
  if (metadata == namespaceObject.end() || !metadata->is_object()) return std::nullopt;
  const auto annotations = metadata->find("annotations");
  if (annotations == metadata->end() || !annotations->is_object()) return std::nullopt;
  const auto value = annotations->find(kAllowedHostsAnnotation);
  if (value == annotations->end() || !value->is_string()) return std::nullopt;
  std::vector<std::string> globs;
  const std::string text = value->get<std::string>();
  size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto end = comma == std::string::npos ? text.size() : comma;
    if (auto glob = trim(text.substr(start, end - start)); !glob.empty())
      globs.push_back(asciiLower(glob));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return globs;
}

bool hostAllowed(const std::string& host, const std::vector<std::string>& globs) {
  const std::string name = asciiLower(host);
  for (const auto& glob : globs) {
    if (glob == "*" || glob == name) return true;
    if (glob.size() > 2 && glob.compare(0, 2, "*.") == 0) {
      const std::string suffix = glob.substr(1);  // ".example.com"
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace meshgate::api
