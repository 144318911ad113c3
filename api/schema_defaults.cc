// CRD schema defaults; see api/schema_defaults.h.
#include "api/schema_defaults.h"

#include <string>

namespace meshgate::api {
namespace {

template <typename T, typename V>
void setIfAbsent(std::optional<T>& field, const V& value) {
  if (!field.has_value()) field = T(value);
}

void applyDefaults(HeaderMatch& match) {
  setIfAbsent(match.type, kDefaultValueMatchType);
}

}  // namespace

void applySchemaDefaults(Retries& retries) {
  setIfAbsent(retries.attempts, kDefaultRetryAttempts);
  if (retries.backoff) {
    setIfAbsent(retries.backoff->base, kDefaultBackoffBase);
    setIfAbsent(retries.backoff->max, kDefaultBackoffMax);
  }
}

void applySchemaDefaults(Auth& auth) {
  if (auth.apiKey) setIfAbsent(auth.apiKey->header, kDefaultApiKeyHeader);
}

void applySchemaDefaults(MeshService& ms) {
  auto& spec = ms.spec;
  for (auto& ep : spec.endpoints)
    setIfAbsent(ep.weight, kDefaultEndpointWeight);
  for (auto& port : spec.ports)
    setIfAbsent(port.protocol, kDefaultProtocol);
  if (spec.loadBalancer) setIfAbsent(spec.loadBalancer->policy, kDefaultLbPolicy);
  if (spec.healthCheck) {
    auto& hc = *spec.healthCheck;
    setIfAbsent(hc.interval, kDefaultHealthCheckInterval);
    setIfAbsent(hc.timeout, kDefaultHealthCheckTimeout);
    setIfAbsent(hc.healthyThreshold, kDefaultHealthyThreshold);
    setIfAbsent(hc.unhealthyThreshold, kDefaultUnhealthyThreshold);
  }
  if (spec.outlierDetection) {
    auto& od = *spec.outlierDetection;
    setIfAbsent(od.consecutiveErrors, kDefaultConsecutiveErrors);
    setIfAbsent(od.interval, kDefaultOutlierInterval);
    setIfAbsent(od.baseEjectionTime, kDefaultBaseEjectionTime);
    setIfAbsent(od.maxEjectionPercent, kDefaultMaxEjectionPercent);
  }
  if (spec.retries) applySchemaDefaults(*spec.retries);
  if (spec.mtls) setIfAbsent(spec.mtls->mode, kDefaultMtlsMode);
}

void applySchemaDefaults(ApiRoute& route) {
  auto& spec = route.spec;
  setIfAbsent(spec.ingressClassName, kDefaultIngressClassName);
  if (spec.tls) setIfAbsent(spec.tls->redirectHTTP, kDefaultRedirectHTTP);
  if (spec.auth) applySchemaDefaults(*spec.auth);
  for (auto& rule : spec.rules) {
    for (auto& match : rule.matches) {
      if (match.path) {
        setIfAbsent(match.path->type, kDefaultPathMatchType);
        setIfAbsent(match.path->value, kDefaultPathMatchValue);
      }
      for (auto& h : match.headers)
        applyDefaults(h);
      for (auto& q : match.queryParams)
        applyDefaults(q);
    }
    for (auto& backend : rule.backends)
      setIfAbsent(backend.weight, kDefaultBackendWeight);
    if (rule.filters && rule.filters->redirect) {
      setIfAbsent(rule.filters->redirect->statusCode, kDefaultRedirectStatusCode);
    }
    if (rule.retries) applySchemaDefaults(*rule.retries);
    if (rule.rateLimit && rule.rateLimit->key) {
      setIfAbsent(rule.rateLimit->key->type, kDefaultRateLimitKeyType);
    }
    if (rule.auth) applySchemaDefaults(*rule.auth);
  }
}

}  // namespace meshgate::api
