// FdTlsStream is TLS over a connected TCP socket in which OpenSSL reads and writes the socket's
// file descriptor itself, so the stream keeps no buffers of its own between operations: an idle
// connection costs its SSL object (with SSL_MODE_RELEASE_BUFFERS), where asio::ssl::stream holds
// about 70 KiB of fixed buffers. The operator's config server puts its 1,000+ long-lived proxy
// connections on websocket::stream<FdTlsStream>; http::async_read/async_write work over it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

namespace meshgate::net {

/**
 * A TLS stream with asio::ssl::stream's asynchronous interface (AsyncReadStream and
 * AsyncWriteStream; completion signatures void(error_code) and void(error_code, size_t)), usable
 * as the next layer of boost::beast::websocket::stream and with Beast's HTTP algorithms.
 *
 * Not thread-safe: every operation, and closing the socket, must run on the socket's executor
 * (a strand when the io_context has several threads). As with asio::ssl::stream, at most one read
 * or handshake and at most one write or shutdown may be outstanding at a time; a read and a write
 * may be outstanding together. Operations complete through async_compose, on the handler's
 * associated executor, and honour terminal cancellation from the handler's cancellation slot (after
 * a cancelled write the connection is unusable, as OpenSSL requires the same bytes on retry).
 * Closing the socket completes pending operations with operation_aborted.
 *
 * Differences from asio::ssl::stream: async_shutdown sends close_notify and completes without
 * waiting for the peer's; errors from a TCP connection closed without close_notify are
 * ssl::error::stream_truncated also during the handshake.
 */
class FdTlsStream {
 public:
  using executor_type = boost::asio::any_io_executor;

  // `socket` must be connected. The SSL object is created from `context` (its mode, credentials
  // and verification settings apply) with SSL_MODE_ENABLE_PARTIAL_WRITE,
  // SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER and SSL_MODE_RELEASE_BUFFERS added; the socket is put in
  // non-blocking mode. Throws boost::system::system_error when either fails.
  FdTlsStream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& context);
  FdTlsStream(FdTlsStream&&) noexcept = default;
  FdTlsStream& operator=(FdTlsStream&&) noexcept = default;
  ~FdTlsStream() = default;

  executor_type get_executor() { return socket_.get_executor(); }
  // Also what boost::beast::get_lowest_layer() returns; closing it aborts pending operations.
  boost::asio::ip::tcp::socket& next_layer() { return socket_; }
  // For the peer certificate and SSL_get_verify_result, or client settings (SNI, SSL_set1_host)
  // before the handshake.
  SSL* native_handle() { return ssl_.get(); }

  // void(error_code). Failures are in boost::asio::error::get_ssl_category() (the OpenSSL error),
  // stream_truncated for a connection closed mid-handshake, or system errors (connection_reset).
  template <class Token>
  auto async_handshake(boost::asio::ssl::stream_base::handshake_type type, Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code)>(
        Op<HandshakeAction>(*this, HandshakeAction{type}), token, socket_);
  }

  // void(error_code, size_t): reads into the first non-empty buffer; an empty sequence completes
  // with 0. The peer's close_notify is boost::asio::error::eof, a TCP close without it
  // boost::asio::ssl::error::stream_truncated.
  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        Op<ReadAction<MutableBufferSequence>>(*this, ReadAction<MutableBufferSequence>(buffers)),
        token, socket_);
  }

  // void(error_code, size_t): writes at most one TLS record's worth. A small first buffer followed
  // by more (a WebSocket frame header and its payload) is copied with what follows into one
  // transient buffer of at most 16 KiB, so that it does not become a record of its own.
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        Op<WriteAction<ConstBufferSequence>>(*this, WriteAction<ConstBufferSequence>(buffers)),
        token, socket_);
  }

  // void(error_code): sends close_notify; does not wait for the peer's.
  template <class Token>
  auto async_shutdown(Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code)>(
        Op<ShutdownAction>(*this, ShutdownAction{}), token, socket_);
  }

 private:
  template <class TeardownHandler>
  friend void async_teardown(boost::beast::role_type, FdTlsStream&, TeardownHandler&&);
  friend void teardown(boost::beast::role_type, FdTlsStream&, boost::beast::error_code&);

  // What an operation waits for before its next attempt, if anything.
  enum class Want : std::uint8_t { kNothing, kRead, kWrite };
  // The read side runs reads and the handshake, the write side writes and the shutdown.
  enum Side : std::uint8_t { kReadSide = 0, kWriteSide = 1 };

  struct Outcome {
    Want want = Want::kNothing;
    boost::system::error_code error;
    std::size_t bytes = 0;
  };

  struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };

  // One OpenSSL call each; bad_descriptor when the socket is closed.
  Outcome readOnce(void* data, std::size_t size);
  Outcome writeOnce(const void* data, std::size_t size);
  Outcome handshakeOnce(boost::asio::ssl::stream_base::handshake_type type, bool first);
  Outcome shutdownOnce();
  // Classifies a finished OpenSSL call (its return value and errno) and wakes the other side's
  // waiter when this call may have done what it waits for.
  Outcome settle(Side side, int result, std::size_t bytes, int savedErrno);

  // An operation of `side` is about to wait for `want`; its wait is queued by the caller, after
  // which checkQueuedWait() makes sure readiness that came before the queueing is not missed.
  void beginWait(Side side, Want want) { waits_[side] = want; }
  void endWait(Side side) { waits_[side] = Want::kNothing; }
  void checkQueuedWait(Want want);
  // Ends every queued wait on the socket early (operation_aborted); the waiters see that
  // wakeups_ moved and try again instead of failing.
  void wakeWaiters();
  bool wokenSince(std::uint32_t wakeups) const { return wakeups != wakeups_; }

  // Teardown's best-effort close_notify: one non-blocking SSL_shutdown, errors dropped.
  void sendCloseNotify();

  // At most one record: a transient coalescing buffer never exceeds this.
  static constexpr std::size_t kMaxRecord = 16384;

  // The generic operation: try the action; on WANT_READ/WANT_WRITE wait for the socket and try
  // again; complete (posted when finished within the initiating call).
  template <class Action>
  class Op {
   public:
    Op(FdTlsStream& stream, Action action) : stream_(stream), action_(std::move(action)) {}

    template <class Self>
    void operator()(Self& self, boost::system::error_code waitError = {}) {
      switch (state_) {
        case State::kStarting:
          break;
        case State::kPosted:
          return finish(self, error_, bytes_);
        case State::kWaiting:
          stream_.endWait(Action::kSide);
          if (!stream_.socket_.is_open()) {
            return finish(self, boost::asio::error::operation_aborted, 0);
          }
          if (waitError == boost::asio::error::operation_aborted &&
              (self.cancelled() != boost::asio::cancellation_type::none ||
               !stream_.wokenSince(wakeups_))) {
            return finish(self, waitError, 0);
          }
          // Any other wait error: the next attempt reports what happened to the connection.
          break;
      }
      const Outcome outcome = action_.attempt(stream_, state_ == State::kStarting);
      if (outcome.want == Want::kNothing) {
        if (state_ == State::kStarting) {
          // Completing inside the initiating function would run the handler before it returns.
          state_ = State::kPosted;
          error_ = outcome.error;
          bytes_ = outcome.bytes;
          boost::asio::post(std::move(self));
          return;
        }
        return finish(self, outcome.error, outcome.bytes);
      }
      state_ = State::kWaiting;
      wakeups_ = stream_.wakeups_;
      FdTlsStream& stream = stream_;  // `this` moves with `self`.
      stream.beginWait(Action::kSide, outcome.want);
      stream.socket_.async_wait(outcome.want == Want::kRead
                                    ? boost::asio::ip::tcp::socket::wait_read
                                    : boost::asio::ip::tcp::socket::wait_write,
                                std::move(self));
      stream.checkQueuedWait(outcome.want);
    }

   private:
    enum class State : std::uint8_t { kStarting, kWaiting, kPosted };

    template <class Self>
    void finish(Self& self, boost::system::error_code error, std::size_t bytes) {
      action_.release();
      if constexpr (Action::kTransfersBytes) {
        self.complete(error, bytes);
      } else {
        self.complete(error);
      }
    }

    FdTlsStream& stream_;
    Action action_;
    State state_ = State::kStarting;
    std::uint32_t wakeups_ = 0;
    boost::system::error_code error_;
    std::size_t bytes_ = 0;
  };

  struct HandshakeAction {
    static constexpr Side kSide = kReadSide;
    static constexpr bool kTransfersBytes = false;
    boost::asio::ssl::stream_base::handshake_type type;
    Outcome attempt(FdTlsStream& stream, bool first) { return stream.handshakeOnce(type, first); }
    void release() {}
  };

  struct ShutdownAction {
    static constexpr Side kSide = kWriteSide;
    static constexpr bool kTransfersBytes = false;
    Outcome attempt(FdTlsStream& stream, bool) { return stream.shutdownOnce(); }
    void release() {}
  };

  template <class MutableBufferSequence>
  class ReadAction {
   public:
    static constexpr Side kSide = kReadSide;
    static constexpr bool kTransfersBytes = true;

    explicit ReadAction(const MutableBufferSequence& buffers) {
      const auto end = boost::asio::buffer_sequence_end(buffers);
      for (auto it = boost::asio::buffer_sequence_begin(buffers); it != end; ++it) {
        const boost::asio::mutable_buffer buffer(*it);
        if (buffer.size() != 0) {
          target_ = buffer;
          break;
        }
      }
    }
    Outcome attempt(FdTlsStream& stream, bool) {
      if (target_.size() == 0) return {};
      return stream.readOnce(target_.data(), target_.size());
    }
    void release() {}

   private:
    boost::asio::mutable_buffer target_;
  };

  template <class ConstBufferSequence>
  class WriteAction {
   public:
    static constexpr Side kSide = kWriteSide;
    static constexpr bool kTransfersBytes = true;

    explicit WriteAction(const ConstBufferSequence& buffers) : buffers_(buffers) {}

    Outcome attempt(FdTlsStream& stream, bool first) {
      // Retries after WANT_WRITE must pass the same bytes: chosen once.
      if (first) choose();
      if (size_ == 0) return {};
      return stream.writeOnce(data_, size_);
    }
    void release() { gathered_.reset(); }

   private:
    void choose() {
      const std::size_t total = boost::asio::buffer_size(buffers_);
      if (total == 0) return;
      const auto end = boost::asio::buffer_sequence_end(buffers_);
      for (auto it = boost::asio::buffer_sequence_begin(buffers_); it != end; ++it) {
        const boost::asio::const_buffer buffer(*it);
        if (buffer.size() == 0) continue;
        if (buffer.size() >= kMaxRecord || buffer.size() == total) {
          data_ = buffer.data();
          size_ = buffer.size();
          return;
        }
        break;
      }
      size_ = total < kMaxRecord ? total : kMaxRecord;
      gathered_ = std::make_unique_for_overwrite<unsigned char[]>(size_);
      boost::asio::buffer_copy(boost::asio::buffer(gathered_.get(), size_), buffers_);
      data_ = gathered_.get();
    }

    ConstBufferSequence buffers_;
    const void* data_ = nullptr;
    std::size_t size_ = 0;
    std::unique_ptr<unsigned char[]> gathered_;
  };

  // Beast's teardown: close_notify, then FIN, then discard what the peer still sends until its FIN
  // (closing with unread data would send a RST that can destroy the close_notify in flight), then
  // close.
  class TeardownOp {
   public:
    explicit TeardownOp(FdTlsStream& stream) : stream_(stream) {}

    template <class Self>
    void operator()(Self& self, boost::system::error_code error = {}, std::size_t = 0) {
      auto& socket = stream_.socket_;
      switch (state_) {
        case State::kStarting:
          if (!socket.is_open()) {
            state_ = State::kPosted;
            boost::asio::post(std::move(self));
            return;
          }
          stream_.sendCloseNotify();
          socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, error);
          if (error) break;
          state_ = State::kDraining;
          return receive(self);
        case State::kDraining:
          if (!error) return receive(self);
          break;
        case State::kPosted:
          return self.complete(boost::system::error_code{});
      }
      if (error == boost::asio::error::eof || error == boost::asio::error::not_connected ||
          error == boost::asio::error::connection_reset) {
        error = {};
      }
      boost::system::error_code ignored;
      socket.close(ignored);
      if (state_ == State::kStarting) {
        // Only when shutdown() failed; still complete outside the initiating function.
        state_ = State::kPosted;
        boost::asio::post(std::move(self));
        return;
      }
      drain_.reset();
      self.complete(error);
    }

   private:
    enum class State : std::uint8_t { kStarting, kDraining, kPosted };
    static constexpr std::size_t kDrainBuffer = 512;

    template <class Self>
    void receive(Self& self) {
      if (!drain_) drain_ = std::make_unique_for_overwrite<char[]>(kDrainBuffer);
      stream_.socket_.async_receive(boost::asio::buffer(drain_.get(), kDrainBuffer),
                                    std::move(self));
    }

    FdTlsStream& stream_;
    State state_ = State::kStarting;
    std::unique_ptr<char[]> drain_;
  };

  // Declared first: destroyed after the SSL object, which refers to its descriptor.
  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<SSL, SslFree> ssl_;
  std::uint32_t wakeups_ = 0;
  Want waits_[2] = {Want::kNothing, Want::kNothing};
  // A fatal TLS error happened: no close_notify may follow.
  bool failed_ = false;
};

// Beast's teardown customization points, found by argument-dependent lookup, so that
// websocket::stream<FdTlsStream> can close.

// Best effort without blocking: close_notify, FIN, discards what has already arrived, closes.
// Errors of a connection the peer already ended are not reported.
void teardown(boost::beast::role_type role, FdTlsStream& stream, boost::beast::error_code& error);

// close_notify (without waiting for the peer's), FIN, then reads and discards until the peer's FIN
// before closing, as Beast's TCP teardown does; closing the socket ends the wait (Beast's
// websocket timeout does) with operation_aborted.
template <class TeardownHandler>
void async_teardown(boost::beast::role_type, FdTlsStream& stream, TeardownHandler&& handler) {
  boost::asio::async_compose<TeardownHandler, void(boost::system::error_code)>(
      FdTlsStream::TeardownOp(stream), handler, stream.socket_);
}

}  // namespace meshgate::net
