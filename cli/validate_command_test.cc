// Tests for cli/validate_command.h, driven with string streams instead of a process.
#include "cli/validate_command.h"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace meshgate::cli {
namespace {

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

RunResult run(const std::vector<std::string>& files, const std::string& stdinText = "") {
  std::istringstream in(stdinText);
  std::ostringstream out;
  std::ostringstream err;
  RunResult r;
  r.code = runValidate(files, in, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

TEST(ValidateCommandTest, ValidFilesPrintTheCountAndExitZero) {
  const RunResult r = run({"api/testdata/valid/mesh-service-minimal.yaml",
                           "api/testdata/valid/api-route-gateway.yaml"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "2 objects valid\n");
}

TEST(ValidateCommandTest, PrintsFileKindNameAndErrorAndExitsOne) {
  const std::string file = "api/testdata/invalid/125-ar-backend-weight-too-large.yaml";
  const RunResult r = run({file});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, file +
                       ": ApiRoute/shop: spec.rules[0].backends[0].weight: Invalid value: 1001: "
                       "must be between 0 and 1000, inclusive\n");
  EXPECT_EQ(r.err, "1 of 1 objects invalid\n");
}

TEST(ValidateCommandTest, ReadsStdinAndSkipsOtherKindsWithANote) {
  const RunResult r = run({"-"}, R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
---
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata:
  name: pay
spec:
  selector: {app: pay}
  ports: [{name: http, port: 8080}]
)");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "1 objects valid\n");
  EXPECT_EQ(r.err,
            "<stdin>: skipping v1/ConfigMap settings: not a meshgate.io/v1alpha1 MeshService or "
            "ApiRoute\n");
}

TEST(ValidateCommandTest, PrintsDecodeErrorsLikeValidationErrors) {
  const RunResult r = run({"-"}, R"({"apiVersion": "meshgate.io/v1alpha1", "kind": "MeshService",
    "metadata": {"name": "pay"}, "spec": {"ports": [{"name": "http", "port": "abc"}]}})");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out,
            "<stdin>: MeshService/pay: spec.ports[0].port: Invalid value: \"abc\": expected an "
            "integer\n");
}

TEST(ValidateCommandTest, ReportsEveryErrorOfEveryDocument) {
  const RunResult r = run({"-"}, R"(apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: a}
spec:
  rules: [{backends: [{service: a, port: 80}]}]
---
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: b}
spec: {}
)");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out,
            "<stdin>: ApiRoute/a: spec.hosts: Required value\n"
            "<stdin>: MeshService/b: spec: Required value: at least one of selector or endpoints "
            "must be set\n"
            "<stdin>: MeshService/b: spec.ports: Required value\n");
  EXPECT_EQ(r.err, "2 of 2 objects invalid\n");
}

TEST(ValidateCommandTest, ReportsYamlSyntaxErrorsWithTheLine) {
  const RunResult r = run({"-"}, "kind: MeshService\nspec: [1, 2\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out.rfind("<stdin>:", 0), 0u) << r.out;
}

TEST(ValidateCommandTest, MissingFilesFailTheRun) {
  const RunResult r = run({"api/testdata/valid/mesh-service-minimal.yaml", "does/not/exist.yaml"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "does/not/exist.yaml: No such file or directory\n");
  EXPECT_EQ(r.err, "0 of 1 objects invalid, some files could not be loaded\n");
}

TEST(ValidateCommandTest, ChecksTheItemsOfAKubectlList) {
  const RunResult r = run({"-"}, R"(apiVersion: v1
kind: List
items:
- apiVersion: meshgate.io/v1alpha1
  kind: MeshService
  metadata: {name: pay}
  spec: {selector: {app: pay}, ports: [{name: http, port: 8080}]}
- apiVersion: meshgate.io/v1alpha1
  kind: MeshService
  metadata: {name: Bad}
  spec: {selector: {app: pay}, ports: [{name: http, port: 8080}]}
)");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out,
            "<stdin>: MeshService/Bad: metadata.name: Invalid value: \"Bad\": must be a lowercase "
            "RFC 1123 subdomain, at most 253 characters\n");
}

TEST(ValidateCommandTest, DocumentsThatAreNotObjectsAreErrors) {
  const RunResult r = run({"-"}, "just a sentence\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "<stdin>: document 1: Invalid value: \"just a sentence\": expected an object\n");
}

}  // namespace
}  // namespace meshgate::cli
