// The kube/ client against a real kube-apiserver: CRUD, optimistic concurrency, patches,
// server-side apply, the status subresource, pagination, watches across an apiserver restart,
// relist after 410 Gone (etcd compacted behind a stopped apiserver), and strict SAN-only TLS
// verification.
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "cluster_fixture.h"
#include "kube/clock.h"
#include "kube/informer.h"
#include "kube/kubeconfig_loader.h"

namespace meshgate::testing {
namespace {

using kube::resources::kConfigMaps;
using nlohmann::json;

json configMap(const std::string& ns, const std::string& name, json data = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", data}};
}

// Handler calls seen by an informer, by object name.
class SeenNames {
 public:
  kube::EventHandlers handlers() {
    return {[this](const kube::ObjectSharedPtr& o) { add(o); },
            [this](const kube::ObjectSharedPtr&, const kube::ObjectSharedPtr& o) { add(o); },
            nullptr};
  }
  std::set<std::string> names() {
    std::lock_guard lock(mutex_);
    return names_;
  }

 private:
  void add(const kube::ObjectSharedPtr& o) {
    std::lock_guard lock(mutex_);
    names_.insert((*o)["metadata"]["name"].get<std::string>());
  }
  std::mutex mutex_;
  std::set<std::string> names_;
};

class KubeClientIntegrationTest : public ClusterFixture {};

TEST_F(KubeClientIntegrationTest, ConfigMapCrudWithOptimisticConcurrency) {
  auto created = client().create(kConfigMaps, ns(), configMap(ns(), "settings", {{"a", "1"}}));
  ASSERT_TRUE(created.ok()) << created.error().toString();
  auto again = client().create(kConfigMaps, ns(), configMap(ns(), "settings"));
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.error().isAlreadyExists()) << again.error().toString();

  auto fetched = client().get(kConfigMaps, ns(), "settings");
  ASSERT_TRUE(fetched.ok());
  json stale = *fetched;
  json changed = *fetched;
  changed["data"]["a"] = "2";
  auto updated = client().update(kConfigMaps, changed);
  ASSERT_TRUE(updated.ok()) << updated.error().toString();
  EXPECT_EQ((*updated)["data"]["a"], "2");

  stale["data"]["a"] = "3";
  auto conflict = client().update(kConfigMaps, stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, 409);
  EXPECT_TRUE(conflict.error().isConflict()) << conflict.error().toString();

  auto merged = client().patch(kConfigMaps, ns(), "settings", kube::PatchType::Merge,
                               R"({"data":{"b":"merged"}})");
  ASSERT_TRUE(merged.ok()) << merged.error().toString();
  EXPECT_EQ((*merged)["data"]["b"], "merged");
  auto jsonPatched = client().patch(kConfigMaps, ns(), "settings", kube::PatchType::Json,
                                    R"([{"op":"remove","path":"/data/a"}])");
  ASSERT_TRUE(jsonPatched.ok()) << jsonPatched.error().toString();
  EXPECT_FALSE((*jsonPatched)["data"].contains("a"));

  kube::DeleteOptions wrongUid;
  wrongUid.preconditionUid = "00000000-0000-0000-0000-000000000000";
  auto refused = client().remove(kConfigMaps, ns(), "settings", wrongUid);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, 409);
  kube::DeleteOptions background;
  background.propagationPolicy = "Background";
  ASSERT_TRUE(client().remove(kConfigMaps, ns(), "settings", background).ok());
  auto gone = client().get(kConfigMaps, ns(), "settings");
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.error().isNotFound());
}

TEST_F(KubeClientIntegrationTest, ServerSideApplyOwnsFieldsByManager) {
  auto applied = client().apply(kConfigMaps, configMap(ns(), "owned", {{"x", "1"}}), "meshgate");
  ASSERT_TRUE(applied.ok()) << applied.error().toString();
  const std::string firstVersion = (*applied)["metadata"]["resourceVersion"];
  // The same intent again changes nothing on the server.
  auto same = client().apply(kConfigMaps, configMap(ns(), "owned", {{"x", "1"}}), "meshgate");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ((*same)["metadata"]["resourceVersion"], firstVersion);

  // Another manager taking the field conflicts unless it forces.
  auto conflict = client().apply(kConfigMaps, configMap(ns(), "owned", {{"x", "2"}}), "intruder",
                                 /*force=*/false);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, 409);
  auto forced = client().apply(kConfigMaps, configMap(ns(), "owned", {{"x", "2"}}), "intruder");
  ASSERT_TRUE(forced.ok()) << forced.error().toString();
  std::set<std::string> managers;
  for (const auto& entry : (*forced)["metadata"]["managedFields"]) {
    managers.insert(entry["manager"].get<std::string>());
  }
  EXPECT_TRUE(managers.count("intruder")) << (*forced)["metadata"]["managedFields"].dump();
}

TEST_F(KubeClientIntegrationTest, MeshServiceSpecAndStatusSubresource) {
  const auto& gvr = kube::resources::kMeshServices;
  json meshService = {
      {"apiVersion", "meshgate.io/v1alpha1"},
      {"kind", "MeshService"},
      {"metadata", {{"name", "orders"}, {"namespace", ns()}}},
      {"spec",
       {{"selector", {{"app", "orders"}}}, {"ports", {{{"name", "http"}, {"port", 8080}}}}}}};
  auto applied = client().apply(gvr, meshService, "meshgate");
  ASSERT_TRUE(applied.ok()) << applied.error().toString();
  EXPECT_EQ((*applied)["metadata"]["generation"], 1);

  json status = {
      {"apiVersion", "meshgate.io/v1alpha1"},
      {"kind", "MeshService"},
      {"metadata", {{"name", "orders"}, {"namespace", ns()}}},
      {"status", {{"observedGeneration", 1}, {"endpoints", {{"ready", 0}, {"total", 0}}}}}};
  auto withStatus = client().apply(gvr, status, "meshgate", true, "status");
  ASSERT_TRUE(withStatus.ok()) << withStatus.error().toString();
  EXPECT_EQ((*withStatus)["status"]["observedGeneration"], 1);
  // A status write does not bump the generation; a spec write through the main resource does
  // not touch status.
  EXPECT_EQ((*withStatus)["metadata"]["generation"], 1);
  auto fetched = client().get(gvr, ns(), "orders", "status");
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ((*fetched)["status"]["endpoints"]["total"], 0);
  meshService["spec"]["ports"][0]["port"] = 9090;
  meshService["status"] = {{"observedGeneration", 99}};
  auto respec = client().apply(gvr, meshService, "meshgate");
  ASSERT_TRUE(respec.ok()) << respec.error().toString();
  EXPECT_EQ((*respec)["metadata"]["generation"], 2);
  EXPECT_EQ((*respec)["status"]["observedGeneration"], 1);
}

TEST_F(KubeClientIntegrationTest, ListPaginatesTwelveHundredConfigMaps) {
  constexpr int kCount = 1200;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 8; w++) {
    writers.emplace_back([&, w] {
      for (int i = w; i < kCount; i += 8) {
        auto cm = configMap(ns(), "cm-" + std::to_string(i));
        cm["metadata"]["labels"] = {{"batch", "paging"}};
        if (!client().create(kConfigMaps, ns(), cm).ok()) {
          failures++;
        }
      }
    });
  }
  for (auto& t : writers)
    t.join();
  ASSERT_EQ(failures.load(), 0);

  const auto before = client().requestCounts()["GET"];
  kube::ListOptions options;
  options.limit = 100;
  options.labelSelector = "batch=paging";  // leaves out the namespace's kube-root-ca.crt
  auto all = client().listAll(kConfigMaps, ns(), options);
  ASSERT_TRUE(all.ok()) << all.error().toString();
  EXPECT_EQ((*all)["items"].size(), static_cast<size_t>(kCount));
  std::set<std::string> names;
  for (const auto& item : (*all)["items"])
    names.insert(item["metadata"]["name"].get<std::string>());
  EXPECT_EQ(names.size(), static_cast<size_t>(kCount));
  // 1200 items at 100 per page.
  EXPECT_GE(client().requestCounts()["GET"] - before, 12u);
}

TEST_F(KubeClientIntegrationTest, InformerWatchSurvivesApiserverRestart) {
  kube::Informer informer(client(), kConfigMaps, ns(), {}, clock());
  SeenNames seen;
  informer.addEventHandlers(seen.handlers());
  informer.start();
  ASSERT_TRUE(informer.waitForSync(std::chrono::seconds(30)));
  ASSERT_TRUE(client().create(kConfigMaps, ns(), configMap(ns(), "before-restart")).ok());
  ASSERT_TRUE(
      eventually(std::chrono::seconds(10), [&] { return seen.names().count("before-restart"); }));

  clusterScript("--restart-apiserver");

  ASSERT_TRUE(eventually(std::chrono::seconds(60), [&] {
    return client().create(kConfigMaps, ns(), configMap(ns(), "after-restart")).ok();
  }));
  ASSERT_TRUE(eventually(std::chrono::seconds(60), [&] {
    return seen.names().count("after-restart");
  })) << "the informer never saw the object created after the restart";
  // The cache holds exactly what the server holds.
  auto listed = client().listAll(kConfigMaps, ns());
  ASSERT_TRUE(listed.ok());
  std::set<std::string> serverNames;
  for (const auto& item : (*listed)["items"])
    serverNames.insert(item["metadata"]["name"].get<std::string>());
  ASSERT_TRUE(eventually(std::chrono::seconds(10), [&] {
    std::set<std::string> cached;
    for (const auto& key : informer.store().listKeys())
      cached.insert(kube::splitKey(key).second);
    return cached == serverNames;
  }));
  informer.stop();
}

TEST_F(KubeClientIntegrationTest, InformerRelistsAfterGone) {
  kube::Informer informer(client(), kConfigMaps, ns(), {}, clock());
  SeenNames seen;
  informer.addEventHandlers(seen.handlers());
  informer.start();
  ASSERT_TRUE(informer.waitForSync(std::chrono::seconds(30)));
  EXPECT_EQ(informer.listCount(), 1);

  // Move etcd far past the informer's resourceVersion elsewhere, compact it away, and break the
  // watch: resuming from the old version must fail with 410 and force a relist.
  const std::string other = ns() + "-other";
  ASSERT_TRUE(
      client()
          .create(kube::resources::kNamespaces, "",
                  {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", other}}}})
          .ok());
  for (int i = 0; i < 50; i++) {
    ASSERT_TRUE(
        client().create(kConfigMaps, other, configMap(other, "burst-" + std::to_string(i))).ok());
  }
  clusterScript("--stop-apiserver");
  compactEtcd();
  clusterScript("--start-apiserver");
  ASSERT_TRUE(eventually(std::chrono::seconds(60), [&] { return informer.listCount() >= 2; }))
      << "no relist after the compaction; listCount=" << informer.listCount();
  ASSERT_TRUE(eventually(std::chrono::seconds(30), [&] {
    return client().create(kConfigMaps, ns(), configMap(ns(), "after-relist")).ok();
  }));
  ASSERT_TRUE(
      eventually(std::chrono::seconds(30), [&] { return seen.names().count("after-relist"); }));
  informer.stop();
  (void)client().remove(kube::resources::kNamespaces, "", other);
}

TEST_F(KubeClientIntegrationTest, TlsVerifiesTheSanNotTheCommonName) {
  // The apiserver's certificate says CN=kube-apiserver but its SANs are 127.0.0.1, localhost and
  // the kubernetes service names: a name only in the CN must be refused.
  auto cnOnly = config();
  cnOnly.tlsServerName = "kube-apiserver";
  auto client = kube::RestClient::create(cnOnly, clock());
  ASSERT_TRUE(client.ok());
  auto refused = (*client)->get(kube::resources::kNamespaces, "", "default");
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.error().isNetwork());
  EXPECT_NE(refused.error().message.find("TLS handshake"), std::string::npos)
      << refused.error().toString();

  auto sanName = config();
  sanName.tlsServerName = "localhost";
  auto good = kube::RestClient::create(sanName, clock());
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE((*good)->get(kube::resources::kNamespaces, "", "default").ok());

  auto untrusted = config();
  untrusted.caPem.clear();  // system roots do not include the local CA
  auto strangers = kube::RestClient::create(untrusted, clock());
  ASSERT_TRUE(strangers.ok());
  EXPECT_FALSE((*strangers)->get(kube::resources::kNamespaces, "", "default").ok());
}

TEST_F(KubeClientIntegrationTest, OperatorIdentityHoldsOnlyItsRbac) {
  std::string dir = clusterDir();
  auto operatorConfig = kube::loadKubeconfig(dir + "/operator.kubeconfig");
  ASSERT_TRUE(operatorConfig.ok()) << operatorConfig.error().toString();
  auto operatorClient = kube::RestClient::create(*operatorConfig, clock());
  ASSERT_TRUE(operatorClient.ok());
  // Deployments: nothing in config/rbac grants them to the operator (it reads pods, for subsets).
  auto denied = (*operatorClient)->list(kube::resources::kDeployments, ns());
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, 403);
  EXPECT_EQ(denied.error().reason, "Forbidden");
  auto allowed = (*operatorClient)->list(kube::resources::kMeshServices, "");
  EXPECT_TRUE(allowed.ok()) << allowed.error().toString();
}

}  // namespace
}  // namespace meshgate::testing
