// Filter state kept across reloads; see filter_resources.h.
#include "dataplane/proxy/filter_resources.h"

namespace meshgate::dp {

FilterResources::~FilterResources() {
  for (auto& [uri, fetcher] : jwks_)
    fetcher->stop();
}

std::shared_ptr<const JwksSource> FilterResources::remoteJwks(const std::string& uri,
                                                              const RemoteJwksSettings& settings) {
  used_.insert("jwks:" + uri);
  auto& fetcher = jwks_[uri];
  if (!fetcher) {
    fetcher = std::make_shared<RemoteJwks>(context_, uri, settings, jwksFetches_);
    fetcher->start();
  }
  return fetcher;
}

std::shared_ptr<ratelimit::TokenBucketTable> FilterResources::buckets(
    const std::string& identity, const ratelimit::BucketPolicy& policy, size_t maxKeys) {
  used_.insert("rl:" + identity);
  auto& table = buckets_[identity];
  if (!table) table = std::make_shared<ratelimit::TokenBucketTable>(policy, maxKeys);
  return table;
}

Expected<std::shared_ptr<const JwksSource>, std::string> FilterResources::staticJwks(
    const std::string& jwks) {
  const std::string key = "sj:" + jwks;
  auto& source = staticJwks_[jwks];
  if (!source) {
    auto parsed = auth::JwkSet::parse(jwks);
    if (!parsed) {
      staticJwks_.erase(jwks);
      return parsed.error();
    }
    source = std::make_shared<StaticJwks>(std::move(*parsed));
  }
  used_.insert(key);
  return source;
}

std::shared_ptr<std::vector<auth::VerifiedTokenCache>> FilterResources::tokenCaches(
    const std::string& identity, size_t workers, size_t capacity) {
  const std::string key = identity + "|" + std::to_string(workers) + "|" + std::to_string(capacity);
  used_.insert("tc:" + key);
  auto& caches = tokenCaches_[key];
  if (!caches) {
    caches = std::make_shared<std::vector<auth::VerifiedTokenCache>>();
    caches->reserve(workers);
    for (size_t i = 0; i < workers; ++i)
      caches->emplace_back(capacity);
  }
  return caches;
}

void FilterResources::commit() {
  for (auto it = jwks_.begin(); it != jwks_.end();) {
    if (used_.count("jwks:" + it->first)) {
      ++it;
      continue;
    }
    it->second->stop();
    it = jwks_.erase(it);
  }
  const auto forgetUnused = [this](auto& map, const std::string& prefix) {
    for (auto it = map.begin(); it != map.end();) {
      if (used_.count(prefix + it->first))
        ++it;
      else
        it = map.erase(it);
    }
  };
  forgetUnused(buckets_, "rl:");
  forgetUnused(staticJwks_, "sj:");
  forgetUnused(tokenCaches_, "tc:");
  used_.clear();
}

}  // namespace meshgate::dp
