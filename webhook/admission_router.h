// AdmissionRouter: the HTTP side of the webhook's admission endpoints. It maps a POSTed
// AdmissionReview to the endpoint registered for its path (/mutate-v1-pod,
// /validate-meshgate-io-v1alpha1-apiroute, …), runs that endpoint's decision function and writes
// the AdmissionReview response. Malformed requests get HTTP 400 with a message saying what is
// wrong; an exception inside a decision becomes a denied review carrying its message (a webhook
// must never crash or hang the apiserver's request). Records meshgate_webhook_admission_* metrics.
// Thread-safe: the server calls handle() from several threads.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "metrics/registry.h"
#include "webhook/core/admission_review.h"
#include "webhook/server/http_handler.h"

namespace meshgate::webhook {

using AdmissionFunction = std::function<AdmissionDecision(const AdmissionRequest&)>;

struct AdmissionEndpoint {
  // The webhook's short name in metrics and logs: "pod-injection", "apiroute-validation", …
  std::string name;
  // The kind the endpoint judges ("Pod", "ApiRoute"); a review of another kind is denied, which
  // catches a misconfigured WebhookConfiguration instead of silently allowing everything.
  std::string kind;
  AdmissionFunction decide;
};

class AdmissionRouter {
 public:
  explicit AdmissionRouter(metrics::Registry& registry);

  // Before the server starts: one endpoint per path.
  void add(const std::string& path, AdmissionEndpoint endpoint);

  HttpResponse handle(const HttpRequest& request) const;

 private:
  HttpResponse review(const AdmissionEndpoint& endpoint, const HttpRequest& request) const;
  // Runs the decision, turning an exception into a denial.
  AdmissionDecision decide(const AdmissionEndpoint& endpoint,
                           const AdmissionRequest& request) const;
  void record(const AdmissionEndpoint& endpoint, const std::string& operation,
              const std::string& result, double seconds) const;

  std::map<std::string, AdmissionEndpoint> endpoints_;
  metrics::CounterFamily& requests_;
  metrics::HistogramFamily& duration_;
};

}  // namespace meshgate::webhook
