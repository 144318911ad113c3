// FilterResources: what request filters keep across config reloads, owned by ProxyServer for the
// life of the process — the JWKS fetched from each `uri` (remote_jwks.h: one fetcher per URI,
// however many rules name it), each rate-limited rule's token buckets (so a reload that leaves
// a rule's limit unchanged does not hand every client a fresh burst), the key set parsed from
// each JWKS Secret value and each JWT rule's verified-token caches (so an endpoint change, which
// rebuilds every rule, does not make every token verify its signature again). Snapshot::build asks
// for them while compiling; commit() after a snapshot is installed stops the fetchers and forgets
// the buckets the new snapshot no longer uses. Main thread only (the objects handed out are then
// shared with the workers through the snapshot).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "dataplane/auth/verified_token_cache.h"
#include "dataplane/proxy/jwks_source.h"
#include "dataplane/proxy/remote_jwks.h"
#include "dataplane/ratelimit/token_bucket_table.h"
#include "metrics/metric_family.h"

namespace meshgate::dp {

class FilterResources {
 public:
  FilterResources(boost::asio::io_context& context, metrics::CounterFamily* jwksFetches)
      : context_(context), jwksFetches_(jwksFetches) {}
  ~FilterResources();
  FilterResources(const FilterResources&) = delete;
  FilterResources& operator=(const FilterResources&) = delete;

  // The fetcher of `uri`, started on first use. Its settings are the first caller's until the
  // fetcher is dropped (a changed refresh interval applies once no snapshot uses the old one).
  std::shared_ptr<const JwksSource> remoteJwks(const std::string& uri,
                                               const RemoteJwksSettings& settings);
  // The buckets of `identity` (the rule and everything its limit depends on): the ones serving
  // now when there are, else new ones.
  std::shared_ptr<ratelimit::TokenBucketTable> buckets(const std::string& identity,
                                                       const ratelimit::BucketPolicy& policy,
                                                       size_t maxKeys);
  // The key set of a Secret's JWKS text: the one parsed before for the same text (so verified
  // tokens stay cached across rebuilds), else a new parse; the parse error otherwise.
  Expected<std::shared_ptr<const JwksSource>, std::string> staticJwks(const std::string& jwks);
  // One verified-token cache per worker for `identity` (the rule and its JWT settings): the ones
  // serving now when there are, else new ones. Each worker touches only its own, so the old and
  // the new snapshot may share them.
  std::shared_ptr<std::vector<auth::VerifiedTokenCache>> tokenCaches(const std::string& identity,
                                                                     size_t workers,
                                                                     size_t capacity);
  // A snapshot built with what was handed out since the last commit() now serves: everything it
  // did not ask for is released (fetchers stopped).
  void commit();
  // The build failed: what it asked for is not counted as used.
  void abandon() { used_.clear(); }

 private:
  boost::asio::io_context& context_;
  metrics::CounterFamily* jwksFetches_;
  std::map<std::string, std::shared_ptr<RemoteJwks>> jwks_;
  std::map<std::string, std::shared_ptr<ratelimit::TokenBucketTable>> buckets_;
  std::map<std::string, std::shared_ptr<const JwksSource>> staticJwks_;  // by JWKS text
  std::map<std::string, std::shared_ptr<std::vector<auth::VerifiedTokenCache>>> tokenCaches_;
  // "jwks:<uri>", "rl:<identity>", "sj:<text>", "tc:<identity>" asked for since commit().
  std::set<std::string> used_;
};

}  // namespace meshgate::dp
