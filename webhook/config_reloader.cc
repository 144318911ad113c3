// Load, watch and swap the webhook's config; see webhook/config_reloader.h.
#include "webhook/config_reloader.h"

#include <spdlog/spdlog.h>

#include "base/read_file.h"

namespace meshgate::webhook {

meshgate::Expected<WebhookConfigPtr, std::string> ConfigReloader::read(
    const std::string& path, const ConfigOverrides& overrides) {
  WebhookConfig config;
  if (!path.empty()) {
    std::string error;
    auto text = meshgate::readFileText(path, error);
    if (!text) return path + ": " + error;
    auto parsed = parseWebhookConfig(*text);
    if (!parsed) return path + ": " + parsed.error();
    config = std::move(*parsed);
  }
  applyOverrides(config, overrides);
  return WebhookConfigPtr(std::make_shared<const WebhookConfig>(std::move(config)));
}

meshgate::Expected<std::unique_ptr<ConfigReloader>, std::string> ConfigReloader::load(
    const std::string& path, metrics::Registry& registry, ConfigOverrides overrides) {
  auto initial = read(path, overrides);
  if (!initial) return initial.error();
  return std::unique_ptr<ConfigReloader>(
      new ConfigReloader(path, std::move(overrides), std::move(*initial), registry));
}

ConfigReloader::ConfigReloader(std::string path, ConfigOverrides overrides,
                               WebhookConfigPtr initial, metrics::Registry& registry)
    : path_(std::move(path)),
      overrides_(std::move(overrides)),
      current_(std::move(initial)),
      reloads_(registry.counter(
          "meshgate_webhook_config_reloads_total",
          "Reloads of the webhook's config file by result (applied, rejected)", {"result"})) {}

meshgate::Expected<meshgate::Ok, std::string> ConfigReloader::reload() {
  auto next = read(path_, overrides_);
  if (!next) {
    reloads_.with({"rejected"}).inc();
    return next.error();
  }
  current_.store(std::move(*next));
  reloads_.with({"applied"}).inc();
  return meshgate::Ok{};
}

void ConfigReloader::watch(boost::asio::io_context& context) {
  if (path_.empty()) return;
  watcher_ = std::make_unique<meshgate::FileWatcher>(context, path_, [this] {
    if (auto result = reload(); result) {
      spdlog::info("config reloaded from {}", path_);
    } else {
      spdlog::error("config not reloaded, the previous one stays in use: {}", result.error());
    }
  });
  watcher_->start();
}

}  // namespace meshgate::webhook
