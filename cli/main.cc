// meshgatectl: offline tools for meshgate manifests. Today: `meshgatectl validate -f FILE…`.
// The work is done in cli/validate_command.cc; main only parses the command line.
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/validate_command.h"

int main(int argc, char** argv) {
  CLI::App app{"meshgatectl: offline tools for meshgate manifests"};
  app.require_subcommand(1);

  std::vector<std::string> files;
  CLI::App* validate = app.add_subcommand(
      "validate", "Validate MeshService and ApiRoute manifests (YAML or JSON, multi-document)");
  validate->add_option("-f,--filename", files, "Manifest file to validate, - for stdin; repeatable")
      ->required();

  CLI11_PARSE(app, argc, argv);

  if (validate->parsed()) {
    return meshgate::cli::runValidate(files, std::cin, std::cout, std::cerr);
  }
  return 0;
}
