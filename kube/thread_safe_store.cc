// ThreadSafeStore: object map, index maintenance on each write, and the relist swap.
#include "kube/thread_safe_store.h"

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace kube {

namespace {

std::string stringAt(const nlohmann::json& obj, const char* field) {
  auto metadata = obj.find("metadata");
  if (metadata == obj.end() || !metadata->is_object()) return "";
  auto value = metadata->find(field);
  if (value == metadata->end() || !value->is_string()) return "";
  return value->get<std::string>();
}

}  // namespace

std::vector<std::string> namespaceIndexFunc(const nlohmann::json& obj) {
  return {stringAt(obj, "namespace")};
}

std::string keyOf(const nlohmann::json& obj) {
  std::string name = stringAt(obj, "name");
  if (name.empty()) throw std::invalid_argument("keyOf: object has no metadata.name");
  std::string ns = stringAt(obj, "namespace");
  return ns.empty() ? name : ns + "/" + name;
}

std::pair<std::string, std::string> splitKey(std::string_view key) {
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) return {"", std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

ThreadSafeStore::IndexValues ThreadSafeStore::valuesOf(const IndexFuncs& funcs,
                                                       const nlohmann::json* obj) {
  IndexValues values;
  values.reserve(funcs.size());
  for (const auto& [name, fn] : funcs) {
    std::vector<std::string> v;
    if (obj != nullptr) {
      v = fn(*obj);
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
    }
    values.push_back(std::move(v));
  }
  return values;
}

ThreadSafeStore::Indices ThreadSafeStore::buildIndices(const IndexFuncs& funcs,
                                                       const Items& items) {
  Indices indices;
  for (const auto& [name, fn] : funcs)
    indices[name];
  for (const auto& [key, obj] : items) {
    for (const auto& [name, fn] : funcs) {
      Index& index = indices[name];
      for (auto& value : fn(*obj))
        index[std::move(value)].insert(key);
    }
  }
  return indices;
}

void ThreadSafeStore::addIndexer(const std::string& name, IndexFunc fn) {
  if (!fn) throw std::invalid_argument("addIndexer: empty IndexFunc for " + name);
  std::lock_guard<std::mutex> guard(mutex_);
  if (indexFuncs_.count(name) != 0) {
    throw std::invalid_argument("addIndexer: index " + name + " already exists");
  }
  Index index;
  for (const auto& [key, obj] : items_) {
    for (auto& value : fn(*obj))
      index[std::move(value)].insert(key);
  }
  indexFuncs_.emplace(name, std::move(fn));
  indices_.emplace(name, std::move(index));
}

ObjectSharedPtr ThreadSafeStore::add(const std::string& key, ObjectSharedPtr obj) {
  return upsert(key, std::move(obj));
}

ObjectSharedPtr ThreadSafeStore::update(const std::string& key, ObjectSharedPtr obj) {
  return upsert(key, std::move(obj));
}

ObjectSharedPtr ThreadSafeStore::upsert(const std::string& key, ObjectSharedPtr obj) {
  if (!obj) throw std::invalid_argument("ThreadSafeStore: null object for " + key);
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = items_.find(key);
  ObjectSharedPtr old = it == items_.end() ? nullptr : it->second;
  // Everything that can throw happens before the first mutation.
  const IndexValues newValues = valuesOf(indexFuncs_, obj.get());
  const IndexValues oldValues = valuesOf(indexFuncs_, old.get());
  if (it == items_.end()) {
    items_.emplace(key, std::move(obj));
  } else {
    it->second = std::move(obj);
  }
  reindexLocked(key, oldValues, newValues);
  return old;
}

ObjectSharedPtr ThreadSafeStore::remove(const std::string& key) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  const IndexValues oldValues = valuesOf(indexFuncs_, it->second.get());
  const IndexValues newValues = valuesOf(indexFuncs_, nullptr);
  ObjectSharedPtr old = std::move(it->second);
  items_.erase(it);
  reindexLocked(key, oldValues, newValues);
  return old;
}

void ThreadSafeStore::reindexLocked(const std::string& key, const IndexValues& oldValues,
                                    const IndexValues& newValues) {
  std::size_t i = 0;
  for (const auto& [name, fn] : indexFuncs_) {
    Index& index = indices_[name];
    const auto& before = oldValues[i];
    const auto& after = newValues[i];
    ++i;
    if (before == after) continue;
    // Both are sorted and distinct, so binary search tells which values the key leaves.
    for (const auto& value : before) {
      if (std::binary_search(after.begin(), after.end(), value)) continue;
      auto bucket = index.find(value);
      if (bucket == index.end()) continue;
      bucket->second.erase(key);
      // Drop empty buckets so that values of deleted objects do not accumulate forever.
      if (bucket->second.empty()) index.erase(bucket);
    }
    for (const auto& value : after)
      index[value].insert(key);
  }
}

ObjectSharedPtr ThreadSafeStore::get(const std::string& key) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectSharedPtr> ThreadSafeStore::list() const {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<ObjectSharedPtr> out;
  out.reserve(items_.size());
  for (const auto& [key, obj] : items_)
    out.push_back(obj);
  return out;
}

std::vector<std::string> ThreadSafeStore::listKeys() const {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [key, obj] : items_)
    out.push_back(key);
  return out;
}

std::size_t ThreadSafeStore::size() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return items_.size();
}

const ThreadSafeStore::Index& ThreadSafeStore::indexLocked(const std::string& indexName) const {
  auto it = indices_.find(indexName);
  if (it == indices_.end()) throw std::invalid_argument("no index named " + indexName);
  return it->second;
}

std::vector<ObjectSharedPtr> ThreadSafeStore::byIndex(const std::string& indexName,
                                                      const std::string& value) const {
  std::lock_guard<std::mutex> guard(mutex_);
  const Index& index = indexLocked(indexName);
  std::vector<ObjectSharedPtr> out;
  auto bucket = index.find(value);
  if (bucket == index.end()) return out;
  out.reserve(bucket->second.size());
  for (const auto& key : bucket->second)
    out.push_back(items_.at(key));
  return out;
}

std::vector<std::string> ThreadSafeStore::indexKeys(const std::string& indexName,
                                                    const std::string& value) const {
  std::lock_guard<std::mutex> guard(mutex_);
  const Index& index = indexLocked(indexName);
  auto bucket = index.find(value);
  if (bucket == index.end()) return {};
  return {bucket->second.begin(), bucket->second.end()};
}

std::vector<StoreEntry> ThreadSafeStore::replace(std::vector<StoreEntry> items,
                                                 std::string resourceVersion) {
  Items newItems;
  newItems.reserve(items.size());
  for (auto& entry : items) {
    if (!entry.object) throw std::invalid_argument("ThreadSafeStore: null object for " + entry.key);
    newItems.insert_or_assign(std::move(entry.key), std::move(entry.object));
  }

  // Index the new content outside the lock (a relist can be large), with a copy of the index
  // functions; redo it under the lock only if an indexer was added in between.
  IndexFuncs funcs;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    funcs = indexFuncs_;
  }
  Indices newIndices = buildIndices(funcs, newItems);

  std::vector<StoreEntry> vanished;
  Items oldItems;
  Indices oldIndices;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (indexFuncs_.size() != funcs.size()) newIndices = buildIndices(indexFuncs_, newItems);
    for (const auto& [key, obj] : items_) {
      if (newItems.count(key) == 0) vanished.push_back({key, obj});
    }
    oldItems = std::exchange(items_, std::move(newItems));
    oldIndices = std::exchange(indices_, std::move(newIndices));
    resourceVersion_ = std::move(resourceVersion);
  }
  // oldItems / oldIndices are destroyed here, outside the lock.
  return vanished;
}

std::string ThreadSafeStore::resourceVersion() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return resourceVersion_;
}

}  // namespace kube
