// Checks of the PEM files (or inline PEM texts) a proxy config names (listener certificates and
// keys, upstream CA bundles), so a broken file is a validation error with its field path instead of
// a failure when the proxy builds its TLS contexts. Called by proxy_config_validation.cc. Each
// function returns an empty string when the file is fine, else the detail of the error ("cannot
// read: No such file or directory").
#pragma once

#include <string>

namespace meshgate::dp {

// At least one certificate, and every PEM block a certificate.
std::string checkCertificateFile(const std::string& path);
std::string checkCertificatePem(const std::string& text);

// One unencrypted private key (encrypted keys would need a passphrase the proxy does not have).
std::string checkPrivateKeyFile(const std::string& path);
std::string checkPrivateKeyPem(const std::string& text);

// Whether the key is the one of the first (leaf) certificate. Call after both checks above pass.
std::string checkKeyMatchesCertificate(const std::string& certPath, const std::string& keyPath);
std::string checkKeyMatchesCertificatePem(const std::string& certText, const std::string& keyText);

}  // namespace meshgate::dp
