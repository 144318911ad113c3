// RecentWrites remembers, per object, the last write a controller made to it: what it wrote (a
// digest), which resourceVersion the cache showed when it wrote, and which one the apiserver
// answered with. A reconcile that runs before the informer has delivered that write (another
// event woke it first) would otherwise see the stale cached object and send the same write
// again; with this it recognises the write as already made. This is what client-go controllers
// call expectations. Thread-safe: one per reconciler, shared by its workers.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

namespace meshgate::op {

class RecentWrites {
 public:
  // A write of content `digest` to `key`, made while the cache showed `cachedVersion` ("" when
  // the object was not cached), answered with `writtenVersion`.
  void record(const std::string& key, const std::string& digest, const std::string& cachedVersion,
              const std::string& writtenVersion);

  // True when writing `digest` to `key` would repeat the remembered write: the same content, and
  // the cache still shows the version it showed before that write. False once the cache has
  // moved on (caught up with the write, or someone else changed the object): the entry is
  // dropped and the caller compares with the cache as usual.
  bool alreadyWritten(const std::string& key, const std::string& digest,
                      const std::string& cachedVersion);

  std::size_t size() const;

 private:
  struct Write {
    std::string digest;
    std::string cachedVersion;
    std::string writtenVersion;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Write> writes_;
};

}  // namespace meshgate::op
