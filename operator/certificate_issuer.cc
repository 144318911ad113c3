// The requeue that follows a certificate's renewal time.
#include "operator/certificate_issuer.h"

#include <algorithm>

namespace meshgate::op {

kube::ReconcileResult requeueAtRenewal(std::chrono::system_clock::time_point renewAt,
                                       std::chrono::system_clock::time_point now) {
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(renewAt - now);
  return kube::ReconcileResult::requeueAfter(std::max(wait, std::chrono::milliseconds(1000)));
}

}  // namespace meshgate::op
