// Reading a TLS ClientHello without terminating TLS, for listeners that pass a TLS connection
// through unchanged to a backend picked by the server name the client asked for (as Envoy's
// tls_inspector and HAProxy's req.ssl_sni do). Pure parsing of the first bytes a client sent; the
// caller peeks them from the socket (tls_client_hello_peek.h) and re-calls with more bytes on
// kNeedMore. Strict: a ClientHello whose lengths do not add up, or whose server name could mean
// two things to the proxy and to the backend (two host_names, a repeated extension, bytes outside
// letters, digits, '-' and '.'), is kMalformed, and the caller refuses the connection.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace meshgate::dp {

enum class ClientHelloStatus {
  kNeedMore,   // no verdict yet: the ClientHello goes on past the bytes given
  kComplete,   // a whole, well-formed ClientHello
  kNotTls,     // the first byte is not a TLS handshake record (plaintext, or SSLv2)
  kMalformed,  // not a valid TLS record sequence starting with a ClientHello
  kTooLarge,   // the ClientHello's records would not fit in `maxBytes`
  // Only peekClientHello (tls_client_hello_peek.h) reports these two.
  kTimedOut,  // the whole ClientHello did not arrive within the timeout
  kClosed,    // the client closed (or reset) the connection before the ClientHello was whole
};

// A short, stable name for logs: "need more", "complete", "not tls", "malformed", ...
std::string_view describe(ClientHelloStatus status);

struct ClientHelloInfo {
  ClientHelloStatus status = ClientHelloStatus::kNeedMore;
  // The host_name of the server_name extension, lower-cased and without a trailing '.';
  // nullopt when the client sent none. Set only when status is kComplete.
  std::optional<std::string> serverName{};
  // The application_layer_protocol_negotiation list as sent (in order, as raw bytes); empty when
  // the client sent none. Set only when status is kComplete.
  std::vector<std::string> alpn{};

  bool operator==(const ClientHelloInfo&) const = default;
};

// Envoy's tls_inspector default: real ClientHellos are 200 bytes to 2 KiB (a post-quantum key
// share included); large session tickets or PSKs push a few past 16 KiB.
inline constexpr size_t kDefaultMaxClientHelloBytes = 64 * 1024;

// Parses the ClientHello at the start of `bytes`: TLS handshake records (RFC 8446 5.1: content
// type 22, legacy version 3.x, 1..16384 bytes each) carrying a ClientHello handshake message, which
// may span several records. Only the first `maxBytes` bytes are looked at: a ClientHello whose
// records (headers included) go past them is kTooLarge. Bytes after the ClientHello are ignored.
// The verdict on a prefix of some input, when not kNeedMore, is the verdict on the whole input.
ClientHelloInfo parseClientHello(std::span<const unsigned char> bytes,
                                 size_t maxBytes = kDefaultMaxClientHelloBytes);

}  // namespace meshgate::dp
