// ThreadSafeStore is the informer's local cache of Kubernetes objects, keyed by `namespace/name`
// and searchable through named indexes. The informer writes it (add/update/remove per watch
// event, replace after a relist); reconcilers and listers read it from worker threads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace kube {

// Cached objects are immutable and shared: a reader's pointer stays valid and unchanged while
// the store moves on to a newer version of the object, and reads copy no JSON.
using ObjectSharedPtr = std::shared_ptr<const nlohmann::json>;

// Maps an object to the index values it is filed under (none, one or several).
using IndexFunc = std::function<std::vector<std::string>(const nlohmann::json&)>;

// The name under which callers conventionally register namespaceIndexFunc.
inline constexpr std::string_view kNamespaceIndex = "namespace";

// Files an object under its metadata.namespace ("" for cluster-scoped objects).
std::vector<std::string> namespaceIndexFunc(const nlohmann::json& obj);

/**
 * The cache key of an object: "namespace/name", or "name" for cluster-scoped objects (no or empty
 * metadata.namespace). Throws std::invalid_argument if metadata.name is missing or empty.
 */
std::string keyOf(const nlohmann::json& obj);

// Splits a key made by keyOf() into {namespace, name}; namespace is "" for "name".
std::pair<std::string, std::string> splitKey(std::string_view key);

struct StoreEntry {
  std::string key;
  ObjectSharedPtr object;
};

/**
 * Objects by key plus secondary indexes. Thread-safe: reads return shared pointers (no copies
 * of the JSON) and writes keep every index consistent with the objects. One plain mutex guards
 * everything: reads hold it only to copy pointers, and unlike glibc's reader-preferring
 * shared_mutex it cannot starve the informer's writes under a steady stream of readers. If an
 * IndexFunc throws, the write is abandoned and the store is left unchanged. Results of list(),
 * listKeys(), byIndex() and indexKeys() are in no particular order.
 */
class ThreadSafeStore {
 public:
  /**
   * Registers an index and files the objects already stored in it. Throws std::invalid_argument
   * if name is taken or fn is empty.
   */
  void addIndexer(const std::string& name, IndexFunc fn);

  /**
   * Inserts or replaces the object under key and returns the previous one (null if none). add
   * and update are the same upsert, named after the watch events that cause them. Throws
   * std::invalid_argument for a null object.
   */
  ObjectSharedPtr add(const std::string& key, ObjectSharedPtr obj);
  ObjectSharedPtr update(const std::string& key, ObjectSharedPtr obj);

  // Removes key and returns the object it held (null if none).
  ObjectSharedPtr remove(const std::string& key);

  // Null if key is absent.
  ObjectSharedPtr get(const std::string& key) const;

  std::vector<ObjectSharedPtr> list() const;
  std::vector<std::string> listKeys() const;
  std::size_t size() const;

  // Objects / keys filed under value in the named index. Throws std::invalid_argument for an
  // unknown index.
  std::vector<ObjectSharedPtr> byIndex(const std::string& indexName,
                                       const std::string& value) const;
  std::vector<std::string> indexKeys(const std::string& indexName, const std::string& value) const;

  /**
   * Atomically swaps the whole content for items (a relist's result; on duplicate keys the last
   * wins) and records resourceVersion. Returns the entries that were stored but are not in items,
   * with their last known object, so the informer can emit deletes for them.
   */
  std::vector<StoreEntry> replace(std::vector<StoreEntry> items, std::string resourceVersion);

  // The resourceVersion given to the last replace() ("" before any).
  std::string resourceVersion() const;

 private:
  // index value -> keys filed under it
  using Index = std::unordered_map<std::string, std::unordered_set<std::string>>;
  using Items = std::unordered_map<std::string, ObjectSharedPtr>;
  using IndexFuncs = std::map<std::string, IndexFunc>;
  using Indices = std::unordered_map<std::string, Index>;
  // Per index function (in IndexFuncs order), the distinct values of one object.
  using IndexValues = std::vector<std::vector<std::string>>;

  static IndexValues valuesOf(const IndexFuncs& funcs, const nlohmann::json* obj);
  static Indices buildIndices(const IndexFuncs& funcs, const Items& items);
  ObjectSharedPtr upsert(const std::string& key, ObjectSharedPtr obj);
  void reindexLocked(const std::string& key, const IndexValues& oldValues,
                     const IndexValues& newValues);
  const Index& indexLocked(const std::string& indexName) const;

  mutable std::mutex mutex_;
  // All guarded by mutex_.
  Items items_;
  IndexFuncs indexFuncs_;
  Indices indices_;
  std::string resourceVersion_;
};
using ThreadSafeStorePtr = std::unique_ptr<ThreadSafeStore>;

}  // namespace kube
