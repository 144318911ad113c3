// meshgatectl: tools for meshgate manifests — `validate -f FILE…` checks them, `render -f PATH…`
// prints what the operator would write for them, `diff -f PATH…` compares that with the cluster.
// The work is done in cli/validate_command.cc, cli/render_command.cc and cli/diff_command.cc;
// main only parses the command line.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/cluster_connection.h"
#include "cli/diff_command.h"
#include "cli/render_command.h"
#include "cli/validate_command.h"
#include "kube/clock.h"

namespace {

// -f (files, directories, -) and -n (the namespace of objects that name none), as render and
// diff read manifests the same way.
void addManifestOptions(CLI::App& command, std::vector<std::string>& paths,
                        std::string& defaultNamespace) {
  command
      .add_option("-f,--filename", paths,
                  "Manifest file or directory (recursive: *.yaml, *.yml, *.json), - for stdin; "
                  "repeatable")
      ->required();
  command.add_option("-n,--namespace", defaultNamespace, "Namespace of objects that name none")
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"meshgatectl: tools for meshgate manifests"};
  app.require_subcommand(1);

  std::vector<std::string> files;
  CLI::App* validate = app.add_subcommand(
      "validate", "Validate MeshService and ApiRoute manifests (YAML or JSON, multi-document)");
  validate->add_option("-f,--filename", files, "Manifest file to validate, - for stdin; repeatable")
      ->required();

  meshgate::cli::RenderOptions render;
  std::vector<std::string> sections = {"objects", "status", "snapshots"};
  CLI::App* renderCommand = app.add_subcommand(
      "render",
      "Print what meshgate-operator would write for MeshServices, ApiRoutes and Namespaces: "
      "Services, EndpointSlices and Ingresses, status conditions and gateway snapshots, as one "
      "YAML stream sorted by kind, namespace and name. Exit 0: every object accepted; 1: one "
      "is invalid, not allowed or conflicted (named on stderr); 2: a path cannot be read");
  addManifestOptions(*renderCommand, render.paths, render.defaultNamespace);
  renderCommand
      ->add_option("--show", sections,
                   "Sections to print, comma-separated: objects (Kubernetes objects only, for "
                   "kubectl), status, snapshots")
      ->delimiter(',')
      ->check(CLI::IsMember({"objects", "status", "snapshots"}))
      ->capture_default_str();

  meshgate::cli::DiffOptions diff;
  std::string kubeconfig;
  CLI::App* diffCommand = app.add_subcommand(
      "diff",
      "Compare the Services, EndpointSlices and Ingresses `render` prints with the cluster, like "
      "kubectl diff: what would be created, updated (each differing field) or deleted. Exit 0: "
      "no differences; 1: differences; 2: a path cannot be read or a usage error; 3: the "
      "cluster cannot be read (named on stderr)");
  addManifestOptions(*diffCommand, diff.paths, diff.defaultNamespace);
  diffCommand->add_option("--kubeconfig", kubeconfig,
                          "Kubeconfig file; default $KUBECONFIG, else the in-cluster config");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help exits 0; every usage error exits 2, like an unreadable input.
    return app.exit(e) == 0 ? 0 : meshgate::cli::kRenderInputError;
  }

  if (validate->parsed()) {
    return meshgate::cli::runValidate(files, std::cin, std::cout, std::cerr);
  }
  if (renderCommand->parsed()) {
    auto shown = [&](const char* section) {
      return std::find(sections.begin(), sections.end(), section) != sections.end();
    };
    render.objects = shown("objects");
    render.status = shown("status");
    render.snapshots = shown("snapshots");
    return meshgate::cli::runRender(render, std::cin, std::cout, std::cerr);
  }
  if (diffCommand->parsed()) {
    kube::SystemClock clock;
    return meshgate::cli::runDiff(
        diff, [&] { return meshgate::cli::connectToCluster(kubeconfig, clock); }, std::cin,
        std::cout, std::cerr);
  }
  return 0;
}
