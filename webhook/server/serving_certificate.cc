// Loading, checking and hot-reloading the webhook's serving certificate; see serving_certificate.h.
#include "webhook/server/serving_certificate.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <ctime>
#include <set>
#include <utility>

#include <spdlog/spdlog.h>

#include "base/read_file.h"
#include "pki/certificate.h"
#include "pki/private_key.h"

namespace meshgate::webhook {
namespace ssl = boost::asio::ssl;

struct ServingCertificate::Loaded {
  std::shared_ptr<ssl::context> context;
  ServingCertificateInfo info;
};

namespace {

// TLS 1.2 suites of Mozilla's "intermediate" profile: forward secret AEAD only. TLS 1.3 keeps
// OpenSSL's defaults, which are all of that kind.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The files' content. The key's copy is wiped when done with: it lives in memory no longer than
// needed (OpenSSL keeps its own, parsed form).
struct PairText {
  PairText() = default;
  PairText(PairText&&) = default;
  ~PairText() { OPENSSL_cleanse(keyPem.data(), keyPem.size()); }

  std::string certificatePem;
  std::string keyPem;
};

std::string formatUtc(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string sha256(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

// Identifies the content of both files without keeping the key's text around.
std::string digestOf(const std::string& certificatePem, const std::string& keyPem) {
  return sha256(certificatePem) + sha256(keyPem);
}

std::string openSslReason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// Offers HTTP/1.1 only: an apiserver that offers h2 first must still speak HTTP/1.1 to us, the
// only protocol the server implements. A client offering neither gets no ALPN at all.
int selectHttp11(SSL*, const unsigned char** out, unsigned char* outLength, const unsigned char* in,
                 unsigned int inLength, void*) {
  static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  unsigned char selectedLength = 0;
  if (SSL_select_next_proto(&selected, &selectedLength, kHttp11, sizeof kHttp11, in, inLength) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  *outLength = selectedLength;
  return SSL_TLSEXT_ERR_OK;
}

meshgate::Expected<PairText, std::string> readPair(const std::string& directory) {
  PairText pair;
  std::string error;
  const std::string certificatePath = directory + "/" + ServingCertificate::kCertificateFile;
  auto certificate = meshgate::readFileText(certificatePath, error);
  if (!certificate) return certificatePath + ": " + error;
  const std::string keyPath = directory + "/" + ServingCertificate::kKeyFile;
  auto key = meshgate::readFileText(keyPath, error);
  if (!key) return keyPath + ": " + error;
  pair.certificatePem = std::move(*certificate);
  pair.keyPem = std::move(*key);
  return pair;
}

// Puts the pair into `context` with the server's TLS settings; returns what to log about it.
meshgate::Expected<ServingCertificateInfo, std::string> configureContext(
    ssl::context& context, const std::string& directory, const std::string& certificatePem,
    const std::string& keyPem) {
  const std::string certificatePath = directory + "/" + ServingCertificate::kCertificateFile;
  const std::string keyPath = directory + "/" + ServingCertificate::kKeyFile;

  auto chain = pki::parseCertificates(certificatePem);
  if (!chain) return certificatePath + ": " + chain.error().message;
  const pki::Certificate& leaf = chain->front();
  if (leaf.notAfter() <= std::chrono::system_clock::now()) {
    return certificatePath + ": certificate serial " + leaf.serialHex() + " expired at " +
           formatUtc(leaf.notAfter());
  }
  auto key = pki::PrivateKey::fromPem(keyPem);
  if (!key) return keyPath + ": " + key.error().message;
  if (!leaf.matchesKey(*key)) {
    return keyPath + ": the key does not belong to the first certificate of " + certificatePath +
           " (serial " + leaf.serialHex() + ")";
  }

  SSL_CTX* native = context.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // Session tickets would be sealed with a key of this context only: after a reload they could
  // not be opened, and the apiserver keeps its connections open rather than resuming.
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(native, 0);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return "setting the TLS 1.2 cipher list: " + openSslReason();
  }
  SSL_CTX_set_alpn_select_cb(native, &selectHttp11, nullptr);

  if (SSL_CTX_use_certificate(native, leaf.get()) != 1) {
    return certificatePath + ": " + openSslReason();
  }
  for (std::size_t i = 1; i < chain->size(); ++i) {
    if (SSL_CTX_add1_chain_cert(native, (*chain)[i].get()) != 1) {
      return certificatePath + ": chain certificate " + std::to_string(i) + ": " + openSslReason();
    }
  }
  if (SSL_CTX_use_PrivateKey(native, key->get()) != 1 || SSL_CTX_check_private_key(native) != 1) {
    return keyPath + ": the key does not belong to the first certificate of " + certificatePath +
           ": " + openSslReason();
  }
  return ServingCertificateInfo{leaf.notAfter(), leaf.serialHex(), leaf.sha256Fingerprint()};
}

}  // namespace

meshgate::Expected<std::unique_ptr<ServingCertificate>, std::string> ServingCertificate::load(
    std::string directory) {
  std::unique_ptr<ServingCertificate> certificate(new ServingCertificate(std::move(directory)));
  auto loaded = certificate->reload();
  if (!loaded) return loaded.error();
  return certificate;
}

ServingCertificate::ServingCertificate(std::string directory) : directory_(std::move(directory)) {}

ServingCertificate::~ServingCertificate() = default;

std::shared_ptr<ssl::context> ServingCertificate::current() const {
  std::lock_guard lock(mutex_);
  return loaded_->context;
}

ServingCertificateInfo ServingCertificate::info() const {
  std::lock_guard lock(mutex_);
  return loaded_->info;
}

meshgate::Expected<meshgate::Ok, std::string> ServingCertificate::reload() {
  std::lock_guard reloadLock(reloadMutex_);
  auto pair = readPair(directory_);
  if (!pair) return pair.error();
  return install(pair->certificatePem, pair->keyPem);
}

meshgate::Expected<meshgate::Ok, std::string> ServingCertificate::install(
    const std::string& certificatePem, const std::string& keyPem) {
  lastSeenDigest_ = digestOf(certificatePem, keyPem);
  auto loaded = std::make_unique<Loaded>();
  loaded->context = std::make_shared<ssl::context>(ssl::context::tls_server);
  auto info = configureContext(*loaded->context, directory_, certificatePem, keyPem);
  if (!info) return info.error();
  loaded->info = std::move(*info);
  std::lock_guard lock(mutex_);
  loaded_ = std::move(loaded);
  return meshgate::Ok{};
}

void ServingCertificate::reloadIfChanged(std::string_view trigger) {
  std::lock_guard reloadLock(reloadMutex_);
  auto pair = readPair(directory_);
  // A file missing for a moment (mid-rename) is a distinct state too: warn once, not per poll.
  const std::string digest =
      pair ? digestOf(pair->certificatePem, pair->keyPem) : "unreadable: " + pair.error();
  if (digest == lastSeenDigest_) return;
  if (!pair) {
    lastSeenDigest_ = digest;
    spdlog::warn("serving certificate not reloaded ({}), still serving serial {}: {}", trigger,
                 info().serialHex, pair.error());
    return;
  }
  auto installed = install(pair->certificatePem, pair->keyPem);
  const ServingCertificateInfo served = info();
  if (installed) {
    spdlog::info("serving certificate reloaded ({}): notAfter {} serial {} sha256 {}", trigger,
                 formatUtc(served.notAfter), served.serialHex, served.sha256Fingerprint);
  } else {
    spdlog::warn("serving certificate refused ({}), still serving serial {} (notAfter {}): {}",
                 trigger, served.serialHex, formatUtc(served.notAfter), installed.error());
  }
}

void ServingCertificate::watch(boost::asio::io_context& context,
                               std::chrono::milliseconds pollInterval) {
  watch_ = std::make_unique<meshgate::SecretVolumeWatch>(
      context, directory_, std::set<std::string>{kCertificateFile, kKeyFile}, pollInterval,
      [this](std::string_view trigger) { reloadIfChanged(trigger); });
}

}  // namespace meshgate::webhook
