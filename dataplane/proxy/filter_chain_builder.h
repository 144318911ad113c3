// Compiles one ApiRoute rule's request filters (request_filter.h), in their order: CORS, redirect,
// authentication, rate limit. Called by Snapshot::build on the main thread for each rule. What a
// filter needs from outside the rule is resolved here: the Secrets its auth names (jwks.json, the
// API keys — secret_lookup.h), the fetcher of a JWKS `uri` and the rule's token buckets
// (filter_resources.h). A Secret that is missing or does not parse does not fail the build: the
// rule's auth then answers 503 (never open), and the reason is returned as a warning to log —
// file mode refuses such a config earlier, in validation; the operator's stream can carry it
// while a Secret is being created.
#pragma once

#include <string>
#include <vector>

#include "api/api_route.h"
#include "dataplane/config/proxy_config.h"
#include "dataplane/proxy/filter_resources.h"
#include "dataplane/proxy/proxy_stats.h"
#include "dataplane/proxy/request_filter.h"

namespace meshgate::dp {

struct FilterChainInputs {
  const ProxyConfig& config;
  const api::ApiRoute& route;
  const api::RouteRule& rule;
  const std::string& statName;  // "namespace/name/rule-index", the metric label
  ProxyStats& stats;
  FilterResources* resources = nullptr;  // null (unit tests): a JWKS uri answers 503
  size_t workers = 1;
};

struct BuiltFilters {
  FilterChain chain;
  // Incoming request headers removed whatever the filters decide: claimHeaders (a client can
  // never set them itself) and the API key's header (the key stops at the gateway).
  std::vector<std::string> stripRequestHeaders;
  // Upstream response headers the filters own (CORS): the backend's copies are removed.
  std::vector<std::string> stripResponseHeaders;
  std::vector<std::string> warnings;
};

// The auth that applies to `rule`: its own override, else the route's; none when the override
// disables it.
std::optional<api::Auth> effectiveAuth(const api::ApiRoute& route, const api::RouteRule& rule);

BuiltFilters buildFilterChain(const FilterChainInputs& inputs);

}  // namespace meshgate::dp
