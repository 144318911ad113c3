// Loads the proxy's configuration file (docs/PROXY_CONFIG.md): read, YAML (or JSON) → JSON,
// decode (proxy_config_codec.h), validate (proxy_config_validation.h). Called by meshgate-proxy at
// start-up and on reload (SIGHUP), and by tests. On failure the error is ready to print:
//   <source>: invalid proxy config (2 errors)
//   listeners[0].port: Invalid value: 8080: conflicts with admin (127.0.0.1:8080)
//   routes[0].spec.rules[0].backends[0].service: Not found: "shopx": no cluster of that name
// (one formatted FieldError per line, no trailing newline). YAML syntax errors come back as
// `<source>:<line>:<column>: <problem>`, unreadable files as `<path>: cannot read: <reason>`.
#pragma once

#include <string>
#include <string_view>

#include "base/expected.h"
#include "dataplane/config/proxy_config.h"

namespace meshgate::dp {

Expected<ProxyConfig, std::string> loadProxyConfigFile(const std::string& path);

// `source` names the input in messages (a file name, "<stdin>", "<config stream>").
Expected<ProxyConfig, std::string> loadProxyConfigText(std::string_view text,
                                                       std::string_view source);

// The version a config without `version` gets: the first 12 hex digits of the SHA-256 of its
// text, so an unchanged file keeps its version across reloads.
std::string defaultConfigVersion(std::string_view text);

}  // namespace meshgate::dp
