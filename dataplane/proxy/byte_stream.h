// ByteStream: one connection of the proxy, client or upstream side, plain TCP or TLS behind the
// same three calls, so the session logic is written once. Reads and writes are awaitables that
// return error codes (no exceptions on the data path). Deadlines are not kept here: the session's
// DeadlineSweeper entry calls cancel() and the pending operation ends with operation_aborted.
// Used only on its worker's thread.
#pragma once

#include <memory>
#include <span>
#include <tuple>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

namespace meshgate::dp {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

// What a read or write completes with: the error (if any) and the bytes transferred.
using IoResult = std::tuple<error_code, size_t>;
inline bool failed(const IoResult& result) {
  return static_cast<bool>(std::get<0>(result));
}

class ByteStream {
 public:
  explicit ByteStream(tcp::socket socket);
  // TLS over `socket` with `context`: handshake() must succeed before reads and writes.
  ByteStream(tcp::socket socket, asio::ssl::context& context);
  ByteStream(ByteStream&&) = default;
  ByteStream& operator=(ByteStream&&) = default;

  bool tls() const { return tls_ != nullptr; }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : socket_; }

  // Server side (client connections) or client side (upstream, verifying `serverName`).
  asio::awaitable<error_code> handshakeAsServer();
  asio::awaitable<error_code> handshakeAsClient(const std::string& serverName);
  // Client side of the mesh's mTLS: the chain is verified against the context's trust store; no
  // host name — the caller checks the peer's SPIFFE ID (mesh_tls.h) after it.
  asio::awaitable<error_code> handshakeAsMeshClient();
  // The OpenSSL connection of a TLS stream, null for plain TCP.
  SSL* nativeTls() { return tls_ ? tls_->native_handle() : nullptr; }

  // Not coroutines themselves: they return Asio's operation directly, so a read or write costs no
  // coroutine frame of its own (frames over 1 KiB are not recycled by Asio: a malloc each).
  // The buffers must stay alive until the awaitable completes (the caller co_awaits at once).
  asio::awaitable<IoResult> readSome(asio::mutable_buffer buffer);
  asio::awaitable<IoResult> writeAll(std::span<const asio::const_buffer> buffers);
  asio::awaitable<IoResult> writeAll(asio::const_buffer buffer);

  // Writes what the socket accepts right now, without waiting: plain TCP only (TLS writes
  // nothing and returns false). Advances `buffers` past what was written; true when all of it
  // was. A response nearly always fits the socket buffer, and then this one system call replaces
  // an asynchronous operation and its trip through the scheduler. On false, writeAll() the rest.
  bool writeNow(std::span<asio::const_buffer> buffers);
  // The same for one buffer: send(2) instead of sendmsg(2), which the kernel serves with less
  // work (no message header or vector to copy in).
  bool writeNow(asio::const_buffer& buffer);

  // Ends the pending operations (they complete with operation_aborted); the socket stays open.
  void cancel() {
    error_code ignored;
    socket().cancel(ignored);
  }
  // No more writes, and the peer is told so: on TLS a close_notify alert, then (both) a TCP FIN
  // after what is queued; reads go on (a TLS 1.3 peer may still send: RFC 8446 6.1). Call it only
  // while no write is pending. For a TCP relay, where a half-close is part of the data.
  asio::awaitable<void> finishSending();
  // No more writes (TCP FIN after what is queued); reads go on.
  void shutdownSend() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
  void close() {
    error_code ignored;
    socket().close(ignored);
  }

 private:
  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
};

}  // namespace meshgate::dp
