// FakeCertificateIssuer stands in for the mesh CA in controller tests: ensure() answers what the
// test asked for — a certificate with its renewal time, or an error — and remembers each request.
// Like the real issuer it says it wrote the Secret only the first time a Secret is asked for.
// Used from the test thread only.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "operator/certificate_issuer.h"

namespace meshgate::op {

class FakeCertificateIssuer : public CertificateIssuer {
 public:
  // From now on every ensure() fails with `error` (the default, with "no certificates").
  void fail(std::string error) {
    error_ = std::move(error);
    certificate_.reset();
  }
  // From now on every ensure() succeeds with `certificate` (its secretName is the request's).
  void issue(IssuedCertificate certificate) { certificate_ = std::move(certificate); }

  const std::vector<CertificateRequest>& requests() const { return requests_; }

  // CertificateIssuer
  Expected<IssuedCertificate, std::string> ensure(const CertificateRequest& request) override {
    requests_.push_back(request);
    if (!certificate_) return error_;
    IssuedCertificate issued = *certificate_;
    issued.secretName = request.secretName;
    issued.written = written_.insert(request.ns + "/" + request.secretName).second;
    issued.reason = issued.written ? "the Secret does not exist" : "";
    return issued;
  }

 private:
  std::string error_ = "no certificates in this test";
  std::optional<IssuedCertificate> certificate_;
  std::vector<CertificateRequest> requests_;
  std::set<std::string> written_;  // "<ns>/<secret>" already issued
};

}  // namespace meshgate::op
