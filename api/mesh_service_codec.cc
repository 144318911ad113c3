// MeshService codec; see api/mesh_service_codec.h. Field order follows docs/API.md.
#include "api/mesh_service_codec.h"

#include <exception>

#include "api/certificate_status_codec.h"
#include "api/condition_codec.h"
#include "api/json_object_codec.h"
#include "api/object_meta_codec.h"
#include "api/retries_codec.h"
#include "api/traffic_policy_codec.h"

namespace meshgate::api {

// Decoders and encoders of the parts, leaves first. They are in namespace meshgate::api (not an
// anonymous one) so that the list and optional templates find them by argument-dependent lookup.

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Endpoint& out) {
  ObjectReader r(j, path, errors);
  r.read("address", out.address);
  r.read("port", out.port);
  r.read("weight", out.weight);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                ServicePort& out) {
  ObjectReader r(j, path, errors);
  r.read("name", out.name);
  r.read("port", out.port);
  r.read("targetPort", out.targetPort);
  r.read("protocol", out.protocol);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Mtls& out) {
  ObjectReader r(j, path, errors);
  r.read("mode", out.mode);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                AuthorizationRule& out) {
  ObjectReader r(j, path, errors);
  r.read("namespace", out.namespace_);
  r.read("serviceAccount", out.serviceAccount);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                Authorization& out) {
  ObjectReader r(j, path, errors);
  r.read("allow", out.allow);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                MeshServiceSpec& out) {
  ObjectReader r(j, path, errors);
  r.read("selector", out.selector);
  r.read("endpoints", out.endpoints);
  r.read("ports", out.ports);
  r.read("serviceAccount", out.serviceAccount);
  r.read("loadBalancer", out.loadBalancer);
  r.read("healthCheck", out.healthCheck);
  r.read("outlierDetection", out.outlierDetection);
  r.read("circuitBreaker", out.circuitBreaker);
  r.read("timeout", out.timeout);
  r.read("retries", out.retries);
  r.read("mtls", out.mtls);
  r.read("authorization", out.authorization);
  r.read("subsets", out.subsets);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                EndpointCounts& out) {
  ObjectReader r(j, path, errors);
  r.read("ready", out.ready);
  r.read("total", out.total);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                MeshServiceStatus& out) {
  ObjectReader r(j, path, errors);
  r.read("observedGeneration", out.observedGeneration);
  r.read("conditions", out.conditions);
  r.read("endpoints", out.endpoints);
  r.read("identity", out.identity);
  r.read("certificate", out.certificate);
}

void to_json(nlohmann::json& j, const Endpoint& in) {
  j = ObjectWriter()
          .always("address", in.address)
          .optional("port", in.port)
          .optional("weight", in.weight)
          .take();
}

void to_json(nlohmann::json& j, const ServicePort& in) {
  j = ObjectWriter()
          .always("name", in.name)
          .always("port", in.port)
          .optional("targetPort", in.targetPort)
          .optional("protocol", in.protocol)
          .take();
}

void to_json(nlohmann::json& j, const Mtls& in) {
  j = ObjectWriter().optional("mode", in.mode).take();
}

void to_json(nlohmann::json& j, const AuthorizationRule& in) {
  j = ObjectWriter()
          .optional("namespace", in.namespace_)
          .optional("serviceAccount", in.serviceAccount)
          .take();
}

void to_json(nlohmann::json& j, const Authorization& in) {
  // Written even when empty: an empty allow list means "nobody", unlike an absent authorization.
  j = ObjectWriter().always("allow", in.allow).take();
}

void to_json(nlohmann::json& j, const MeshServiceSpec& in) {
  j = ObjectWriter()
          .nonEmpty("selector", in.selector)
          .nonEmpty("endpoints", in.endpoints)
          .always("ports", in.ports)
          .optional("serviceAccount", in.serviceAccount)
          .optional("loadBalancer", in.loadBalancer)
          .optional("healthCheck", in.healthCheck)
          .optional("outlierDetection", in.outlierDetection)
          .optional("circuitBreaker", in.circuitBreaker)
          .optional("timeout", in.timeout)
          .optional("retries", in.retries)
          .optional("mtls", in.mtls)
          .optional("authorization", in.authorization)
          .nonEmpty("subsets", in.subsets)
          .take();
}

void to_json(nlohmann::json& j, const EndpointCounts& in) {
  j = ObjectWriter().always("ready", in.ready).always("total", in.total).take();
}

void to_json(nlohmann::json& j, const MeshServiceStatus& in) {
  j = ObjectWriter()
          .nonZero("observedGeneration", in.observedGeneration)
          .nonEmpty("conditions", in.conditions)
          .optional("endpoints", in.endpoints)
          .optional("identity", in.identity)
          .optional("certificate", in.certificate)
          .take();
}

DecodeResult<MeshService> decodeMeshService(const nlohmann::json& j) {
  return decodeTopLevel<MeshService>(j);
}

void to_json(nlohmann::json& j, const MeshService& in) {
  j = encodeTopLevel(in);
}

nlohmann::json encodeMeshService(const MeshService& in) {
  nlohmann::json j;
  to_json(j, in);
  return j;
}

}  // namespace meshgate::api
