// Authentication on the request path; see auth_filter.h.
#include "dataplane/proxy/auth_filter.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "base/ascii.h"

namespace meshgate::dp {
namespace {

constexpr std::string_view kRealm = "realm=\"meshgate\"";

// The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 section 2.1);
// nullopt for any other scheme.
std::optional<std::string_view> bearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !asciiEqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme) ||
      authorization[kScheme.size()] != ' ')
    return std::nullopt;
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ')
    token.remove_suffix(1);
  return token;
}

// A claim as a header value: strings as they are, anything else as JSON text; nullopt when it
// could not be a header value (control characters, or longer than 8 KiB).
std::optional<std::string> claimValue(const nlohmann::json& claim) {
  std::string value = claim.is_string() ? claim.get<std::string>() : claim.dump();
  if (value.size() > 8192) return std::nullopt;
  for (const unsigned char c : value)
    if (c < 0x20 || c == 0x7f) return std::nullopt;
  return value;
}

// Where the rule reads its token: Authorization's bearer token, or the configured header (a
// "Bearer " prefix dropped) and then the configured cookie.
std::optional<std::string_view> presentedToken(const RequestView& request,
                                               const JwtRequirement& jwt) {
  if (jwt.tokenHeader.empty() && jwt.tokenCookie.empty()) {
    if (auto authorization = request.header("authorization")) return bearerToken(*authorization);
    return std::nullopt;
  }
  if (!jwt.tokenHeader.empty()) {
    if (auto value = request.header(jwt.tokenHeader)) {
      if (auto bearer = bearerToken(*value)) return bearer;
      return value;
    }
  }
  if (!jwt.tokenCookie.empty()) {
    if (auto cookies = request.header("cookie")) return cookieValue(*cookies, jwt.tokenCookie);
  }
  return std::nullopt;
}

std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

AuthFilter::AuthFilter(AuthFilterConfig config, AuthCounters counters)
    : config_(std::move(config)), counters_(std::move(counters)) {
  caches_ = std::move(config_.tokenCaches);
  if (!caches_ && config_.jwt && config_.tokenCacheCapacity > 0) {
    caches_ = std::make_shared<std::vector<auth::VerifiedTokenCache>>();
    caches_->reserve(config_.workers);
    for (size_t i = 0; i < config_.workers; ++i)
      caches_->emplace_back(config_.tokenCacheCapacity);
  }
}

void AuthFilter::deny(LocalReply& reply, unsigned status, std::string_view reason, std::string body,
                      std::string challenge) const {
  if (counters_.family) counters_.family->with({counters_.route, std::string(reason)}).inc();
  reply.status = status;
  reply.body = std::move(body);
  reply.extraHeaders.clear();
  if (!challenge.empty()) {
    reply.extraHeaders.append("www-authenticate: ");
    reply.extraHeaders.append(challenge);
    reply.extraHeaders.append("\r\n");
  }
}

AuthFilter::Verdict AuthFilter::checkJwt(std::string_view token, const FilterContext& context,
                                         LocalReply& reply) const {
  const JwtRequirement& jwt = *config_.jwt;
  std::shared_ptr<const auth::JwkSet> keys = jwt.keys ? jwt.keys->current() : nullptr;
  if (!keys) {
    deny(reply, 503, "keys_unavailable", "authentication unavailable\n", "");
    return Verdict::Unavailable;
  }
  const std::int64_t now = config_.unixNow ? config_.unixNow() : unixNow();
  auth::VerifiedTokenCache* cache =
      caches_ && context.worker < caches_->size() ? &(*caches_)[context.worker] : nullptr;
  std::shared_ptr<const auth::VerifiedJwt> verified;
  std::optional<auth::JwtFailure> failure;
  if (cache) verified = cache->find(token, keys);
  if (verified) {
    failure = auth::checkTimes(*verified, jwt.policy, now);
  } else {
    auto result = auth::verifyJwt(token, *keys, jwt.policy, now);
    if (result) {
      verified = std::make_shared<const auth::VerifiedJwt>(std::move(*result));
      if (cache) cache->insert(token, keys, verified);
    } else {
      failure = result.error();
      if (*failure == auth::JwtFailure::UnknownKey) jwt.keys->unknownKeyId();
    }
  }
  if (failure) {
    deny(reply, 401, auth::name(*failure), "invalid token\n",
         std::string("Bearer ") + std::string(kRealm) +
             ", error=\"invalid_token\", error_description=\"" +
             std::string(auth::describe(*failure)) + "\"");
    return Verdict::Denied;
  }
  FilterState& state = context.state;
  state.jwt = verified;
  if (state.identity.empty()) state.identity = verified->subject;
  for (const auto& claimHeader : jwt.claimHeaders) {
    const auto it = verified->claims.find(claimHeader.claim);
    if (it == verified->claims.end() || it->is_null()) continue;
    if (auto value = claimValue(*it)) state.requestHeaders.emplace_back(claimHeader.header, *value);
  }
  return Verdict::Pass;
}

AuthFilter::Verdict AuthFilter::checkApiKey(std::string_view key, const FilterContext& context,
                                            LocalReply& reply) const {
  const ApiKeyRequirement& apiKey = *config_.apiKey;
  if (!apiKey.keys) {
    deny(reply, 503, "keys_unavailable", "authentication unavailable\n", "");
    return Verdict::Unavailable;
  }
  const auto name = apiKey.keys->lookup(key);
  if (!name) {
    deny(reply, 401, "invalid_api_key", "invalid API key\n",
         std::string("ApiKey ") + std::string(kRealm) + ", error=\"invalid_key\"");
    return Verdict::Denied;
  }
  context.state.apiKeyName.assign(*name);
  context.state.identity.assign(*name);
  return Verdict::Pass;
}

FilterStatus AuthFilter::onRequest(const FilterContext& context, LocalReply& reply) const {
  const RequestView& request = context.request;
  bool presented = false;
  if (config_.apiKey) {
    std::optional<std::string_view> key;
    if (!config_.apiKey->header.empty()) key = request.header(config_.apiKey->header);
    if (!key && !config_.apiKey->queryParam.empty()) {
      key = request.queryParam(config_.apiKey->queryParam);
      if (key) context.state.secretQueryParameter = config_.apiKey->queryParam;
    }
    if (key) {
      presented = true;
      if (checkApiKey(*key, context, reply) != Verdict::Pass) return FilterStatus::Reply;
    }
  }
  if (config_.jwt) {
    if (auto token = presentedToken(request, *config_.jwt)) {
      presented = true;
      if (checkJwt(*token, context, reply) != Verdict::Pass) return FilterStatus::Reply;
    }
  }
  if (presented || config_.allowAnonymous) return FilterStatus::Continue;
  // Nothing presented. The keys being missing still answers 503 rather than a challenge the
  // client could never meet.
  if (config_.jwt && !config_.jwt->keys && !config_.apiKey) {
    deny(reply, 503, "keys_unavailable", "authentication unavailable\n", "");
    return FilterStatus::Reply;
  }
  deny(reply, 401, "missing_credentials", "authentication required\n",
       config_.jwt ? std::string("Bearer ") + std::string(kRealm)
                   : std::string("ApiKey ") + std::string(kRealm));
  return FilterStatus::Reply;
}

}  // namespace meshgate::dp
