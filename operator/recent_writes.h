// RecentWrites remembers, per object, the last write a controller made to it: what it wrote (a
// digest), which resourceVersion the cache showed when it wrote, and which one the apiserver
// answered with. A reconcile that runs before the informer has delivered that write (another
// event woke it first) would otherwise see the stale cached object and send the same write
// again; with this it recognises the write as already made. This is what client-go controllers
// call expectations.
//
// An entry lives until the informer delivers any event for the object (its own write coming
// back, another change, a deletion): the handlers from forgetOnEvents() drop it before the
// reconcile that event causes runs, so from then on the cache alone decides. Events that arrive
// while the write is still in flight (between begin() and record()) are remembered with it, so
// a write whose own event came first — or a deletion that overtook it — is never mistaken for
// one still on its way. Thread-safe: one per reconciler, shared by its workers.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kube/informer.h"

namespace meshgate::op {

class RecentWrites {
 public:
  // A write to `key` is about to be sent.
  void begin(const std::string& key);
  // It succeeded: content `digest`, made while the cache showed `cachedVersion` ("" when the
  // object was not cached), answered with `writtenVersion`.
  void record(const std::string& key, const std::string& digest, const std::string& cachedVersion,
              const std::string& writtenVersion);
  // It failed: nothing to remember.
  void abandon(const std::string& key);

  // True when writing `digest` to `key` would repeat the remembered write: the same content, and
  // the cache still shows the version it showed before that write. Otherwise the entry (if
  // any) is dropped and the caller compares with the cache as usual.
  bool alreadyWritten(const std::string& key, const std::string& digest,
                      const std::string& cachedVersion);

  // The informer delivered an event for `key` (its object now at `version`, "" once deleted).
  void observed(const std::string& key, const std::string& version);

  // Handlers for the informer of `resource` (the prefix of the keys: "services",
  // "meshservices/status"): every add, update or delete of an object is observed().
  kube::EventHandlers forgetOnEvents(std::string resource);

  std::size_t size() const;

 private:
  struct Write {
    bool inFlight = true;
    std::vector<std::string> seenInFlight;  // versions the informer delivered meanwhile
    std::string digest;
    std::string cachedVersion;
    std::string writtenVersion;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Write> writes_;
};

}  // namespace meshgate::op
