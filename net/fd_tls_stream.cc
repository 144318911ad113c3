// FdTlsStream's OpenSSL side: the descriptor BIO, one OpenSSL call at a time and what its result
// means, the waiters' bookkeeping and the synchronous teardown. See fd_tls_stream.h.
#include "net/fd_tls_stream.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>

#include <boost/asio/ssl/error.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>

namespace meshgate::net {
namespace {

// A BIO on the socket's descriptor, as OpenSSL's socket BIO but writing with MSG_NOSIGNAL: a write
// to a connection the peer reset must fail with EPIPE, not raise SIGPIPE in the whole process.
// The descriptor is the BIO's data; the BIO does not own it.
int descriptorOf(BIO* bio) {
  return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio)));
}

bool retryable(int error) {
  return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

int writeDescriptor(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::send(descriptorOf(bio), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && retryable(errno)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int readDescriptor(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::recv(descriptorOf(bio), data, static_cast<std::size_t>(size), 0);
  if (n == 0) {
    BIO_set_flags(bio, BIO_FLAGS_IN_EOF);
  } else if (n < 0 && retryable(errno)) {
    BIO_set_retry_read(bio);
  }
  return static_cast<int>(n);
}

long controlDescriptor(BIO* bio, int command, long, void* pointer) {
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_EOF:
      // What OpenSSL 3 consults to tell an unexpected EOF from a failed read.
      return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    case BIO_C_GET_FD: {
      const int descriptor = descriptorOf(bio);
      if (pointer != nullptr) *static_cast<int*>(pointer) = descriptor;
      return descriptor;
    }
    default:
      return 0;
  }
}

// Created once, kept for the life of the process.
const BIO_METHOD* descriptorMethod() {
  static const BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "meshgate descriptor");
    if (m == nullptr || BIO_meth_set_write(m, writeDescriptor) != 1 ||
        BIO_meth_set_read(m, readDescriptor) != 1 || BIO_meth_set_ctrl(m, controlDescriptor) != 1) {
      return static_cast<BIO_METHOD*>(nullptr);
    }
    return m;
  }();
  return method;
}

[[noreturn]] void throwOpenSslError(const char* what) {
  const boost::system::error_code error(static_cast<int>(ERR_get_error()),
                                        boost::asio::error::get_ssl_category());
  ERR_clear_error();
  throw boost::system::system_error(error, what);
}

bool unexpectedEof(unsigned long error) {
  return ERR_GET_LIB(error) == ERR_LIB_SSL &&
         ERR_GET_REASON(error) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

}  // namespace

FdTlsStream::FdTlsStream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& context)
    : socket_(std::move(socket)) {
  ERR_clear_error();
  ssl_.reset(SSL_new(context.native_handle()));
  if (!ssl_) throwOpenSslError("SSL_new");
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                               SSL_MODE_RELEASE_BUFFERS);
  const BIO_METHOD* method = descriptorMethod();
  BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
  if (bio == nullptr) throwOpenSslError("BIO_new");
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(socket_.native_handle())));
  BIO_set_init(bio, 1);
  // One reference, used for both directions, now owned by the SSL object.
  SSL_set_bio(ssl_.get(), bio, bio);
  socket_.native_non_blocking(true);
}

FdTlsStream::Outcome FdTlsStream::readOnce(void* data, std::size_t size) {
  if (!socket_.is_open()) return {Want::kNothing, boost::asio::error::bad_descriptor, 0};
  // Connections share the thread's error queue: a stale entry would be misread as this call's.
  ERR_clear_error();
  errno = 0;
  std::size_t bytes = 0;
  const int result = SSL_read_ex(ssl_.get(), data, size, &bytes);
  return settle(kReadSide, result, bytes, errno);
}

FdTlsStream::Outcome FdTlsStream::writeOnce(const void* data, std::size_t size) {
  if (!socket_.is_open()) return {Want::kNothing, boost::asio::error::bad_descriptor, 0};
  ERR_clear_error();
  errno = 0;
  std::size_t bytes = 0;
  const int result = SSL_write_ex(ssl_.get(), data, size, &bytes);
  return settle(kWriteSide, result, bytes, errno);
}

FdTlsStream::Outcome FdTlsStream::handshakeOnce(boost::asio::ssl::stream_base::handshake_type type,
                                                bool first) {
  if (!socket_.is_open()) return {Want::kNothing, boost::asio::error::bad_descriptor, 0};
  if (first) {
    if (type == boost::asio::ssl::stream_base::client) {
      SSL_set_connect_state(ssl_.get());
    } else {
      SSL_set_accept_state(ssl_.get());
    }
  }
  ERR_clear_error();
  errno = 0;
  const int result = SSL_do_handshake(ssl_.get());
  return settle(kReadSide, result, 0, errno);
}

FdTlsStream::Outcome FdTlsStream::shutdownOnce() {
  if (!socket_.is_open()) return {Want::kNothing, boost::asio::error::bad_descriptor, 0};
  ERR_clear_error();
  errno = 0;
  const int result = SSL_shutdown(ssl_.get());
  // 0: close_notify sent, the peer's not yet received, which this stream does not wait for.
  if (result == 0) return settle(kWriteSide, 1, 0, 0);
  return settle(kWriteSide, result, 0, errno);
}

FdTlsStream::Outcome FdTlsStream::settle(Side side, int result, std::size_t bytes, int savedErrno) {
  Outcome outcome;
  switch (SSL_get_error(ssl_.get(), result)) {
    case SSL_ERROR_NONE:
      outcome.bytes = bytes;
      break;
    case SSL_ERROR_WANT_READ:
      outcome.want = Want::kRead;
      break;
    case SSL_ERROR_WANT_WRITE:
      outcome.want = Want::kWrite;
      break;
    case SSL_ERROR_ZERO_RETURN:
      outcome.error = boost::asio::error::eof;
      break;
    case SSL_ERROR_SYSCALL: {
      failed_ = true;
      const unsigned long queued = ERR_get_error();
      if (queued != 0) {
        outcome.error = boost::system::error_code(static_cast<int>(queued),
                                                  boost::asio::error::get_ssl_category());
      } else if (savedErrno != 0) {
        outcome.error = boost::system::error_code(savedErrno, boost::system::system_category());
      } else {
        // OpenSSL before 3.0's way of reporting a TCP close without close_notify.
        outcome.error = boost::asio::ssl::error::stream_truncated;
      }
      break;
    }
    case SSL_ERROR_SSL: {
      failed_ = true;
      const unsigned long queued = ERR_get_error();
      if (unexpectedEof(queued)) {
        outcome.error = boost::asio::ssl::error::stream_truncated;
      } else {
        outcome.error = boost::system::error_code(static_cast<int>(queued),
                                                  boost::asio::error::get_ssl_category());
      }
      break;
    }
    default:
      outcome.error = boost::asio::ssl::error::unexpected_result;
      break;
  }
  ERR_clear_error();

  // A waiter of the other side may have been waiting for what this call just did: a write that
  // needed the peer's handshake message this read consumed, a read whose reply this write
  // flushed, or application data this call read into the SSL object. Waits in a side's own
  // direction otherwise end by themselves when the socket becomes ready.
  const Side other = side == kReadSide ? kWriteSide : kReadSide;
  const Want waiting = waits_[other];
  const Want natural = other == kReadSide ? Want::kRead : Want::kWrite;
  if (waiting != Want::kNothing &&
      (waiting != natural || (other == kReadSide && SSL_pending(ssl_.get()) > 0))) {
    wakeWaiters();
  }
  return outcome;
}

void FdTlsStream::checkQueuedWait(Want want) {
  // With several threads running the io_context, another thread's epoll_wait can take the
  // socket's readiness edge between OpenSSL's EAGAIN and the queueing of the wait; the wait would
  // then sleep until the next edge, which may never come. Readiness now, with the wait queued,
  // means that may have happened: try again.
  pollfd descriptor{};
  descriptor.fd = socket_.native_handle();
  descriptor.events = want == Want::kRead ? POLLIN : POLLOUT;
  if (::poll(&descriptor, 1, 0) > 0) wakeWaiters();
}

void FdTlsStream::wakeWaiters() {
  ++wakeups_;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

void FdTlsStream::sendCloseNotify() {
  if (!socket_.is_open() || failed_ || SSL_is_init_finished(ssl_.get()) == 0) return;
  ERR_clear_error();
  SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

void teardown(boost::beast::role_type, FdTlsStream& stream, boost::beast::error_code& error) {
  error = {};
  auto& socket = stream.socket_;
  if (!socket.is_open()) return;
  stream.sendCloseNotify();
  boost::system::error_code ignored;
  socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  // What has already arrived, so that closing does not answer it with a RST; bounded, as a peer
  // may keep sending.
  char discard[512];
  for (int i = 0; i < 64; ++i) {
    const ssize_t n = ::recv(socket.native_handle(), discard, sizeof discard, 0);
    if (n <= 0) break;
  }
  socket.close(error);
}

}  // namespace meshgate::net
