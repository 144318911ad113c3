// JSON codec of the proxy's configuration (docs/PROXY_CONFIG.md), a file or a streamed snapshot
// (docs/CONFIG_STREAM.md). The file loader
// (proxy_config_loader.h) decodes with it after YAML→JSON; the admin endpoint /config_dump
// encodes the running snapshot with it. Decoding never throws and is strict: a wrong JSON type, a
// value the struct cannot hold (a port above 65535, a malformed duration) and an unknown field of
// a proxy-specific object are all FieldErrors with their paths, so a typo cannot silently change
// behaviour. Route objects (`routes[]`) are decoded by api::decodeApiRoute, whose rules apply
// inside them. The sidecar section `mesh` (set by the operator for sidecars only) is checked as
// far as its struct needs: ports 1..65535, mtlsMode one of api::mtls_mode, and an inbound port's
// `allow` absent (anyone of the mesh) kept apart from an empty list (nobody). Other semantic rules
// are proxy_config_validation.h's job.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "api/decode_result.h"
#include "api/proxy_config.h"

namespace meshgate::api {

// `routes[i].metadata.namespace` defaults to "default"; every other absent field keeps the
// struct's default.
api::DecodeResult<ProxyConfig> decodeProxyConfig(const nlohmann::json& j);

// What the encoder does with secret values (listener private keys): kInclude for the operator's
// stream and the proxy's persisted snapshot, kRedact for /config_dump and logs.
enum class SecretEncoding { kInclude, kRedact };
inline constexpr std::string_view kRedacted = "<redacted>";

// Every field, defaults included (so /config_dump shows what the proxy really uses); absent
// optionals are left out (`mesh` too, unless set); durations in their canonical text (`1m30s`).
// With kInclude it decodes back to an equal config.
nlohmann::json encodeProxyConfig(const ProxyConfig& config,
                                 SecretEncoding secrets = SecretEncoding::kInclude);

}  // namespace meshgate::api
