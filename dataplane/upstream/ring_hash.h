// Consistent hashing on a ring (ketama, as Envoy's RING_HASH): requests with the same key (a
// header value, a cookie, the source IP) go to the same endpoint, and when an endpoint joins or
// leaves only the keys of that endpoint move. Each endpoint puts points on a 64-bit ring in
// proportion to its weight, at hashes of "<key>_<i>"; a request goes to the owner of the first
// point at or after its hash, wrapping around. The hash is this file's own (FNV-1a then a 64-bit
// finalizer), so every proxy, on every platform and run, builds the same ring.
// Built once per endpoint set and never changed: pick() is const, so one ring may be shared by
// all workers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshgate::dp {

struct RingHashConfig {
  // Ring points per unit of weight (ketama uses 160). More points spread keys more evenly
  // (an endpoint's share is off by about 1/sqrt(points)) at the cost of memory and build time.
  uint32_t pointsPerWeight = 160;
  // Small clusters get more points per weight, so that the ring holds at least this many, and
  // large ones fewer, down to one per unit of weight, to stay under the maximum (as Envoy's
  // minimum_ring_size and maximum_ring_size).
  uint64_t minRingSize = 1024;
  uint64_t maxRingSize = 8 * 1024 * 1024;
};

struct RingEndpoint {
  std::string key;      // stable identity, e.g. "10.0.0.1:8080"; decides where its points go
  uint32_t weight = 1;  // 0: no points, never picked
};

class RingHash {
 public:
  explicit RingHash(const std::vector<RingEndpoint>& endpoints, const RingHashConfig& config = {});

  // The index (into the constructor's endpoints) owning the first point at or after requestHash,
  // wrapping around; nullopt when the ring is empty (no endpoint of weight > 0).
  std::optional<size_t> pick(uint64_t requestHash) const;

  // The stable hash the proxy applies to a request's key before pick(): the same text gives the
  // same value in every process.
  static uint64_t hashKey(std::string_view key);

  size_t size() const { return pointHashes_.size(); }
  // Points per unit of weight the ring was built with (pointsPerWeight after the size bounds).
  uint64_t pointsPerWeight() const { return pointsPerWeight_; }

 private:
  // Sorted ring: pointHashes_[i] is owned by endpoint pointOwners_[i]. Two arrays rather than one
  // of pairs: the binary search walks only the hashes.
  std::vector<uint64_t> pointHashes_;
  std::vector<uint32_t> pointOwners_;
  uint64_t pointsPerWeight_ = 0;
};

}  // namespace meshgate::dp
