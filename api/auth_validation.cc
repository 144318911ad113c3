// Auth validation; see api/auth_validation.h.
#include "api/auth_validation.h"

#include <string>

#include "api/value_rules.h"

namespace meshgate::api {
namespace {

constexpr std::size_t kMaxIssuerLength = 1024;
constexpr std::size_t kMaxAudiences = 16;
constexpr std::size_t kMaxAudienceLength = 1024;
constexpr std::size_t kMaxClaimHeaders = 16;
constexpr std::size_t kMaxClaimLength = 256;

void validateSecretRef(const SecretKeyRef& ref, const FieldPath& path, ErrorList& errors) {
  const FieldPath name = path.child("name");
  if (validateRequired(ref.name, name, errors)) validateDnsSubdomain(ref.name, name, errors);
}

void validateJwt(const JwtAuth& jwt, const FieldPath& path, ErrorList& errors) {
  const FieldPath issuer = path.child("issuer");
  if (validateRequired(jwt.issuer, issuer, errors)) {
    validateMaxLength(jwt.issuer, kMaxIssuerLength, issuer, errors);
  }

  const FieldPath audiences = path.child("audiences");
  if (jwt.audiences.empty()) errors.push_back(FieldError::required(audiences));
  validateMaxItems(jwt.audiences.size(), kMaxAudiences, audiences, errors);
  for (std::size_t i = 0; i < jwt.audiences.size(); ++i) {
    if (validateRequired(jwt.audiences[i], audiences.index(i), errors)) {
      validateMaxLength(jwt.audiences[i], kMaxAudienceLength, audiences.index(i), errors);
    }
  }

  const FieldPath jwks = path.child("jwks");
  if (jwt.jwks.secretRef.has_value() == jwt.jwks.uri.has_value()) {
    errors.push_back(
        FieldError::invalid(jwks, "object", "exactly one of secretRef or uri must be set"));
  }
  if (jwt.jwks.secretRef) validateSecretRef(*jwt.jwks.secretRef, jwks.child("secretRef"), errors);
  if (jwt.jwks.uri) {
    const std::string& uri = *jwt.jwks.uri;
    constexpr std::string_view kScheme = "https://";
    if (uri.size() <= kScheme.size() || uri.compare(0, kScheme.size(), kScheme) != 0) {
      errors.push_back(FieldError::invalid(jwks.child("uri"), uri, "must be an https:// URL"));
    }
  }

  const FieldPath claimHeaders = path.child("claimHeaders");
  validateMaxItems(jwt.claimHeaders.size(), kMaxClaimHeaders, claimHeaders, errors);
  for (std::size_t i = 0; i < jwt.claimHeaders.size(); ++i) {
    const ClaimHeader& ch = jwt.claimHeaders[i];
    const FieldPath item = claimHeaders.index(i);
    if (validateRequired(ch.claim, item.child("claim"), errors)) {
      validateMaxLength(ch.claim, kMaxClaimLength, item.child("claim"), errors);
    }
    if (validateRequired(ch.header, item.child("header"), errors)) {
      validateHeaderName(ch.header, item.child("header"), errors);
    }
  }
  if (jwt.tokenHeader) validateHeaderName(*jwt.tokenHeader, path.child("tokenHeader"), errors);
  if (jwt.tokenCookie) {
    const std::string& cookie = *jwt.tokenCookie;
    if (cookie.size() > kMaxHeaderNameLength || !isCookieName(cookie)) {
      errors.push_back(
          FieldError::invalid(path.child("tokenCookie"), cookie, std::string(kCookieNameMessage)));
    }
  }
}

}  // namespace

void validateAuth(const Auth& auth, AuthScope scope, const FieldPath& path, ErrorList& errors) {
  if (auth.jwt) validateJwt(*auth.jwt, path.child("jwt"), errors);
  if (auth.apiKey) {
    const FieldPath apiKey = path.child("apiKey");
    validateSecretRef(auth.apiKey->secretRef, apiKey.child("secretRef"), errors);
    if (auth.apiKey->header)
      validateHeaderName(*auth.apiKey->header, apiKey.child("header"), errors);
    if (auth.apiKey->queryParam) {
      const FieldPath queryParam = apiKey.child("queryParam");
      if (validateRequired(*auth.apiKey->queryParam, queryParam, errors))
        validateMaxLength(*auth.apiKey->queryParam, kMaxQueryParamNameLength, queryParam, errors);
    }
  }
  if (auth.disabled.has_value()) {
    if (scope == AuthScope::kRouteDefault) {
      errors.push_back(
          FieldError::forbidden(path.child("disabled"), "only allowed in a rule's auth override"));
    } else if (*auth.disabled && (auth.jwt.has_value() || auth.apiKey.has_value() ||
                                  auth.allowAnonymous.has_value())) {
      errors.push_back(FieldError::invalid(
          path, "object", "disabled cannot be combined with jwt, apiKey or allowAnonymous"));
    }
  }
}

}  // namespace meshgate::api
