// ClientTransport: the byte transport under a test's protocol client (Http2Client,
// testing/http2_client.h). A non-blocking socket of its own to a port on loopback, in cleartext or
// under TLS: OpenSSL runs over memory BIOs and the transport moves the bytes between them and the
// socket itself (with MSG_NOSIGNAL, so a reset connection is an error, not SIGPIPE). The server's
// certificate is not verified (tests use test certificates); the ALPN protocols and the SNI name
// offered are the owner's, and the protocol the server chose is kept. The owner queues plaintext,
// flushes it, and waits for the socket with a deadline, so nothing hangs a test; the plaintext that
// arrives and every failure (a message for the owner's error()) go to the two callbacks it was made
// with. Header-only, test code, used on the test thread only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/proxy/testing/loopback_client_socket.h"

namespace meshgate::dp::testing {

// What ClientTransport::startTls() offers the server.
struct ClientTlsOptions {
  // The ALPN protocols, in order (empty: no ALPN extension).
  std::vector<std::string> alpn{};
  // The SNI name (empty: none).
  std::string serverName{};
};

class ClientTransport {
 public:
  using Clock = std::chrono::steady_clock;
  // Receives the plaintext the server sent, in order, as it arrives.
  using PlaintextHandler = std::function<void(std::string_view)>;
  // Receives each failure as a message: "connect: Connection refused", "TLS read failed: …".
  using ErrorHandler = std::function<void(std::string)>;

  ClientTransport(PlaintextHandler onPlaintext, ErrorHandler onError)
      : onPlaintext_(std::move(onPlaintext)), onError_(std::move(onError)) {}
  ~ClientTransport() { close(); }
  ClientTransport(const ClientTransport&) = delete;
  ClientTransport& operator=(const ClientTransport&) = delete;

  // Opens the socket and connects it to 127.0.0.1:`port`, waiting until `deadline` at most. False
  // once the failure is reported.
  bool connect(uint16_t port, Clock::time_point deadline) {
    std::string error;
    fd_ = connectToLoopback(port, deadline, error);
    return fd_ >= 0 || report(error);
  }

  // Runs the TLS handshake on the connected socket, waiting until `deadline` at most; from then
  // on everything queued is encrypted and everything received decrypted. Plaintext that came with
  // the end of the handshake is delivered before it returns. False once the failure is reported.
  bool startTls(const ClientTlsOptions& options, Clock::time_point deadline) {
    sslContext_ = SSL_CTX_new(TLS_client_method());
    if (sslContext_ == nullptr) return report("SSL_CTX_new failed");
    SSL_CTX_set_verify(sslContext_, SSL_VERIFY_NONE, nullptr);  // a test certificate
    ssl_ = SSL_new(sslContext_);
    if (ssl_ == nullptr) return report("SSL_new failed");
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in, -1);  // empty: "retry", not EOF
    SSL_set_bio(ssl_, in, out);
    sslIn_ = in;
    sslOut_ = out;
    if (!options.alpn.empty()) {
      std::string protocols;  // ALPN's wire format: each name after its length byte
      for (const auto& protocol : options.alpn) {
        protocols.push_back(static_cast<char>(protocol.size()));
        protocols.append(protocol);
      }
      SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(protocols.data()),
                          static_cast<unsigned>(protocols.size()));
    }
    if (!options.serverName.empty()) SSL_set_tlsext_host_name(ssl_, options.serverName.c_str());
    SSL_set_connect_state(ssl_);
    for (;;) {
      ERR_clear_error();
      const int result = SSL_do_handshake(ssl_);
      drainTlsOutput();
      flush();
      if (result == 1) break;
      const int error = SSL_get_error(ssl_, result);
      if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
        return report("TLS handshake failed: " + tlsErrors());
      if (!socketIo(deadline, /*deliverPlaintext=*/false)) {
        if (!errorReported_) report("TLS handshake: connection ended");
        return false;
      }
      if (peerClosed_) return report("TLS handshake: connection closed by the server");
    }
    const unsigned char* protocol = nullptr;
    unsigned length = 0;
    SSL_get0_alpn_selected(ssl_, &protocol, &length);
    if (protocol != nullptr) alpn_.assign(reinterpret_cast<const char*>(protocol), length);
    readTls();  // what came with the end of the handshake
    return true;
  }

  // Plaintext for the server: into the outgoing queue as it is, or encrypted under TLS. Nothing
  // is written before flush() or waitAndTransfer().
  void queue(std::string_view plaintext) {
    if (ssl_ == nullptr) {
      wire_.append(plaintext);
      return;
    }
    while (!plaintext.empty()) {
      ERR_clear_error();
      const int n = SSL_write(ssl_, plaintext.data(), static_cast<int>(plaintext.size()));
      if (n <= 0) {
        report("TLS write failed: " + tlsErrors());
        return;
      }
      plaintext.remove_prefix(static_cast<size_t>(n));
    }
    drainTlsOutput();
  }

  // Writes what it can of the outgoing queue without waiting.
  void flush() {
    while (fd_ >= 0 && !writeFailed_ && wireSent_ < wire_.size()) {
      const ssize_t n =
          ::send(fd_, wire_.data() + wireSent_, wire_.size() - wireSent_, MSG_NOSIGNAL);
      if (n > 0) {
        wireSent_ += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
      writeFailed_ = true;
      reportErrno("write");
    }
    if (wireSent_ == wire_.size()) {
      wire_.clear();
      wireSent_ = 0;
    }
  }

  // Waits (until `deadline`) for the socket to be readable or, with bytes queued, writable;
  // writes what it can and delivers the plaintext of what arrived. False when nothing more can
  // happen: the connection ended, or the deadline passed.
  bool waitAndTransfer(Clock::time_point deadline) {
    return socketIo(deadline, /*deliverPlaintext=*/true);
  }

  // Frees the TLS state and closes the socket (the destructor does too).
  void close() {
    if (ssl_ != nullptr) SSL_free(ssl_);  // frees its BIOs
    if (sslContext_ != nullptr) SSL_CTX_free(sslContext_);
    if (fd_ >= 0) ::close(fd_);
    ssl_ = nullptr;
    sslIn_ = sslOut_ = nullptr;
    sslContext_ = nullptr;
    fd_ = -1;
  }

  // The socket was opened (connect() may still have failed).
  bool hasSocket() const { return fd_ >= 0; }
  // Everything queued was written.
  bool allWritten() const { return wireSent_ == wire_.size(); }
  // The server closed the connection (FIN, reset, or TLS close_notify).
  bool peerClosed() const { return peerClosed_ || tlsClosed_; }
  // Bytes can still go both ways: a socket, no write failed, and the server did not close.
  bool usable() const { return fd_ >= 0 && !writeFailed_ && !peerClosed(); }
  // TLS: the protocol ALPN chose ("h2", "http/1.1"), empty when none.
  const std::string& alpnProtocol() const { return alpn_; }

 private:
  static std::string tlsErrors() {
    std::string out;
    while (const unsigned long code = ERR_get_error()) {
      char text[256];
      ERR_error_string_n(code, text, sizeof text);
      if (!out.empty()) out.append("; ");
      out.append(text);
    }
    return out.empty() ? "unknown" : out;
  }

  // Moves what TLS has encrypted into the outgoing queue.
  void drainTlsOutput() {
    char chunk[16 * 1024];
    for (;;) {
      const int n = BIO_read(sslOut_, chunk, sizeof chunk);
      if (n <= 0) break;
      wire_.append(chunk, static_cast<size_t>(n));
    }
  }

  // waitAndTransfer(), and the handshake's wait: with `deliverPlaintext` false, what arrives under
  // TLS stays in the TLS input for SSL_do_handshake() to read.
  bool socketIo(Clock::time_point deadline, bool deliverPlaintext) {
    if (fd_ < 0 || peerClosed_) return false;
    const short events = static_cast<short>(POLLIN | (wireSent_ < wire_.size() ? POLLOUT : 0));
    if (!pollUntil(fd_, events, deadline)) return false;
    flush();
    char chunk[16 * 1024];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        received(std::string_view(chunk, static_cast<size_t>(n)), deliverPlaintext);
        continue;
      }
      if (n == 0 || errno == ECONNRESET) {
        peerClosed_ = true;
        return true;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
      reportErrno("read");
      peerClosed_ = true;
      return true;
    }
  }

  void received(std::string_view bytes, bool deliverPlaintext) {
    if (ssl_ == nullptr) {
      onPlaintext_(bytes);
      return;
    }
    BIO_write(sslIn_, bytes.data(), static_cast<int>(bytes.size()));
    if (deliverPlaintext) readTls();
  }

  // Decrypts what the TLS input holds and delivers it.
  void readTls() {
    char plain[16 * 1024];
    for (;;) {
      ERR_clear_error();
      const int n = SSL_read(ssl_, plain, sizeof plain);
      if (n > 0) {
        onPlaintext_(std::string_view(plain, static_cast<size_t>(n)));
        continue;
      }
      const int error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_ZERO_RETURN)
        tlsClosed_ = true;
      else if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
        report("TLS read failed: " + tlsErrors());
      break;
    }
    drainTlsOutput();  // post-handshake messages
  }

  // Hands a failure to the owner; false, for `return report(…)`.
  bool report(std::string why) {
    errorReported_ = true;
    onError_(std::move(why));
    return false;
  }
  bool reportErrno(std::string_view what) {
    return report(std::string(what) + ": " + std::strerror(errno));
  }

  PlaintextHandler onPlaintext_;
  ErrorHandler onError_;
  bool errorReported_ = false;

  int fd_ = -1;
  std::string wire_;  // bytes for the socket; wire_[wireSent_…] not written yet
  size_t wireSent_ = 0;
  bool writeFailed_ = false;
  bool peerClosed_ = false;  // FIN, reset, or a read error

  SSL_CTX* sslContext_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* sslIn_ = nullptr;   // owned by ssl_
  BIO* sslOut_ = nullptr;  // owned by ssl_
  bool tlsClosed_ = false;
  std::string alpn_;
};

}  // namespace meshgate::dp::testing
