// Ketama ring: build by hashing "<key>_<i>", look up by binary search.
#include "dataplane/upstream/ring_hash.h"

#include <algorithm>
#include <charconv>

namespace meshgate::dp {
namespace {

// FNV-1a, 64-bit: a byte-at-a-time hash defined by its two constants, hence the same everywhere.
constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t fnv1a(uint64_t state, std::string_view bytes) {
  for (const char c : bytes) {
    state ^= static_cast<unsigned char>(c);
    state *= kFnvPrime;
  }
  return state;
}

// FNV-1a alone mixes its last bytes poorly ("host_1" and "host_2" land close together), which
// would cluster an endpoint's points; a 64-bit finalizer (MurmurHash3's fmix64) spreads every
// input bit over the whole word.
uint64_t finalize(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// Points per unit of weight: the configured count, raised so that the ring reaches minRingSize
// and lowered (to no fewer than 1) to stay under maxRingSize. An integer, so that an endpoint's
// point count depends only on its own weight while the bounds do not bind: then adding or
// removing one endpoint leaves every other endpoint's points where they were.
uint64_t pointsPerWeightFor(const RingHashConfig& config, uint64_t totalWeight) {
  uint64_t perWeight = std::max<uint64_t>(config.pointsPerWeight, 1);
  if (perWeight * totalWeight < config.minRingSize)
    perWeight = (config.minRingSize + totalWeight - 1) / totalWeight;
  if (perWeight * totalWeight > config.maxRingSize)
    perWeight = std::max<uint64_t>(config.maxRingSize / totalWeight, 1);
  return perWeight;
}

}  // namespace

RingHash::RingHash(const std::vector<RingEndpoint>& endpoints, const RingHashConfig& config) {
  uint64_t totalWeight = 0;
  for (const auto& endpoint : endpoints)
    totalWeight += endpoint.weight;
  if (totalWeight == 0) return;
  pointsPerWeight_ = pointsPerWeightFor(config, totalWeight);

  struct Point {
    uint64_t hash;
    uint32_t owner;
  };
  std::vector<Point> points;
  points.reserve(totalWeight * pointsPerWeight_);
  for (size_t owner = 0; owner < endpoints.size(); owner++) {
    const auto& endpoint = endpoints[owner];
    // The "<key>_" prefix is hashed once; each point continues from that state with its number.
    const uint64_t prefixState = fnv1a(fnv1a(kFnvOffsetBasis, endpoint.key), "_");
    const uint64_t count = endpoint.weight * pointsPerWeight_;
    for (uint64_t i = 0; i < count; i++) {
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof digits, i).ptr;
      const std::string_view number(digits, static_cast<size_t>(end - digits));
      points.push_back({finalize(fnv1a(prefixState, number)), static_cast<uint32_t>(owner)});
    }
  }
  // Equal hashes (about one in a million rings at the maximum size) are ordered by endpoint key,
  // not by index, so the outcome does not depend on the order endpoints were listed in.
  std::sort(points.begin(), points.end(), [&](const Point& a, const Point& b) {
    if (a.hash != b.hash) return a.hash < b.hash;
    return endpoints[a.owner].key < endpoints[b.owner].key;
  });
  pointHashes_.reserve(points.size());
  pointOwners_.reserve(points.size());
  for (const auto& point : points) {
    pointHashes_.push_back(point.hash);
    pointOwners_.push_back(point.owner);
  }
}

std::optional<size_t> RingHash::pick(uint64_t requestHash) const {
  if (pointHashes_.empty()) return std::nullopt;
  const auto it = std::lower_bound(pointHashes_.begin(), pointHashes_.end(), requestHash);
  const size_t index =
      it == pointHashes_.end() ? 0 : static_cast<size_t>(it - pointHashes_.begin());
  return pointOwners_[index];
}

uint64_t RingHash::hashKey(std::string_view key) {
  return finalize(fnv1a(kFnvOffsetBasis, key));
}

}  // namespace meshgate::dp
