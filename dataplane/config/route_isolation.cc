// Refused routes fall back to their last good form; see route_isolation.h.
#include "dataplane/config/route_isolation.h"

#include <optional>
#include <set>

#include "dataplane/config/proxy_config_validation.h"

namespace meshgate::dp {

namespace {

// The index of the route an error path starts with ("routes[3].spec…" → 3), or nullopt.
std::optional<std::size_t> routeIndexOf(const std::string& field) {
  static const std::string kPrefix = "routes[";
  if (field.rfind(kPrefix, 0) != 0) return std::nullopt;
  const auto close = field.find(']', kPrefix.size());
  if (close == std::string::npos || close == kPrefix.size()) return std::nullopt;
  std::size_t index = 0;
  for (std::size_t i = kPrefix.size(); i < close; ++i) {
    if (field[i] < '0' || field[i] > '9') return std::nullopt;
    index = index * 10 + static_cast<std::size_t>(field[i] - '0');
  }
  return index;
}

// The error without its "routes[i]." prefix.
std::string relativeMessage(const api::FieldError& error) {
  api::FieldError relative = error;
  const auto close = relative.field.find(']');
  relative.field = close + 2 <= relative.field.size() ? relative.field.substr(close + 2) : "";
  return relative.toString();
}

}  // namespace

std::string routeKey(const api::ApiRoute& route) {
  return route.metadata.namespace_ + "/" + route.metadata.name;
}

IsolatedConfig isolateRefusedRoutes(ProxyConfig config,
                                    const std::map<std::string, api::ApiRoute>& lastGood,
                                    const std::vector<api::ApiRoute>* serving) {
  IsolatedConfig out;
  // Two rounds: the refused routes fall back to their last good form; a last good form that is
  // refused too (it names a cluster that is gone) is left out in the second.
  for (int round = 0; round < 3; ++round) {
    api::ErrorList errors = validateProxyConfig(config, serving, ConfigSource::kControlPlane);
    if (errors.empty()) {
      out.config = std::move(config);
      return out;
    }
    std::map<std::size_t, std::vector<std::string>> byRoute;
    bool outsideRoutes = false;
    for (const auto& error : errors) {
      const auto index = routeIndexOf(error.field);
      if (!index || *index >= config.routes.size()) {
        outsideRoutes = true;
        continue;
      }
      byRoute[*index].push_back(relativeMessage(error));
    }
    if (outsideRoutes || round == 2) {
      out.errors = std::move(errors);
      return out;
    }
    std::vector<api::ApiRoute> routes;
    for (std::size_t i = 0; i < config.routes.size(); ++i) {
      const auto refused = byRoute.find(i);
      if (refused == byRoute.end()) {
        routes.push_back(std::move(config.routes[i]));
        continue;
      }
      const std::string key = routeKey(config.routes[i]);
      auto& messages = out.refused[key];
      if (messages.empty()) {
        messages = refused->second;
      } else {
        messages.push_back("its last good form is refused too: " + refused->second.front());
      }
      const auto previous = lastGood.find(key);
      if (round == 0 && previous != lastGood.end()) routes.push_back(previous->second);
    }
    config.routes = std::move(routes);
  }
  return out;
}

}  // namespace meshgate::dp
