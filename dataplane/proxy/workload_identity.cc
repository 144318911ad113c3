// Reading and checking a sidecar's identity files; see workload_identity.h.
#include "dataplane/proxy/workload_identity.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <iterator>
#include <system_error>

#include "base/read_file.h"
#include "base/sha256.h"
#include "dataplane/proxy/rfc3339_time.h"

namespace meshgate::dp {

namespace {

constexpr std::string_view kSpiffeScheme = "spiffe://";

struct X509StoreDeleter {
  void operator()(X509_STORE* store) const { X509_STORE_free(store); }
};
struct X509StoreCtxDeleter {
  void operator()(X509_STORE_CTX* ctx) const { X509_STORE_CTX_free(ctx); }
};
// Frees the stack only: the certificates stay owned by their pki::Certificate.
struct X509StackDeleter {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
};

std::string pathOf(const std::string& directory, const char* file) {
  return directory + "/" + file;
}

// Empty when `leaf` chains, through `intermediates` (untrusted), to one of `roots` at `now`;
// otherwise OpenSSL's reason and the depth where it failed.
std::string verifyChain(const pki::Certificate& leaf,
                        const std::vector<pki::Certificate>& intermediates,
                        const std::vector<pki::Certificate>& roots,
                        WorkloadIdentity::TimePoint now) {
  std::unique_ptr<X509_STORE, X509StoreDeleter> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, X509StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  std::unique_ptr<STACK_OF(X509), X509StackDeleter> untrusted(sk_X509_new_null());
  if (!store || !ctx || !untrusted) return "cannot allocate the verifier";
  for (const auto& root : roots)
    X509_STORE_add_cert(store.get(), root.get());  // a duplicate root is no error worth reporting
  for (const auto& intermediate : intermediates)
    if (sk_X509_push(untrusted.get(), intermediate.get()) == 0) return "cannot build the chain";
  std::string reason;
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    reason = "cannot initialise the verifier";
  } else {
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set_time(
        param, std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(now)));
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_ANY);
    if (X509_verify_cert(ctx.get()) != 1) {
      reason = std::string(X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))) +
               " (depth " + std::to_string(X509_STORE_CTX_get_error_depth(ctx.get())) + ")";
    }
  }
  ERR_clear_error();
  return reason;
}

}  // namespace

WorkloadIdentityFiles::~WorkloadIdentityFiles() {
  OPENSSL_cleanse(keyPem.data(), keyPem.size());
}

std::string WorkloadIdentityFiles::digest() const {
  return sha256Hex(certificatePem, 64) + sha256Hex(keyPem, 64) + sha256Hex(trustBundlePem, 64);
}

Expected<std::optional<WorkloadIdentityFiles>, std::string> readWorkloadIdentityFiles(
    const std::string& directory) {
  const char* const names[] = {WorkloadIdentity::kCertificateFile, WorkloadIdentity::kKeyFile,
                               WorkloadIdentity::kTrustBundleFile};
  bool anyExists = false;
  for (const char* name : names) {
    std::error_code ignored;
    // Follows the Secret volume's symlinks: a name whose target is gone does not exist.
    anyExists = anyExists || std::filesystem::exists(pathOf(directory, name), ignored);
  }
  if (!anyExists) return std::optional<WorkloadIdentityFiles>();
  WorkloadIdentityFiles files;
  std::string* const texts[] = {&files.certificatePem, &files.keyPem, &files.trustBundlePem};
  for (size_t i = 0; i < std::size(names); ++i) {
    const std::string path = pathOf(directory, names[i]);
    std::string error;
    auto text = readFileText(path, error);
    if (!text) return path + ": " + error;
    *texts[i] = std::move(*text);
  }
  return std::optional<WorkloadIdentityFiles>(std::move(files));
}

Expected<WorkloadIdentity, std::string> checkWorkloadIdentity(const WorkloadIdentityFiles& files,
                                                              const std::string& directory,
                                                              WorkloadIdentity::TimePoint now) {
  const std::string certificatePath = pathOf(directory, WorkloadIdentity::kCertificateFile);
  const std::string keyPath = pathOf(directory, WorkloadIdentity::kKeyFile);
  const std::string bundlePath = pathOf(directory, WorkloadIdentity::kTrustBundleFile);

  auto chain = pki::parseCertificates(files.certificatePem);
  if (!chain) return certificatePath + ": " + chain.error().message;
  auto key = pki::PrivateKey::fromPem(files.keyPem);
  if (!key) return keyPath + ": " + key.error().message;
  auto roots = pki::parseCertificates(files.trustBundlePem);
  if (!roots) return bundlePath + ": " + roots.error().message;

  const pki::Certificate& leaf = chain->front();
  const std::string described = "the certificate (serial " + leaf.serialHex() + ")";
  if (!leaf.matchesKey(*key))
    return keyPath + ": the key does not belong to the first certificate of " + certificatePath +
           " (serial " + leaf.serialHex() + ")";
  if (leaf.isCa()) return certificatePath + ": " + described + " is a CA, not a workload's";
  if (now < leaf.notBefore())
    return certificatePath + ": " + described + " is not valid before " + rfc3339(leaf.notBefore());
  if (now >= leaf.notAfter())
    return certificatePath + ": " + described + " expired at " + rfc3339(leaf.notAfter());
  std::vector<pki::Certificate> intermediates(chain->begin() + 1, chain->end());
  if (auto reason = verifyChain(leaf, intermediates, *roots, now); !reason.empty())
    return certificatePath + ": " + described + " does not chain to a root of " + bundlePath +
           ": " + reason;

  std::vector<std::string> spiffeIds;
  for (auto& uri : leaf.uris())
    if (uri.rfind(kSpiffeScheme, 0) == 0) spiffeIds.push_back(std::move(uri));
  if (spiffeIds.empty()) return certificatePath + ": " + described + " has no spiffe:// URI SAN";
  if (spiffeIds.size() > 1)
    return certificatePath + ": " + described + " has " + std::to_string(spiffeIds.size()) +
           " spiffe:// URI SANs; an X509-SVID has exactly one";

  return WorkloadIdentity{.spiffeId = std::move(spiffeIds.front()),
                          .serialHex = leaf.serialHex(),
                          .notBefore = leaf.notBefore(),
                          .notAfter = leaf.notAfter(),
                          .loadedAt = now,
                          .leaf = leaf,
                          .intermediates = std::move(intermediates),
                          .key = std::move(*key),
                          .roots = std::move(*roots)};
}

}  // namespace meshgate::dp
