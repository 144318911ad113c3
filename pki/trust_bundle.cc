#include "pki/trust_bundle.h"

#include <algorithm>
#include <set>

#include <openssl/x509_vfy.h>

#include "pki/openssl_error.h"
#include "pki/openssl_ptr.h"

namespace pki {

Result<std::string> buildTrustBundle(const std::vector<Certificate>& roots,
                                     std::chrono::system_clock::time_point now) {
  std::vector<Certificate> kept;
  std::set<std::string> seen;
  for (const auto& root : roots) {
    if (!root.isCa()) {
      return Error{"trust bundle: certificate \"" + root.subjectName() + "\" (sha256 " +
                   root.sha256Fingerprint() + ") is not a CA"};
    }
    if (now >= root.notAfter()) continue;
    if (seen.insert(root.sha256Fingerprint()).second) kept.push_back(root);
  }
  if (kept.empty()) {
    return Error{"trust bundle: none of the " + std::to_string(roots.size()) +
                 " CA certificates is still valid"};
  }
  std::sort(kept.begin(), kept.end(), [](const Certificate& a, const Certificate& b) {
    if (a.notBefore() != b.notBefore()) return a.notBefore() > b.notBefore();
    return a.sha256Fingerprint() < b.sha256Fingerprint();
  });
  std::string pem;
  for (const auto& root : kept)
    pem += root.toPem();
  return pem;
}

std::string verifyChain(const Certificate& leaf, const std::vector<Certificate>& roots,
                        std::chrono::system_clock::time_point now) {
  X509StorePtr store(X509_STORE_new());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx) return openSslError("allocating the verifier").message;
  for (const auto& root : roots) {
    // Adding the same certificate twice is not an error worth reporting.
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) clearOpenSslErrors();
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr) != 1) {
    return openSslError("initialising the verifier").message;
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // Sets X509_V_FLAG_USE_CHECK_TIME: validity is judged at the injected time, not the wall clock.
  X509_VERIFY_PARAM_set_time(
      param, std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(now)));
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_ANY);
  if (X509_verify_cert(ctx.get()) == 1) {
    clearOpenSslErrors();
    return {};
  }
  const int error = X509_STORE_CTX_get_error(ctx.get());
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  std::string reason = X509_verify_cert_error_string(error);
  X509* failed = X509_STORE_CTX_get_current_cert(ctx.get());
  reason += " (depth " + std::to_string(depth);
  if (failed != nullptr && X509_up_ref(failed) == 1) {
    auto cert = Certificate::adopt(failed);
    if (cert && !cert->subjectName().empty()) reason += ", subject \"" + cert->subjectName() + "\"";
  }
  reason += ")";
  clearOpenSslErrors();
  return reason;
}

std::string verifyChain(const Certificate& leaf, std::string_view bundlePem,
                        std::chrono::system_clock::time_point now) {
  auto roots = parseCertificates(bundlePem);
  if (!roots) return "trust bundle: " + roots.error().message;
  return verifyChain(leaf, *roots, now);
}

}  // namespace pki
