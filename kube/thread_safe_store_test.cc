// Tests for ThreadSafeStore: keys, CRUD, index maintenance, replace() after a relist, and readers
// holding shared objects while writers move on.
#include "kube/thread_safe_store.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace kube {
namespace {

using nlohmann::json;

ObjectSharedPtr object(const std::string& ns, const std::string& name, json labels = json::object(),
                       int generation = 1) {
  json obj = {{"metadata", {{"name", name}, {"labels", labels}}},
              {"spec", {{"generation", generation}, {"copy", generation}}}};
  if (!ns.empty()) obj["metadata"]["namespace"] = ns;
  return std::make_shared<const json>(std::move(obj));
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> keysOf(const std::vector<ObjectSharedPtr>& objects) {
  std::vector<std::string> keys;
  for (const auto& obj : objects)
    keys.push_back(keyOf(*obj));
  return sorted(keys);
}

// Files an object under each of its label values "k=v".
std::vector<std::string> labelIndex(const json& obj) {
  std::vector<std::string> values;
  for (const auto& [k, v] : obj["metadata"]["labels"].items()) {
    values.push_back(k + "=" + v.get<std::string>());
  }
  return values;
}

TEST(ThreadSafeStoreKeyTest, NamespacedAndClusterScopedKeys) {
  EXPECT_EQ(keyOf(*object("prod", "web")), "prod/web");
  EXPECT_EQ(keyOf(*object("", "node-1")), "node-1");
  EXPECT_EQ(keyOf(json{{"metadata", {{"name", "x"}, {"namespace", ""}}}}), "x");
  EXPECT_THROW(keyOf(json{{"metadata", {{"namespace", "prod"}}}}), std::invalid_argument);
  EXPECT_THROW(keyOf(json::array()), std::invalid_argument);
  EXPECT_EQ(splitKey("prod/web"), std::make_pair(std::string("prod"), std::string("web")));
  EXPECT_EQ(splitKey("node-1"), std::make_pair(std::string(""), std::string("node-1")));
}

TEST(ThreadSafeStoreTest, AddGetListRemove) {
  ThreadSafeStore store;
  EXPECT_EQ(store.add("prod/web", object("prod", "web")), nullptr);
  store.add("prod/db", object("prod", "db"));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.get("prod/web")->at("metadata").at("name"), "web");
  EXPECT_EQ(store.get("prod/none"), nullptr);
  EXPECT_EQ(sorted(store.listKeys()), (std::vector<std::string>{"prod/db", "prod/web"}));
  EXPECT_EQ(keysOf(store.list()), (std::vector<std::string>{"prod/db", "prod/web"}));

  auto previous = store.update("prod/web", object("prod", "web", json::object(), 2));
  ASSERT_NE(previous, nullptr);
  EXPECT_EQ(previous->at("spec").at("generation"), 1);
  EXPECT_EQ(store.get("prod/web")->at("spec").at("generation"), 2);

  auto removed = store.remove("prod/web");
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed->at("spec").at("generation"), 2);
  EXPECT_EQ(store.remove("prod/web"), nullptr);
  EXPECT_EQ(store.listKeys(), std::vector<std::string>{"prod/db"});
  EXPECT_THROW(store.add("prod/x", nullptr), std::invalid_argument);
}

TEST(ThreadSafeStoreTest, NamespaceIndexFollowsUpdateAndRemove) {
  ThreadSafeStore store;
  store.addIndexer(std::string(kNamespaceIndex), namespaceIndexFunc);
  store.add("prod/web", object("prod", "web"));
  store.add("prod/db", object("prod", "db"));
  store.add("dev/web", object("dev", "web"));
  store.add("node-1", object("", "node-1"));

  EXPECT_EQ(sorted(store.indexKeys("namespace", "prod")),
            (std::vector<std::string>{"prod/db", "prod/web"}));
  EXPECT_EQ(keysOf(store.byIndex("namespace", "dev")), std::vector<std::string>{"dev/web"});
  EXPECT_EQ(store.indexKeys("namespace", ""), std::vector<std::string>{"node-1"});

  // The key stays, the object moves: the index must follow the object.
  store.update("prod/db", object("staging", "db"));
  EXPECT_EQ(store.indexKeys("namespace", "prod"), std::vector<std::string>{"prod/web"});
  EXPECT_EQ(store.indexKeys("namespace", "staging"), std::vector<std::string>{"prod/db"});

  store.remove("prod/web");
  EXPECT_TRUE(store.indexKeys("namespace", "prod").empty());
  EXPECT_TRUE(store.byIndex("namespace", "prod").empty());
}

TEST(ThreadSafeStoreTest, MultiValueIndexTracksChangedValues) {
  ThreadSafeStore store;
  store.addIndexer("labels", labelIndex);
  store.add("prod/web", object("prod", "web", {{"app", "web"}, {"tier", "front"}}));
  store.add("prod/api", object("prod", "api", {{"app", "api"}, {"tier", "front"}}));
  EXPECT_EQ(sorted(store.indexKeys("labels", "tier=front")),
            (std::vector<std::string>{"prod/api", "prod/web"}));

  store.update("prod/web", object("prod", "web", {{"app", "web"}, {"tier", "edge"}}));
  EXPECT_EQ(store.indexKeys("labels", "tier=front"), std::vector<std::string>{"prod/api"});
  EXPECT_EQ(store.indexKeys("labels", "tier=edge"), std::vector<std::string>{"prod/web"});
  EXPECT_EQ(store.indexKeys("labels", "app=web"), std::vector<std::string>{"prod/web"});
}

TEST(ThreadSafeStoreTest, IndexFuncReturningDuplicatesFilesKeyOnce) {
  ThreadSafeStore store;
  store.addIndexer("dup", [](const json&) { return std::vector<std::string>{"x", "x"}; });
  store.add("k", object("", "k"));
  EXPECT_EQ(store.indexKeys("dup", "x"), std::vector<std::string>{"k"});
  store.remove("k");
  EXPECT_TRUE(store.indexKeys("dup", "x").empty());
}

TEST(ThreadSafeStoreTest, AddIndexerFilesExistingObjects) {
  ThreadSafeStore store;
  store.add("prod/web", object("prod", "web"));
  store.addIndexer(std::string(kNamespaceIndex), namespaceIndexFunc);
  EXPECT_EQ(store.indexKeys("namespace", "prod"), std::vector<std::string>{"prod/web"});
}

TEST(ThreadSafeStoreTest, UnknownOrDuplicateIndexIsAnError) {
  ThreadSafeStore store;
  store.addIndexer("namespace", namespaceIndexFunc);
  EXPECT_THROW(store.addIndexer("namespace", namespaceIndexFunc), std::invalid_argument);
  EXPECT_THROW(store.addIndexer("empty", IndexFunc()), std::invalid_argument);
  EXPECT_THROW(store.byIndex("nope", "x"), std::invalid_argument);
  EXPECT_THROW(store.indexKeys("nope", "x"), std::invalid_argument);
}

TEST(ThreadSafeStoreTest, ThrowingIndexFuncLeavesStoreUnchanged) {
  ThreadSafeStore store;
  store.addIndexer("namespace", namespaceIndexFunc);
  store.addIndexer("picky", [](const json& obj) {
    if (obj.at("spec").at("generation") == 13) throw std::runtime_error("unlucky");
    return std::vector<std::string>{"ok"};
  });
  store.add("prod/web", object("prod", "web"));
  EXPECT_THROW(store.update("prod/web", object("dev", "web", json::object(), 13)),
               std::runtime_error);
  EXPECT_EQ(store.get("prod/web")->at("spec").at("generation"), 1);
  EXPECT_EQ(store.indexKeys("namespace", "prod"), std::vector<std::string>{"prod/web"});
  EXPECT_TRUE(store.indexKeys("namespace", "dev").empty());
}

TEST(ThreadSafeStoreTest, ReplaceSwapsContentAndReturnsVanishedEntries) {
  ThreadSafeStore store;
  store.addIndexer("namespace", namespaceIndexFunc);
  store.add("prod/a", object("prod", "a"));
  store.add("prod/b", object("prod", "b"));
  store.add("dev/c", object("dev", "c"));

  auto vanished = store.replace(
      {{"prod/b", object("prod", "b", json::object(), 2)}, {"dev/d", object("dev", "d")}}, "42");

  std::sort(vanished.begin(), vanished.end(),
            [](const StoreEntry& l, const StoreEntry& r) { return l.key < r.key; });
  ASSERT_EQ(vanished.size(), 2u);
  EXPECT_EQ(vanished[0].key, "dev/c");
  EXPECT_EQ(keyOf(*vanished[0].object), "dev/c");
  EXPECT_EQ(vanished[1].key, "prod/a");

  EXPECT_EQ(sorted(store.listKeys()), (std::vector<std::string>{"dev/d", "prod/b"}));
  EXPECT_EQ(store.get("prod/b")->at("spec").at("generation"), 2);
  EXPECT_EQ(store.indexKeys("namespace", "prod"), std::vector<std::string>{"prod/b"});
  EXPECT_EQ(store.indexKeys("namespace", "dev"), std::vector<std::string>{"dev/d"});
  EXPECT_EQ(store.resourceVersion(), "42");

  EXPECT_EQ(store.replace({}, "43").size(), 2u);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_TRUE(store.indexKeys("namespace", "dev").empty());
}

// Writers keep replacing objects (and the whole content) while readers hold on to what they read.
// A reader's object must never change under it, and every object must be internally consistent
// (spec.generation == spec.copy). Run under TSAN to check the locking.
TEST(ThreadSafeStoreTest, ReadersKeepTheirObjectsWhileWritersReplaceThem) {
  constexpr int kKeys = 8;
  constexpr int kWrites = 600;
  ThreadSafeStore store;
  store.addIndexer("namespace", namespaceIndexFunc);
  for (int k = 0; k < kKeys; ++k) {
    const std::string name = "obj-" + std::to_string(k);
    store.add("prod/" + name, object("prod", name));
  }

  std::atomic<bool> writing{true};
  std::atomic<int> inconsistent{0};
  std::atomic<int> reads{0};

  auto writer = [&](int id) {
    for (int i = 1; i <= kWrites; ++i) {
      const std::string name = "obj-" + std::to_string((i + id) % kKeys);
      if (i % 150 == 0) {
        std::vector<StoreEntry> all;
        for (int k = 0; k < kKeys; ++k) {
          const std::string n = "obj-" + std::to_string(k);
          all.push_back({"prod/" + n, object("prod", n, json::object(), i)});
        }
        store.replace(std::move(all), std::to_string(i));
      } else {
        store.update("prod/" + name, object("prod", name, json::object(), i));
      }
    }
  };
  auto consistent = [](const ObjectSharedPtr& obj) {
    return obj && obj->at("spec").at("generation") == obj->at("spec").at("copy");
  };
  auto reader = [&] {
    ObjectSharedPtr held = store.get("prod/obj-0");
    const json heldCopy = *held;
    // At least one pass even when the writers finish before this thread is scheduled.
    do {
      for (const auto& obj : store.byIndex("namespace", "prod")) {
        if (!consistent(obj)) ++inconsistent;
      }
      for (const auto& obj : store.list()) {
        if (!consistent(obj)) ++inconsistent;
      }
      if (!consistent(store.get("prod/obj-3"))) ++inconsistent;
      ++reads;
    } while (writing);
    // The writers have replaced obj-0 many times; our pointer still sees what we read.
    if (*held != heldCopy) ++inconsistent;
  };

  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r)
    readers.emplace_back(reader);
  std::thread w1(writer, 0);
  std::thread w2(writer, 1);
  w1.join();
  w2.join();
  writing = false;
  for (auto& r : readers)
    r.join();

  EXPECT_EQ(inconsistent, 0);
  EXPECT_GT(reads, 0);
  EXPECT_EQ(store.size(), static_cast<std::size_t>(kKeys));
  EXPECT_EQ(store.indexKeys("namespace", "prod").size(), static_cast<std::size_t>(kKeys));
}

}  // namespace
}  // namespace kube
