// The proxy's names for the shared config schema (api/proxy_config.h): the dataplane code reads
// ProxyConfig, ClusterConfig, … unqualified inside meshgate::dp, as it did before the schema
// moved to api/ for the operator to build it too.
#pragma once

#include "api/proxy_config.h"

namespace meshgate::dp {

using api::AccessLogConfig;
using api::AdminConfig;
using api::AuthSettings;
using api::ClusterConfig;
using api::ClusterEndpoint;
using api::ClusterSubset;
using api::LimitsConfig;
using api::ListenerConfig;
using api::ListenerTls;
using api::Millis;
using api::PoolConfig;
using api::ProxyConfig;
using api::SecretConfig;
using api::TimeoutsConfig;
using api::TlsCertificate;
using api::UpstreamTls;

using api::kMaxBodyBytes;
using api::kMaxBufferedBodyBytes;
using api::kMaxConnections;
using api::kMaxHeaderBytes;
using api::kMaxHeaders;
using api::kMaxRequestLineBytes;
using api::kMaxRetryBufferBytes;
using api::kMinHeaderBytes;
using api::kMinRequestLineBytes;

}  // namespace meshgate::dp
