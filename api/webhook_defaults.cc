// Webhook defaults; see api/webhook_defaults.h.
#include "api/webhook_defaults.h"

namespace meshgate::api {

void applyWebhookDefaults(MeshService& ms) {
  if (!ms.spec.serviceAccount.has_value() && !ms.metadata.name.empty()) {
    ms.spec.serviceAccount = ms.metadata.name;
  }
  for (auto& port : ms.spec.ports) {
    // A port of 0 is unset; copying it would turn a Required error into a second one.
    if (!port.targetPort.has_value() && port.port != 0) port.targetPort = port.port;
  }
}

}  // namespace meshgate::api
