// Tests for cli/diff_command.h, driven with string streams and a fake apiserver (a FakeTransport
// answering from an in-memory set of objects): exit codes 0/1/2/3, the report's lines for each
// kind of difference, errors that name what failed, and what is read (GET and LIST of Services,
// EndpointSlices and Ingresses in the input's namespaces — never Secrets).
#include "cli/diff_command.h"

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/rendered_objects.h"
#include "kube/fake_transport.h"
#include "kube/group_version_resource.h"

namespace meshgate::cli {
namespace {

using nlohmann::json;

// MeshService shop/web (static endpoint, port 80 → TARGET_PORT) and ApiRoute shop/storefront
// to it, with the uids `kubectl get -o yaml` would show.
std::string manifests(int targetPort = 9090) {
  return R"(apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: web, namespace: shop, uid: uid-web}
spec:
  endpoints: [{address: 10.0.0.11}]
  ports: [{name: http, port: 80, targetPort: )" +
         std::to_string(targetPort) + R"(}]
---
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: storefront, namespace: shop, uid: uid-storefront}
spec:
  hosts: [shop.example.com]
  rules:
  - matches: [{path: {value: /}}]
    backends: [{service: web, port: 80}]
)";
}

std::string percentDecoded(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); i++) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// An apiserver holding `objects` (by their REST path), answering GET of one and LIST by
// labelSelector "key=value"; `failures` answer a path (or a collection) with that status.
class FakeCluster {
 public:
  void add(json object) {
    auto& metadata = object["metadata"];
    metadata["uid"] = "live-" + metadata.value("name", "");
    metadata["resourceVersion"] = "42";
    metadata["managedFields"] = json::array({{{"manager", "meshgate"}}});
    const std::string path = pathOf(object);
    objects_[path] = std::move(object);
  }
  // The children the operator applies for `text`, as render computes them (the same code);
  // only the one named `onlyName` when given.
  void addRenderedFrom(const std::string& text, const std::string& onlyName = "") {
    std::istringstream in(text);
    std::ostringstream err;
    for (auto& object : renderObjects({"-"}, "default", in, err).objects) {
      if (onlyName.empty() || object["metadata"]["name"] == onlyName) add(std::move(object));
    }
  }
  void fail(const std::string& path, int status) { failures_[path] = status; }

  ClusterConnector connector() {
    return [this]() -> kube::Result<kube::RestClientPtr> {
      connections_++;
      auto transport = std::make_shared<kube::FakeTransport>();
      transport->setFallback([this](const kube::HttpRequest& request) { return answer(request); });
      transport_ = transport;
      kube::RestClientOptions options;
      options.qps = 0;
      options.maxRetries = 0;
      options.sleep = [](std::chrono::milliseconds) {};
      return std::make_unique<kube::RestClient>(transport, options);
    };
  }
  int connections() const { return connections_; }
  std::vector<kube::HttpRequest> sent() const {
    return transport_ ? transport_->sent() : std::vector<kube::HttpRequest>{};
  }

 private:
  static std::string pathOf(const json& object) {
    const std::string kind = object.value("kind", "");
    const auto& gvr = kind == "Service"         ? kube::resources::kServices
                      : kind == "EndpointSlice" ? kube::resources::kEndpointSlices
                                                : kube::resources::kIngresses;
    return gvr.path(object["metadata"].value("namespace", ""),
                    object["metadata"].value("name", ""));
  }

  static kube::HttpResponse response(int status, const json& body) {
    kube::HttpResponse out;
    out.status = status;
    out.body = body.dump();
    return out;
  }

  kube::Result<kube::HttpResponse> answer(const kube::HttpRequest& request) {
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (auto failure = failures_.find(path); failure != failures_.end()) {
      return response(failure->second, {{"kind", "Status"},
                                        {"code", failure->second},
                                        {"reason", "Forbidden"},
                                        {"message", "access denied"}});
    }
    if (path == request.target) {
      auto found = objects_.find(path);
      if (found == objects_.end())
        return response(404, {{"kind", "Status"}, {"code", 404}, {"reason", "NotFound"}});
      return response(200, found->second);
    }
    const std::string query = percentDecoded(request.target.substr(path.size() + 1));
    const auto selectorAt = query.find("labelSelector=") + std::string("labelSelector=").size();
    const std::string selector = query.substr(selectorAt, query.find('&', selectorAt) - selectorAt);
    const std::string key = selector.substr(0, selector.find('='));
    const std::string value = selector.substr(selector.find('=') + 1);
    json items = json::array();
    for (const auto& [objectPath, object] : objects_) {
      if (objectPath.rfind(path + "/", 0) != 0) continue;
      if (object["metadata"]["labels"].value(key, "") != value) continue;
      json item = object;
      item.erase("kind");  // as the apiserver lists them
      items.push_back(item);
    }
    return response(200, {{"kind", "List"}, {"metadata", json::object()}, {"items", items}});
  }

  std::map<std::string, json> objects_;
  std::map<std::string, int> failures_;
  std::shared_ptr<kube::FakeTransport> transport_;
  int connections_ = 0;
};

struct DiffRun {
  int code = -1;
  std::string out;
  std::string err;
};

DiffRun diff(FakeCluster& cluster, const std::string& stdinText,
             std::vector<std::string> paths = {"-"}) {
  DiffOptions options;
  options.paths = std::move(paths);
  std::istringstream in(stdinText);
  std::ostringstream out;
  std::ostringstream err;
  DiffRun run;
  run.code = runDiff(options, cluster.connector(), in, out, err);
  run.out = out.str();
  run.err = err.str();
  return run;
}

TEST(DiffCommandTest, ClusterAsTheOperatorLeftItIsUpToDateAndExitsZero) {
  FakeCluster cluster;
  cluster.addRenderedFrom(manifests());
  const DiffRun run = diff(cluster, manifests());
  EXPECT_EQ(run.code, kDiffNoChanges) << run.out << run.err;
  EXPECT_EQ(run.out,
            "= EndpointSlice shop/web-static-ipv4: up to date (applied-hash equal)\n"
            "= Ingress shop/storefront: up to date (applied-hash equal)\n"
            "= Service shop/web: up to date (applied-hash equal)\n"
            "0 to create, 0 to update, 0 to delete, 3 unchanged\n");
  EXPECT_EQ(run.err, "");
}

TEST(DiffCommandTest, ChangedPortExitsOneAndNamesEachPathThatDiffers) {
  FakeCluster cluster;
  cluster.addRenderedFrom(manifests(8080));
  const DiffRun run = diff(cluster, manifests(9090));
  EXPECT_EQ(run.code, kDiffChanges) << run.out << run.err;
  EXPECT_NE(run.out.find("~ EndpointSlice shop/web-static-ipv4: would be updated\n"
                         "    ports[0].port: live 8080, rendered 9090\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("~ Service shop/web: would be updated\n"
                         "    spec.ports[0].targetPort: live 8080, rendered 9090\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("= Ingress shop/storefront: up to date"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("0 to create, 2 to update, 0 to delete, 1 unchanged\n"),
            std::string::npos);
}

TEST(DiffCommandTest, ObjectsMissingFromTheClusterWouldBeCreatedAndAreShownWhole) {
  FakeCluster cluster;
  const DiffRun run = diff(cluster, manifests());
  EXPECT_EQ(run.code, kDiffChanges) << run.out << run.err;
  EXPECT_NE(run.out.find("+ Ingress shop/storefront: would be created\n"
                         "    apiVersion: networking.k8s.io/v1\n"
                         "    kind: Ingress\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("+ Service shop/web: would be created\n"), std::string::npos);
  EXPECT_NE(run.out.find("3 to create, 0 to update, 0 to delete, 0 unchanged\n"),
            std::string::npos);
}

TEST(DiffCommandTest, StaticSliceRenderNoLongerProducesWouldBeDeleted) {
  FakeCluster cluster;
  cluster.addRenderedFrom(manifests());
  cluster.addRenderedFrom(R"(apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: web, namespace: shop, uid: uid-web}
spec:
  endpoints: [{address: "fd00::11"}]
  ports: [{name: http, port: 80, targetPort: 9090}]
)",
                          "web-static-ipv6");
  const DiffRun run = diff(cluster, manifests());
  EXPECT_EQ(run.code, kDiffChanges) << run.out << run.err;
  EXPECT_NE(run.out.find("- EndpointSlice shop/web-static-ipv6: would be deleted (the operator "
                         "deletes it: MeshService shop/web no longer produces it)\n"),
            std::string::npos)
      << run.out;
}

TEST(DiffCommandTest, ChildrenOfAnInvalidMeshServiceAreLeftAsTheyAre) {
  // The operator stops at an invalid spec and touches no child: nothing would change.
  FakeCluster cluster;
  cluster.addRenderedFrom(manifests(), "web");
  const DiffRun run = diff(cluster, R"(apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: web, namespace: shop, uid: uid-web}
spec:
  ports: [{name: http, port: 70000}]
)");
  EXPECT_EQ(run.code, kDiffNoChanges) << run.out << run.err;
  EXPECT_EQ(run.out,
            "= Service shop/web: left as it is (its owner MeshService shop/web is invalid: the "
            "operator leaves its children)\n"
            "0 to create, 0 to update, 0 to delete, 1 unchanged\n");
  EXPECT_NE(run.err.find("<stdin>: MeshService/shop/web: Accepted=False Invalid: "),
            std::string::npos)
      << run.err;
}

TEST(DiffCommandTest, ForbiddenReadExitsThreeNamingTheObjectAndPrintsNoReport) {
  FakeCluster cluster;
  cluster.addRenderedFrom(manifests());
  cluster.fail(kube::resources::kServices.path("shop", "web"), 403);
  const DiffRun run = diff(cluster, manifests());
  EXPECT_EQ(run.code, kDiffClusterError);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("meshgatectl diff: Service shop/web: "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("403"), std::string::npos) << run.err;
}

TEST(DiffCommandTest, ForbiddenListExitsThreeNamingTheNamespace) {
  FakeCluster cluster;
  cluster.fail(kube::resources::kIngresses.path("shop"), 403);
  const DiffRun run = diff(cluster, manifests());
  EXPECT_EQ(run.code, kDiffClusterError);
  EXPECT_NE(run.err.find("meshgatectl diff: list ingresses in namespace shop "), std::string::npos)
      << run.err;
}

TEST(DiffCommandTest, UnreachableClusterExitsThree) {
  DiffOptions options;
  options.paths = {"-"};
  std::istringstream in(manifests());
  std::ostringstream out;
  std::ostringstream err;
  const int code = runDiff(
      options,
      []() -> kube::Result<kube::RestClientPtr> {
        return kube::ApiError::network("connect 127.0.0.1:1: connection refused");
      },
      in, out, err);
  EXPECT_EQ(code, kDiffClusterError);
  EXPECT_EQ(out.str(), "");
  EXPECT_NE(err.str().find("cannot reach the cluster: "), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("connection refused"), std::string::npos) << err.str();
}

TEST(DiffCommandTest, UnreadableInputExitsTwoWithoutConnecting) {
  FakeCluster cluster;
  const DiffRun run = diff(cluster, "", {"cli/testdata/no-such-dir"});
  EXPECT_EQ(run.code, kDiffInputError);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("cli/testdata/no-such-dir"), std::string::npos) << run.err;
  EXPECT_EQ(cluster.connections(), 0);
}

TEST(DiffCommandTest, ReadsOnlyChildKindsOfTheInputNamespacesNeverSecrets) {
  FakeCluster cluster;
  cluster.addRenderedFrom(manifests());
  const DiffRun run = diff(cluster, manifests());
  ASSERT_EQ(run.code, kDiffNoChanges) << run.out << run.err;
  const auto sent = cluster.sent();
  ASSERT_FALSE(sent.empty());
  for (const auto& request : sent) {
    EXPECT_EQ(request.method, "GET") << request.target;
    const bool child = request.target.find("/services") != std::string::npos ||
                       request.target.find("/endpointslices") != std::string::npos ||
                       request.target.find("/ingresses") != std::string::npos;
    EXPECT_TRUE(child) << request.target;
    EXPECT_NE(request.target.find("/namespaces/shop/"), std::string::npos) << request.target;
  }
}

}  // namespace
}  // namespace meshgate::cli
