// JwksSource: where a JWT rule's signing keys come from at the moment of a request — fixed (a
// Secret's jwks.json, parsed when the snapshot was built) or fetched from an https `uri` by
// RemoteJwks (remote_jwks.h), which replaces its set as it refetches. current() is called on
// worker threads for every token that is not in the verified-token cache; it never blocks on I/O.
#pragma once

#include <memory>

#include "dataplane/auth/jwk_set.h"

namespace meshgate::dp {

class JwksSource {
 public:
  virtual ~JwksSource() = default;
  // The keys to verify with now; null while none were ever obtained (the rule answers 503).
  virtual std::shared_ptr<const auth::JwkSet> current() const = 0;
  // A token named a kid the current set lacks: a remote source refetches soon (rate-limited), so
  // a key rotated in at the issuer is picked up without waiting for the refresh interval.
  virtual void unknownKeyId() const {}
};

class StaticJwks final : public JwksSource {
 public:
  explicit StaticJwks(std::shared_ptr<const auth::JwkSet> keys) : keys_(std::move(keys)) {}
  std::shared_ptr<const auth::JwkSet> current() const override { return keys_; }

 private:
  std::shared_ptr<const auth::JwkSet> keys_;
};

}  // namespace meshgate::dp
