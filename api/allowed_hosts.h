// The namespace annotation meshgate.io/allowed-hosts: comma-separated host globs that limit which
// hosts the ApiRoutes of that namespace may claim. "*" allows any host; "*.example.com" allows
// every name below example.com at any depth (and wildcard hosts below it, such as
// "*.api.example.com"); anything else is an exact, case-insensitive name. No annotation: any host.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace meshgate::api {

inline constexpr const char* kAllowedHostsAnnotation = "meshgate.io/allowed-hosts";

// The globs of a Namespace object; nullopt when it has no annotation (every host allowed).
std::optional<std::vector<std::string>> allowedHostGlobs(const nlohmann::json& namespaceObject);

bool hostAllowed(const std::string& host, const std::vector<std::string>& globs);

}  // namespace meshgate::api
