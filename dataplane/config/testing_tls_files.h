// Test helper of proxy_config_test: writes throwaway PEM files (an EC P-256 key and a self-signed
// certificate for it) into a fresh temporary directory, with OpenSSL's C API, so the TLS file
// checks of the validator run against real files. Header-only; tests only.
#pragma once

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

namespace meshgate::dp::testing {

class TempTlsDir {
 public:
  TempTlsDir() {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("proxy-config-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
  }
  ~TempTlsDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempTlsDir(const TempTlsDir&) = delete;
  TempTlsDir& operator=(const TempTlsDir&) = delete;

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes `<name>.key` and `<name>.crt` (CN = `name`); returns the common path prefix.
  std::string writeKeyAndCertificate(const std::string& name) const {
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"),
                                                                  EVP_PKEY_free);
    if (!key) throw std::runtime_error("EVP_EC_gen failed");
    const std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_NAME* subject = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), subject);
    X509_set_pubkey(cert.get(), key.get());
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
      throw std::runtime_error("X509_sign failed");
    }
    writePem(path(name + ".key"), [&](std::FILE* f) {
      return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    writePem(path(name + ".crt"), [&](std::FILE* f) { return PEM_write_X509(f, cert.get()); });
    return path(name);
  }

  // A file with arbitrary content.
  std::string writeFile(const std::string& name, const std::string& content) const {
    std::FILE* f = std::fopen(path(name).c_str(), "wb");
    if (f == nullptr) throw std::runtime_error("cannot create " + path(name));
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    return path(name);
  }

 private:
  template <typename Write>
  static void writePem(const std::string& file, Write write) {
    std::FILE* f = std::fopen(file.c_str(), "wb");
    if (f == nullptr) throw std::runtime_error("cannot create " + file);
    const int ok = write(f);
    std::fclose(f);
    if (ok != 1) throw std::runtime_error("cannot write " + file);
  }

  std::filesystem::path dir_;
};

}  // namespace meshgate::dp::testing
