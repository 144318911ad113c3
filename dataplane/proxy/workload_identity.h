// WorkloadIdentity: a sidecar's X509-SVID as read from its --cert-dir, the service account's
// identity Secret (kubernetes.io/tls: tls.crt leaf first with any intermediates after, tls.key;
// plus ca.crt, the mesh's trust bundle) mounted by the pod. readWorkloadIdentityFiles() reads the
// three files, and checkWorkloadIdentity() checks them as a peer would — the key is the leaf's, the
// leaf chains to a root of ca.crt at `now`, it names exactly one spiffe:// URI — so that a set
// caught half-written, signed by another CA or expired is refused. WorkloadIdentityWatcher
// (workload_identity_watcher.h) calls both whenever the directory changes. No logging; errors name
// the file and never quote key material.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/expected.h"
#include "pki/certificate.h"
#include "pki/private_key.h"

namespace meshgate::dp {

/**
 * One checked set of identity files. Immutable once loaded; shared read-only between threads (the
 * main thread loads it, the admin thread reports it).
 */
struct WorkloadIdentity {
  using TimePoint = std::chrono::system_clock::time_point;

  static constexpr const char* kCertificateFile = "tls.crt";
  static constexpr const char* kKeyFile = "tls.key";
  static constexpr const char* kTrustBundleFile = "ca.crt";

  std::string spiffeId;   // the leaf's one spiffe:// URI SAN
  std::string serialHex;  // upper-case hex, as `openssl x509 -serial` prints it
  TimePoint notBefore;
  TimePoint notAfter;
  TimePoint loadedAt;  // when these files were read and accepted

  // What the mesh listeners will present and trust (traffic comes with the mesh issue).
  pki::Certificate leaf;
  std::vector<pki::Certificate> intermediates;  // the rest of tls.crt, in order
  pki::PrivateKey key;
  std::vector<pki::Certificate> roots;  // every certificate of ca.crt
};

using WorkloadIdentitySharedPtr = std::shared_ptr<const WorkloadIdentity>;

// The three files' content as read. The key's copy is wiped when it goes: it lives in memory no
// longer than needed (OpenSSL keeps its own, parsed form).
struct WorkloadIdentityFiles {
  WorkloadIdentityFiles() = default;
  WorkloadIdentityFiles(WorkloadIdentityFiles&&) = default;
  WorkloadIdentityFiles& operator=(WorkloadIdentityFiles&&) = default;
  ~WorkloadIdentityFiles();

  // Identifies the content of the three files (SHA-256 of each), without keeping the key's text.
  std::string digest() const;

  std::string certificatePem;
  std::string keyPem;
  std::string trustBundlePem;
};

/**
 * Reads <directory>/tls.crt, tls.key and ca.crt. nullopt when none of the three exists (no
 * MeshService uses the pod's service account, so the optional Secret volume is empty, or the
 * directory does not exist); the reason, naming the file, when only some exist or one cannot be
 * read.
 */
Expected<std::optional<WorkloadIdentityFiles>, std::string> readWorkloadIdentityFiles(
    const std::string& directory);

/**
 * The identity `files` hold, checked at `now` (which also becomes its loadedAt). Refused, with a
 * reason naming the file under `directory`: a PEM that does not decode, a key that is not the
 * leaf's, a leaf outside its validity or that does not chain to a root of ca.crt (OpenSSL's
 * X509_verify_cert, every certificate of ca.crt trusted, the rest of tls.crt untrusted
 * intermediates), no spiffe:// URI SAN or several.
 */
Expected<WorkloadIdentity, std::string> checkWorkloadIdentity(const WorkloadIdentityFiles& files,
                                                              const std::string& directory,
                                                              WorkloadIdentity::TimePoint now);

}  // namespace meshgate::dp
