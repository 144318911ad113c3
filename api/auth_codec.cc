// Auth codec; see api/auth_codec.h.
#include "api/auth_codec.h"

#include "api/json_object_codec.h"

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                SecretKeyRef& out) {
  ObjectReader r(j, path, errors);
  r.read("name", out.name);
  r.read("key", out.key);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Jwks& out) {
  ObjectReader r(j, path, errors);
  r.read("secretRef", out.secretRef);
  r.read("uri", out.uri);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                ClaimHeader& out) {
  ObjectReader r(j, path, errors);
  r.read("claim", out.claim);
  r.read("header", out.header);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, JwtAuth& out) {
  ObjectReader r(j, path, errors);
  r.read("issuer", out.issuer);
  r.read("audiences", out.audiences);
  r.read("jwks", out.jwks);
  r.read("claimHeaders", out.claimHeaders);
  r.read("tokenHeader", out.tokenHeader);
  r.read("tokenCookie", out.tokenCookie);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                ApiKeyAuth& out) {
  ObjectReader r(j, path, errors);
  r.read("secretRef", out.secretRef);
  r.read("header", out.header);
  r.read("queryParam", out.queryParam);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Auth& out) {
  ObjectReader r(j, path, errors);
  r.read("jwt", out.jwt);
  r.read("apiKey", out.apiKey);
  r.read("allowAnonymous", out.allowAnonymous);
  r.read("disabled", out.disabled);
}

void to_json(nlohmann::json& j, const SecretKeyRef& in) {
  j = ObjectWriter().always("name", in.name).optional("key", in.key).take();
}

void to_json(nlohmann::json& j, const Jwks& in) {
  j = ObjectWriter().optional("secretRef", in.secretRef).optional("uri", in.uri).take();
}

void to_json(nlohmann::json& j, const ClaimHeader& in) {
  j = ObjectWriter().always("claim", in.claim).always("header", in.header).take();
}

void to_json(nlohmann::json& j, const JwtAuth& in) {
  j = ObjectWriter()
          .always("issuer", in.issuer)
          .always("audiences", in.audiences)
          .always("jwks", in.jwks)
          .nonEmpty("claimHeaders", in.claimHeaders)
          .optional("tokenHeader", in.tokenHeader)
          .optional("tokenCookie", in.tokenCookie)
          .take();
}

void to_json(nlohmann::json& j, const ApiKeyAuth& in) {
  j = ObjectWriter()
          .always("secretRef", in.secretRef)
          .optional("header", in.header)
          .optional("queryParam", in.queryParam)
          .take();
}

void to_json(nlohmann::json& j, const Auth& in) {
  j = ObjectWriter()
          .optional("jwt", in.jwt)
          .optional("apiKey", in.apiKey)
          .optional("allowAnonymous", in.allowAnonymous)
          .optional("disabled", in.disabled)
          .take();
}

}  // namespace meshgate::api
