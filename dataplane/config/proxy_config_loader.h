// Loads the proxy's configuration (docs/PROXY_CONFIG.md): from a file (read, YAML or JSON → JSON,
// decode with api/proxy_config_codec.h, validate with proxy_config_validation.h), or from a
// snapshot of the operator's config stream (decode, check its version, apply the gateway's
// command-line overrides, validate). Called by meshgate-proxy at start-up, on reload and for every
// streamed snapshot, and by tests. On failure a file's error is ready to print:
//   <source>: invalid proxy config (2 errors)
//   listeners[0].port: Invalid value: 8080: conflicts with admin (127.0.0.1:8080)
//   routes[0].spec.rules[0].backends[0].service: Not found: "shopx": no cluster of that name
// (one formatted FieldError per line, no trailing newline). YAML syntax errors come back as
// `<source>:<line>:<column>: <problem>`, unreadable files as `<path>: cannot read: <reason>`.
// A streamed snapshot's errors come back as those lines, without the header (what a NACK carries).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/expected.h"
#include "dataplane/config/proxy_config.h"
#include "dataplane/config/route_isolation.h"

namespace meshgate::dp {

Expected<ProxyConfig, std::string> loadProxyConfigFile(const std::string& path);

// `source` names the input in messages (a file name, "<stdin>", "<config stream>").
Expected<ProxyConfig, std::string> loadProxyConfigText(std::string_view text,
                                                       std::string_view source);

// The version a config without `version` gets: the first 12 hex digits of the SHA-256 of its
// text, so an unchanged file keeps its version across reloads.
std::string defaultConfigVersion(std::string_view text);

// An IP literal and a port, as a command-line flag gives them.
struct ListenAddress {
  std::string address;
  std::uint16_t port = 0;
};

// What a gateway's command line imposes on every streamed config, before validation: the node's
// own addresses are not the operator's to choose. Unset fields leave the config as streamed.
struct BootstrapOverrides {
  std::optional<ListenAddress> http;         // the listener named "http" (--http-address)
  std::optional<ListenAddress> https;        // the listener named "https" (--https-address)
  std::optional<ListenAddress> admin;        // `admin` (--admin-address)
  std::optional<std::string> accessLogPath;  // enables the access log at that path (--access-log)
};

void applyBootstrapOverrides(ProxyConfig& config, const BootstrapOverrides& overrides);

// One snapshot of the config stream (or its persisted copy): decoded, its `version` checked
// against `version` (the Snapshot frame's; a mismatch is an error), overridden, validated with
// route isolation (route_isolation.h: a refused route falls back to its form in `lastGood`, or is
// left out, and is listed in `refused`). The errors that refuse the whole snapshot are formatted
// FieldErrors, one per entry, in document order.
Expected<IsolatedConfig, std::vector<std::string>> loadStreamedProxyConfig(
    std::string_view version, const nlohmann::json& config, const BootstrapOverrides& overrides,
    const std::map<std::string, api::ApiRoute>& lastGood = {},
    const std::vector<api::ApiRoute>* serving = nullptr);

// "<source>: invalid proxy config (N errors)" and the errors, one per line, as the file loader
// prints them.
std::string formatInvalidProxyConfig(std::string_view source,
                                     const std::vector<std::string>& errors);

}  // namespace meshgate::dp
