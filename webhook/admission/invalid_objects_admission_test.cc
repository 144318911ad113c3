// The table of invalid objects the webhook denies, shared with the e2e suite: every
// test/e2e/testdata/webhook_invalid/NN_<what>.yaml holds one MeshService or ApiRoute. Its
// `# expect:` line is the substring the e2e test looks for in kubectl's output (also true of
// the CRD schema's message when the schema rejects the object first); its `# denial:` line is
// the webhook's exact message, checked here through the apiserver's order: mutate, apply the
// patch, validate.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/yaml_loader.h"
#include "webhook/admission/api_route_admission.h"
#include "webhook/admission/mesh_service_admission.h"
#include "webhook/core/fake_cluster_view.h"

namespace meshgate::webhook {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTableDir = "test/e2e/testdata/webhook_invalid";
constexpr const char* kNamespace = "wh-invalid";
constexpr std::string_view kHostSuffix = ".invalid.example.com";

// The table from the repository root (ctest's working directory), else found from this source
// file, so the binary also runs from the build directory.
fs::path tableDir() {
  if (fs::is_directory(kTableDir)) return kTableDir;
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / kTableDir;
}

std::vector<std::string> tableFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(tableDir(), ec)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct Expectation {
  std::string expect;
  std::string denial;
};

Expectation readExpectation(const fs::path& path) {
  Expectation out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line) && !line.empty() && line[0] == '#') {
    for (auto [prefix, field] :
         {std::pair{"# expect: ", &out.expect}, {"# denial: ", &out.denial}}) {
      if (line.rfind(prefix, 0) == 0) *field = line.substr(std::string_view(prefix).size());
    }
  }
  return out;
}

class WebhookInvalidObjectTest : public testing::TestWithParam<std::string> {};

TEST_P(WebhookInvalidObjectTest, IsDeniedWithTheListedMessage) {
  const fs::path path = tableDir() / GetParam();
  std::ifstream first(path);
  std::string firstLine;
  std::getline(first, firstLine);
  ASSERT_EQ(firstLine.rfind("# expect: ", 0), 0u) << path << " must start with '# expect: '";
  const Expectation expected = readExpectation(path);
  ASSERT_FALSE(expected.denial.empty()) << path << " lists no '# denial:' line";
  EXPECT_NE(expected.denial.find(expected.expect), std::string::npos)
      << path << ": the e2e substring is not part of the webhook's message";

  const auto loaded = api::loadYamlFile(path.string());
  ASSERT_TRUE(loaded.ok()) << loaded.error;
  ASSERT_EQ(loaded.documents.size(), 1u) << path;
  const nlohmann::json& object = loaded.documents[0];
  ASSERT_EQ(object["metadata"].value("namespace", ""), kNamespace) << path;
  for (const auto& host : object["spec"].value("hosts", nlohmann::json::array())) {
    const std::string h = host.get<std::string>();
    EXPECT_TRUE(h.size() > kHostSuffix.size() && h.ends_with(kHostSuffix)) << path << ": " << h;
  }

  AdmissionRequest request;
  request.uid = "uid-1";
  request.operation = "CREATE";
  request.namespace_ = kNamespace;
  request.name = object["metadata"].value("name", "");
  request.object = object;
  FakeClusterView view;
  view.addNamespace(kNamespace);
  const WebhookConfig config;
  const std::string kind = object.value("kind", "");
  AdmissionDecision decision;
  if (kind == "MeshService") {
    const AdmissionDecision mutation = mutateMeshService(request);
    ASSERT_TRUE(mutation.allowed) << mutation.message;
    if (mutation.patch) request.object = request.object.patch(*mutation.patch);
    decision = validateMeshService(request, config, view);
  } else {
    ASSERT_EQ(kind, "ApiRoute") << path;
    const AdmissionDecision mutation = mutateApiRoute(request);
    ASSERT_TRUE(mutation.allowed) << mutation.message;
    if (mutation.patch) request.object = request.object.patch(*mutation.patch);
    decision = validateApiRoute(request, config, view);
  }
  EXPECT_FALSE(decision.allowed) << path;
  EXPECT_EQ(decision.code, 422) << path;
  EXPECT_EQ(decision.reason, "Invalid") << path;
  EXPECT_EQ(decision.message, expected.denial) << path;
}

std::string testName(const testing::TestParamInfo<std::string>& info) {
  std::string name = "f" + info.param.substr(0, info.param.size() - std::string(".yaml").size());
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
      '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(E2eBatch, WebhookInvalidObjectTest, testing::ValuesIn(tableFiles()),
                         testName);

TEST(WebhookInvalidObjectTableTest, HoldsTwentyDistinctCasesOfBothKinds) {
  const auto files = tableFiles();
  ASSERT_GE(files.size(), 20u) << "looked in " << tableDir();
  std::set<std::string> kinds;
  std::set<std::string> messages;
  for (const auto& file : files) {
    const auto loaded = api::loadYamlFile((tableDir() / file).string());
    ASSERT_TRUE(loaded.ok() && loaded.documents.size() == 1) << file;
    kinds.insert(loaded.documents[0].value("kind", ""));
    messages.insert(readExpectation(tableDir() / file).denial);
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"ApiRoute", "MeshService"}));
  EXPECT_EQ(messages.size(), files.size()) << "two files expect the same denial";
}

}  // namespace
}  // namespace meshgate::webhook
