// meshgate-proxy: the gateway proxy, standalone (a config file) — see docs/PROXY_CONFIG.md.
//   meshgate-proxy --config proxy.yaml [--concurrency N] [--log-level info] [--no-watch]
#include <thread>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "dataplane/proxy/proxy_server.h"

int main(int argc, char** argv) {
  meshgate::dp::ProxyServerOptions options;
  options.concurrency = std::max(1u, std::thread::hardware_concurrency());
  std::string logLevel = "info";
  bool noWatch = false;
  CLI::App app{"meshgate-proxy: the meshgate gateway proxy"};
  app.add_option("--config", options.configPath, "Config file (YAML or JSON)")->required();
  app.add_option("--concurrency", options.concurrency, "Worker threads (default: cores)")
      ->check(CLI::Range(1, 256));
  app.add_option("--log-level", logLevel, "trace|debug|info|warn|error");
  app.add_flag("--no-watch", noWatch, "Reload only on SIGHUP, not when the file changes");
  CLI11_PARSE(app, argc, argv);
  options.watchFile = !noWatch;

  spdlog::set_level(spdlog::level::from_str(logLevel));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  // A client that disconnects mid-write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  meshgate::dp::ProxyServer server(std::move(options));
  return server.run();
}
