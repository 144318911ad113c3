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

void FilterResources::commit() {
  for (auto it = jwks_.begin(); it != jwks_.end();) {
    if (used_.count("jwks:" + it->first)) {
      ++it;
      continue;
    }
    it->second->stop();
    it = jwks_.erase(it);
  }
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (used_.count("rl:" + it->first))
      ++it;
    else
      it = buckets_.erase(it);
  }
  used_.clear();
}

}  // namespace meshgate::dp
