// MeshCa holds the CA that currently signs and the trust bundle leaves ship in ca.crt (every root
// still trusted during a rotation). Set by the cluster bootstrap once the CA Secret is loaded or
// generated; read by the certificate issuer from controller workers. Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "pki/certificate_authority.h"

namespace meshgate::op {

struct MeshCaState {
  pki::CertificateAuthority authority;
  std::string trustBundlePem;
};

class MeshCa {
 public:
  void set(MeshCaState state) {
    std::lock_guard lock(mutex_);
    state_ = std::move(state);
  }
  // Empty until the bootstrap has run.
  std::optional<MeshCaState> current() const {
    std::lock_guard lock(mutex_);
    return state_;
  }

 private:
  mutable std::mutex mutex_;
  std::optional<MeshCaState> state_;
};

}  // namespace meshgate::op
