// CertificateDirectory is a --cert-dir for tests: a temporary directory holding tls.crt and tls.key
// issued by a fresh test CA for localhost and 127.0.0.1, rewritten on demand the way the operator
// rotates them (in place, or by swapping a Secret volume's "..data" symlink). Used by the
// ServingCertificate and AdmissionServer tests.
#pragma once

#include <chrono>
#include <string>

#include "pki/certificate.h"
#include "pki/certificate_authority.h"
#include "pki/private_key.h"

namespace meshgate::webhook::testing {

// A leaf certificate and its key, as PEM and parsed.
struct IssuedPair {
  pki::Certificate certificate;
  pki::PrivateKey key;
  std::string certificatePem;
  std::string keyPem;
};

class CertificateDirectory {
 public:
  enum class Layout {
    // tls.crt and tls.key are regular files, rewritten in place.
    kPlainFiles,
    // As the kubelet mounts a Secret: tls.crt -> ..data/tls.crt, ..data -> ..<version>/, and an
    // update writes a new version directory and renames a new ..data symlink over the old one.
    kSecretVolume,
  };

  // Creates the directory and writes a first pair. Throws std::runtime_error on failure.
  explicit CertificateDirectory(Layout layout = Layout::kPlainFiles);
  // Removes the directory and everything in it.
  ~CertificateDirectory();
  CertificateDirectory(const CertificateDirectory&) = delete;
  CertificateDirectory& operator=(const CertificateDirectory&) = delete;

  const std::string& path() const { return path_; }
  std::string caPem() const { return ca_.certificatePem(); }
  // The pair written last.
  const IssuedPair& written() const { return written_; }

  // A new key and a certificate for localhost and 127.0.0.1, valid from `now` for `lifetime`.
  IssuedPair issue(std::chrono::seconds lifetime = std::chrono::hours(24),
                   std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
  // Replaces both files with the pair, as the layout does.
  void write(const IssuedPair& pair);
  // Replaces one file only, as a rotation caught half-way.
  void writeCertificate(const std::string& pem);
  void writeKey(const std::string& pem);

 private:
  void writeFiles(const std::string& certificatePem, const std::string& keyPem);

  const Layout layout_;
  std::string path_;
  pki::CertificateAuthority ca_;
  IssuedPair written_;
  std::string keyPemWritten_;
  std::string certificatePemWritten_;
  int version_ = 0;
};

}  // namespace meshgate::webhook::testing
