// ConfigReloader: the webhook's config file (--config, a mounted ConfigMap) kept current. It
// loads the file at start (a bad file then is fatal: the caller exits), watches it with
// FileWatcher and swaps in each new version that parses; a bad new version is refused with an
// error log and the meshgate_webhook_config_reloads_total{result="rejected"} count, and the last
// good config keeps serving. current() is lock-free for the admission threads.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "base/expected.h"
#include "base/file_watcher.h"
#include "metrics/registry.h"
#include "webhook/core/webhook_config.h"

namespace meshgate::webhook {

using WebhookConfigPtr = std::shared_ptr<const WebhookConfig>;

class ConfigReloader {
 public:
  // Reads and parses `path` ("" = no file: every default); the error names the file. Every
  // version read, the first and each reload, gets `overrides` applied.
  static meshgate::Expected<std::unique_ptr<ConfigReloader>, std::string> load(
      const std::string& path, metrics::Registry& registry, ConfigOverrides overrides = {});

  WebhookConfigPtr current() const { return current_.load(); }

  // Re-reads the file now; on failure the current config stays. Thread-safe.
  meshgate::Expected<meshgate::Ok, std::string> reload();

  // Reloads on every change of the file, on `context` (no-op without a file). Destroy this
  // reloader before `context`: its watcher holds a descriptor and a timer of that context.
  void watch(boost::asio::io_context& context);

 private:
  ConfigReloader(std::string path, ConfigOverrides overrides, WebhookConfigPtr initial,
                 metrics::Registry& registry);
  static meshgate::Expected<WebhookConfigPtr, std::string> read(const std::string& path,
                                                                const ConfigOverrides& overrides);

  const std::string path_;
  const ConfigOverrides overrides_;
  std::atomic<WebhookConfigPtr> current_;
  metrics::CounterFamily& reloads_;
  std::unique_ptr<meshgate::FileWatcher> watcher_;
};

}  // namespace meshgate::webhook
