// CertificateStatus reports the certificate Secret the operator issued or adopted for an object
// (the identity certificate of a MeshService, the host certificate of an ApiRoute).
#pragma once

#include <string>

namespace meshgate::api {

struct CertificateStatus {
  std::string secretName{};
  // RFC 3339.
  std::string notAfter{};

  bool operator==(const CertificateStatus&) const = default;
};

}  // namespace meshgate::api
