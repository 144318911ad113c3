// JSON codec of the proxy's configuration file (docs/PROXY_CONFIG.md). The file loader
// (proxy_config_loader.h) decodes with it after YAML→JSON; the admin endpoint /config_dump
// encodes the running snapshot with it. Decoding never throws and is strict: a wrong JSON type, a
// value the struct cannot hold (a port above 65535, a malformed duration) and an unknown field of
// a proxy-specific object are all FieldErrors with their paths, so a typo cannot silently change
// behaviour. Route objects (`routes[]`) are decoded by api::decodeApiRoute, whose rules apply
// inside them. Semantic rules are proxy_config_validation.h's job.
#pragma once

#include <nlohmann/json.hpp>

#include "api/decode_result.h"
#include "dataplane/config/proxy_config.h"

namespace meshgate::dp {

// `routes[i].metadata.namespace` defaults to "default"; every other absent field keeps the
// struct's default.
api::DecodeResult<ProxyConfig> decodeProxyConfig(const nlohmann::json& j);

// Every field, defaults included (so /config_dump shows what the proxy really uses); absent
// optionals are left out; durations in their canonical text (`1m30s`). Decodes back to an equal
// config.
nlohmann::json encodeProxyConfig(const ProxyConfig& config);

}  // namespace meshgate::dp
