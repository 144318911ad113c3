// meshgatectl: offline tools for meshgate manifests — `validate -f FILE…` checks them,
// `render -f PATH…` prints what the operator would write for them. The work is done in
// cli/validate_command.cc and cli/render_command.cc; main only parses the command line.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/render_command.h"
#include "cli/validate_command.h"

int main(int argc, char** argv) {
  CLI::App app{"meshgatectl: offline tools for meshgate manifests"};
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
  renderCommand
      ->add_option("-f,--filename", render.paths,
                   "Manifest file or directory (recursive: *.yaml, *.yml, *.json), - for stdin; "
                   "repeatable")
      ->required();
  renderCommand
      ->add_option("-n,--namespace", render.defaultNamespace, "Namespace of objects that name none")
      ->capture_default_str();
  renderCommand
      ->add_option("--show", sections,
                   "Sections to print, comma-separated: objects (Kubernetes objects only, for "
                   "kubectl), status, snapshots")
      ->delimiter(',')
      ->check(CLI::IsMember({"objects", "status", "snapshots"}))
      ->capture_default_str();

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
  return 0;
}
