// Test certificate directories; see certificate_directory.h.
#include "webhook/server/testing/certificate_directory.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "pki/certificate_template.h"

namespace meshgate::webhook::testing {
namespace fs = std::filesystem;

namespace {

template <class T>
T must(pki::Result<T> result) {
  if (!result) throw std::runtime_error(result.error().message);
  return std::move(result).value();
}

// The CA is valid from long ago, so that tests may issue certificates that have already expired.
pki::CertificateAuthority newCa() {
  return must(pki::CertificateAuthority::generate(
      "meshgate-webhook-test-ca", std::chrono::hours(24 * 365),
      std::chrono::system_clock::now() - std::chrono::hours(24 * 30)));
}

std::string makeTemporaryDirectory() {
  std::string pattern = (fs::temp_directory_path() / "meshgate-cert-dir-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

void writeFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

CertificateDirectory::CertificateDirectory(Layout layout)
    : layout_(layout), path_(makeTemporaryDirectory()), ca_(newCa()), written_(issue()) {
  if (layout_ == Layout::kSecretVolume) {
    fs::create_symlink("..data/tls.crt", fs::path(path_) / "tls.crt");
    fs::create_symlink("..data/tls.key", fs::path(path_) / "tls.key");
  }
  write(written_);
}

CertificateDirectory::~CertificateDirectory() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

IssuedPair CertificateDirectory::issue(std::chrono::seconds lifetime,
                                       std::chrono::system_clock::time_point now) {
  pki::PrivateKey key = must(pki::PrivateKey::generateEcdsaP256());
  pki::CertificateTemplate t = pki::CertificateTemplate::forHosts({"localhost", "127.0.0.1"});
  t.lifetime = lifetime;
  pki::Certificate certificate = must(ca_.issue(t, key, now));
  std::string certificatePem = certificate.toPem();
  std::string keyPem = must(key.toPem());
  return IssuedPair{std::move(certificate), std::move(key), std::move(certificatePem),
                    std::move(keyPem)};
}

void CertificateDirectory::write(const IssuedPair& pair) {
  writeFiles(pair.certificatePem, pair.keyPem);
  written_ = pair;
}

void CertificateDirectory::writeCertificate(const std::string& pem) {
  writeFiles(pem, keyPemWritten_);
}

void CertificateDirectory::writeKey(const std::string& pem) {
  writeFiles(certificatePemWritten_, pem);
}

void CertificateDirectory::writeFiles(const std::string& certificatePem,
                                      const std::string& keyPem) {
  const fs::path directory(path_);
  if (layout_ == Layout::kPlainFiles) {
    writeFile(directory / "tls.crt", certificatePem);
    writeFile(directory / "tls.key", keyPem);
  } else {
    const std::string version = "..version_" + std::to_string(++version_);
    fs::create_directory(directory / version);
    writeFile(directory / version / "tls.crt", certificatePem);
    writeFile(directory / version / "tls.key", keyPem);
    fs::create_symlink(version, directory / "..data_tmp");
    fs::rename(directory / "..data_tmp", directory / "..data");
  }
  certificatePemWritten_ = certificatePem;
  keyPemWritten_ = keyPem;
}

}  // namespace meshgate::webhook::testing
