// ServingCertificate is the webhook's TLS identity: the certificate and key in --cert-dir
// (tls.crt, leaf first with its chain after; tls.key), as a server TLS context. The operator
// rotates them in place (a Secret volume swaps its "..data" symlink; a plain directory is
// rewritten), so the context is reloaded when the files change and each new connection takes the
// context current at its accept. A pair that does not load keeps the previous one serving: a
// webhook without a valid certificate stops pod creation in the whole cluster.
//
//   auto certificate = ServingCertificate::load("/etc/meshgate/webhook-certs");
//   if (!certificate) return fail(certificate.error());
//   (*certificate)->watch(ioc);
//   AdmissionServer server(options, **certificate, handler);
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "base/expected.h"
#include "base/secret_volume_watch.h"

namespace meshgate::webhook {

// What logs and metrics say about the leaf certificate being served; never key material.
struct ServingCertificateInfo {
  std::chrono::system_clock::time_point notAfter;
  // Upper-case hex, as `openssl x509 -serial` prints it.
  std::string serialHex;
  // SHA-256 of the DER, lower-case hex.
  std::string sha256Fingerprint;
};

/**
 * current(), reload() and the accessors are thread-safe: the server's threads take current() at
 * each accept while a reload runs on the watch() io_context. A context handed out stays valid for
 * as long as its holder keeps it, so a reload never disturbs open connections.
 */
class ServingCertificate {
 public:
  static constexpr std::chrono::milliseconds kDefaultPollInterval = std::chrono::seconds(10);
  static constexpr const char* kCertificateFile = "tls.crt";
  static constexpr const char* kKeyFile = "tls.key";

  /**
   * Reads <directory>/tls.crt and <directory>/tls.key. Fails, with a message naming the file and
   * never quoting the key, when a file cannot be read or does not decode, the key is not the
   * leaf's, or the leaf has expired.
   */
  static meshgate::Expected<std::unique_ptr<ServingCertificate>, std::string> load(
      std::string directory);

  // After watch(): destroy on the io_context's thread, or once it has stopped — and before the
  // io_context itself, which the watch's timer and inotify descriptor belong to.
  ~ServingCertificate();
  ServingCertificate(const ServingCertificate&) = delete;
  ServingCertificate& operator=(const ServingCertificate&) = delete;

  // The context a new connection should use.
  std::shared_ptr<boost::asio::ssl::context> current() const;

  /**
   * Reads the files again and, when they load as load() requires, serves them from the next
   * connection on; otherwise returns why and keeps serving the previous pair (a half-written
   * rotation: new certificate, old key).
   */
  meshgate::Expected<meshgate::Ok, std::string> reload();

  ServingCertificateInfo info() const;
  std::chrono::system_clock::time_point notAfter() const { return info().notAfter; }
  const std::string& directory() const { return directory_; }

  /**
   * Reloads when the files change, on `context`'s thread: an inotify watch of the directory
   * (tls.crt, tls.key, ..data) and, in case a change escapes it (inotify unavailable, a
   * filesystem that does not report, an event queue overflow), a poll every pollInterval that
   * compares the files' contents with the last ones read. Logs a reload at info and a refused
   * pair at warning, once per distinct content. Call at most once.
   */
  void watch(boost::asio::io_context& context,
             std::chrono::milliseconds pollInterval = kDefaultPollInterval);

 private:
  struct Loaded;

  // Loaded by load(), which alone may see loaded_ null.
  explicit ServingCertificate(std::string directory);

  // Builds a context from the files' content and serves it; reloadMutex_ held.
  meshgate::Expected<meshgate::Ok, std::string> install(const std::string& certificatePem,
                                                        const std::string& keyPem);
  // Reloads when the files' content differs from the last content seen; logs the outcome.
  void reloadIfChanged(std::string_view trigger);

  const std::string directory_;
  mutable std::mutex mutex_;
  std::unique_ptr<Loaded> loaded_;  // guarded by mutex_
  // Serialises reloads, so that two racing ones cannot install the older files last.
  std::mutex reloadMutex_;
  // Digest of the files at the last load attempt, good or bad: the poll and the watcher act on a
  // change only, so a refused pair is warned about once. Guarded by reloadMutex_.
  std::string lastSeenDigest_;

  std::unique_ptr<meshgate::SecretVolumeWatch> watch_;
};

using ServingCertificatePtr = std::unique_ptr<ServingCertificate>;

}  // namespace meshgate::webhook
