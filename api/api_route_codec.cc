// ApiRoute codec; see api/api_route_codec.h. Field order follows docs/API.md.
#include "api/api_route_codec.h"

#include <exception>

#include "api/auth_codec.h"
#include "api/certificate_status_codec.h"
#include "api/condition_codec.h"
#include "api/json_object_codec.h"
#include "api/object_meta_codec.h"
#include "api/retries_codec.h"

namespace meshgate::api {

// Decoders and encoders of the parts, leaves first. They are in namespace meshgate::api (not an
// anonymous one) so that the list and optional templates find them by argument-dependent lookup.

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, RouteTls& out) {
  ObjectReader r(j, path, errors);
  r.read("secretName", out.secretName);
  r.read("redirectHTTP", out.redirectHTTP);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, PathMatch& out) {
  ObjectReader r(j, path, errors);
  r.read("type", out.type);
  r.read("value", out.value);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                HeaderMatch& out) {
  ObjectReader r(j, path, errors);
  r.read("name", out.name);
  r.read("type", out.type);
  r.read("value", out.value);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                RouteMatch& out) {
  ObjectReader r(j, path, errors);
  r.read("path", out.path);
  r.read("method", out.method);
  r.read("headers", out.headers);
  r.read("queryParams", out.queryParams);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Backend& out) {
  ObjectReader r(j, path, errors);
  r.read("service", out.service);
  r.read("port", out.port);
  r.read("weight", out.weight);
  r.read("subset", out.subset);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                HeaderValue& out) {
  ObjectReader r(j, path, errors);
  r.read("name", out.name);
  r.read("value", out.value);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                HeaderModifier& out) {
  ObjectReader r(j, path, errors);
  r.read("set", out.set);
  r.read("add", out.add);
  r.read("remove", out.remove);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Rewrite& out) {
  ObjectReader r(j, path, errors);
  r.read("pathPrefix", out.pathPrefix);
  r.read("hostname", out.hostname);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Redirect& out) {
  ObjectReader r(j, path, errors);
  r.read("scheme", out.scheme);
  r.read("hostname", out.hostname);
  r.read("port", out.port);
  r.read("path", out.path);
  r.read("statusCode", out.statusCode);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Filters& out) {
  ObjectReader r(j, path, errors);
  r.read("requestHeaders", out.requestHeaders);
  r.read("responseHeaders", out.responseHeaders);
  r.read("rewrite", out.rewrite);
  r.read("redirect", out.redirect);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                RateLimitKey& out) {
  ObjectReader r(j, path, errors);
  r.read("type", out.type);
  r.read("name", out.name);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, RateLimit& out) {
  ObjectReader r(j, path, errors);
  r.read("requests", out.requests);
  r.read("unit", out.unit);
  r.read("burst", out.burst);
  r.read("key", out.key);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Cors& out) {
  ObjectReader r(j, path, errors);
  r.read("allowOrigins", out.allowOrigins);
  r.read("allowMethods", out.allowMethods);
  r.read("allowHeaders", out.allowHeaders);
  r.read("exposeHeaders", out.exposeHeaders);
  r.read("maxAge", out.maxAge);
  r.read("allowCredentials", out.allowCredentials);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, RouteRule& out) {
  ObjectReader r(j, path, errors);
  r.read("matches", out.matches);
  r.read("backends", out.backends);
  r.read("filters", out.filters);
  r.read("timeout", out.timeout);
  r.read("retries", out.retries);
  r.read("rateLimit", out.rateLimit);
  r.read("auth", out.auth);
  r.read("cors", out.cors);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                ApiRouteSpec& out) {
  ObjectReader r(j, path, errors);
  r.read("ingressClassName", out.ingressClassName);
  r.read("hosts", out.hosts);
  r.read("tls", out.tls);
  r.read("auth", out.auth);
  r.read("rules", out.rules);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                DataplaneCounts& out) {
  ObjectReader r(j, path, errors);
  r.read("programmed", out.programmed);
  r.read("total", out.total);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                ApiRouteStatus& out) {
  ObjectReader r(j, path, errors);
  r.read("observedGeneration", out.observedGeneration);
  r.read("conditions", out.conditions);
  r.read("ingress", out.ingress);
  r.read("certificate", out.certificate);
  r.read("dataplanes", out.dataplanes);
}

void to_json(nlohmann::json& j, const RouteTls& in) {
  j = ObjectWriter()
          .optional("secretName", in.secretName)
          .optional("redirectHTTP", in.redirectHTTP)
          .take();
}

void to_json(nlohmann::json& j, const PathMatch& in) {
  j = ObjectWriter().optional("type", in.type).optional("value", in.value).take();
}

void to_json(nlohmann::json& j, const HeaderMatch& in) {
  j = ObjectWriter()
          .always("name", in.name)
          .optional("type", in.type)
          .always("value", in.value)
          .take();
}

void to_json(nlohmann::json& j, const RouteMatch& in) {
  j = ObjectWriter()
          .optional("path", in.path)
          .optional("method", in.method)
          .nonEmpty("headers", in.headers)
          .nonEmpty("queryParams", in.queryParams)
          .take();
}

void to_json(nlohmann::json& j, const Backend& in) {
  j = ObjectWriter()
          .always("service", in.service)
          .always("port", in.port)
          .optional("weight", in.weight)
          .optional("subset", in.subset)
          .take();
}

void to_json(nlohmann::json& j, const HeaderValue& in) {
  j = ObjectWriter().always("name", in.name).always("value", in.value).take();
}

void to_json(nlohmann::json& j, const HeaderModifier& in) {
  j = ObjectWriter()
          .nonEmpty("set", in.set)
          .nonEmpty("add", in.add)
          .nonEmpty("remove", in.remove)
          .take();
}

void to_json(nlohmann::json& j, const Rewrite& in) {
  j = ObjectWriter().optional("pathPrefix", in.pathPrefix).optional("hostname", in.hostname).take();
}

void to_json(nlohmann::json& j, const Redirect& in) {
  j = ObjectWriter()
          .optional("scheme", in.scheme)
          .optional("hostname", in.hostname)
          .optional("port", in.port)
          .optional("path", in.path)
          .optional("statusCode", in.statusCode)
          .take();
}

void to_json(nlohmann::json& j, const Filters& in) {
  j = ObjectWriter()
          .optional("requestHeaders", in.requestHeaders)
          .optional("responseHeaders", in.responseHeaders)
          .optional("rewrite", in.rewrite)
          .optional("redirect", in.redirect)
          .take();
}

void to_json(nlohmann::json& j, const RateLimitKey& in) {
  j = ObjectWriter().optional("type", in.type).optional("name", in.name).take();
}

void to_json(nlohmann::json& j, const RateLimit& in) {
  j = ObjectWriter()
          .always("requests", in.requests)
          .always("unit", in.unit)
          .optional("burst", in.burst)
          .optional("key", in.key)
          .take();
}

void to_json(nlohmann::json& j, const Cors& in) {
  j = ObjectWriter()
          .nonEmpty("allowOrigins", in.allowOrigins)
          .nonEmpty("allowMethods", in.allowMethods)
          .nonEmpty("allowHeaders", in.allowHeaders)
          .nonEmpty("exposeHeaders", in.exposeHeaders)
          .optional("maxAge", in.maxAge)
          .optional("allowCredentials", in.allowCredentials)
          .take();
}

void to_json(nlohmann::json& j, const RouteRule& in) {
  j = ObjectWriter()
          .nonEmpty("matches", in.matches)
          .nonEmpty("backends", in.backends)
          .optional("filters", in.filters)
          .optional("timeout", in.timeout)
          .optional("retries", in.retries)
          .optional("rateLimit", in.rateLimit)
          .optional("auth", in.auth)
          .optional("cors", in.cors)
          .take();
}

void to_json(nlohmann::json& j, const ApiRouteSpec& in) {
  j = ObjectWriter()
          .optional("ingressClassName", in.ingressClassName)
          .always("hosts", in.hosts)
          .optional("tls", in.tls)
          .optional("auth", in.auth)
          .always("rules", in.rules)
          .take();
}

void to_json(nlohmann::json& j, const DataplaneCounts& in) {
  j = ObjectWriter().always("programmed", in.programmed).always("total", in.total).take();
}

void to_json(nlohmann::json& j, const ApiRouteStatus& in) {
  j = ObjectWriter()
          .nonZero("observedGeneration", in.observedGeneration)
          .nonEmpty("conditions", in.conditions)
          .optional("ingress", in.ingress)
          .optional("certificate", in.certificate)
          .optional("dataplanes", in.dataplanes)
          .take();
}

DecodeResult<ApiRoute> decodeApiRoute(const nlohmann::json& j) {
  return decodeTopLevel<ApiRoute>(j);
}

void to_json(nlohmann::json& j, const ApiRoute& in) {
  j = encodeTopLevel(in);
}

nlohmann::json encodeApiRoute(const ApiRoute& in) {
  nlohmann::json j;
  to_json(j, in);
  return j;
}

}  // namespace meshgate::api
