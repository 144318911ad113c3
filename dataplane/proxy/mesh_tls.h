// The sidecar's mutual TLS, built from its workload identity (workload_identity.h): the server
// context of the inbound listener (presents the workload certificate, asks every client for one and
// verifies it against every root of the trust bundle, so a CA rotation needs no restart) and the
// client context of calls to mesh services (presents the same certificate, verifies the server's
// chain against the bundle). Which workload the peer is comes from its one spiffe:// URI SAN:
// peerSpiffeId() reads it after the handshake, and the caller compares it with the identity it
// expects — SAN only, never the subject. ALPN: the server picks h2, else http/1.1 (alpn.h); the
// client offers http/1.1. Built per snapshot: a renewed certificate reaches new connections, open
// ones keep theirs.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "base/expected.h"
#include "dataplane/proxy/workload_identity.h"

namespace meshgate::dp {

struct MeshTlsContexts {
  std::shared_ptr<boost::asio::ssl::context> server;
  std::shared_ptr<boost::asio::ssl::context> client;
};

Expected<MeshTlsContexts, std::string> buildMeshTls(const WorkloadIdentity& identity);

// The peer certificate's spiffe:// URI SAN after a handshake; nullopt without a verified peer
// certificate or when it names none or several.
std::optional<std::string> peerSpiffeId(SSL* ssl);

}  // namespace meshgate::dp
