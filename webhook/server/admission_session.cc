// The handshake-read-answer-write loop of one admission connection; see admission_session.h.
#include "webhook/server/admission_session.h"

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <exception>

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace meshgate::webhook {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// An AdmissionReview request carries a few short headers; 16 KiB leaves room for proxies.
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
// For the TLS close_notify exchange when closing, and for a client to stop sending after a refusal;
// a client slower than that is not waited for.
constexpr std::chrono::milliseconds kCloseTimeout{1000};
// The first read of a request: one TLS record's worth.
constexpr std::size_t kFirstReadBytes = 16 * 1024;

asio::ip::tcp::endpoint remoteEndpoint(const asio::ip::tcp::socket& socket) {
  beast::error_code ignored;
  return socket.remote_endpoint(ignored);
}

bool isHttpParseError(beast::error_code ec) {
  return ec.category() == beast::error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

}  // namespace

AdmissionSession::AdmissionSession(asio::ip::tcp::socket socket,
                                   std::shared_ptr<asio::ssl::context> tls,
                                   const HttpHandler& handler, AdmissionSessionLimits limits,
                                   const std::atomic<ServingPhase>& phase,
                                   std::function<void()> onClosed)
    : peer_(remoteEndpoint(socket)),
      tls_(std::move(tls)),
      stream_(std::move(socket), *tls_),
      handler_(handler),
      limits_(limits),
      phase_(phase),
      onClosed_(std::move(onClosed)) {}

AdmissionSession::~AdmissionSession() {
  // Closed before the notification, so that whoever waits for sessions to end finds them closed.
  beast::get_lowest_layer(stream_).close();
  if (onClosed_) onClosed_();
}

void AdmissionSession::start() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    beast::get_lowest_layer(self->stream_).expires_after(self->limits_.handshake);
    self->stream_.async_handshake(asio::ssl::stream_base::server,
                                  beast::bind_front_handler(&AdmissionSession::onHandshake, self));
  });
}

void AdmissionSession::closeIfIdle() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    // Cancelling cannot take back a read that has already completed with bytes: its handler,
    // queued behind this one, still gets them and the request is served.
    if (self->awaitingRequest_ && self->idleBetweenRequests()) {
      beast::get_lowest_layer(self->stream_).cancel();
    }
  });
}

void AdmissionSession::onHandshake(beast::error_code ec) {
  // Port scanners, TCP health checks and clients that distrust our certificate all end here:
  // nothing an operator can act on, so not at the default log level.
  if (ec) return fail(ec, "TLS handshake");
  awaitRequest();
}

void AdmissionSession::awaitRequest() {
  // One deadline for the idle wait and the whole request; readRequest() keeps it.
  beast::get_lowest_layer(stream_).expires_after(limits_.read);
  if (buffer_.size() > 0) return readRequest();
  // Returning closes the connection.
  if (phase_.load() != ServingPhase::kServing && idleBetweenRequests()) return;
  // A read of its own rather than the parser's: while it is pending, the session is known to hold
  // no byte of a request, which is what closeIfIdle() needs to know.
  awaitingRequest_ = true;
  stream_.async_read_some(
      buffer_.prepare(kFirstReadBytes),
      beast::bind_front_handler(&AdmissionSession::onRequestBytes, shared_from_this()));
}

void AdmissionSession::onRequestBytes(beast::error_code ec, std::size_t bytes) {
  awaitingRequest_ = false;
  // Cancelled by closeIfIdle(), or the server is stopping.
  if (ec == asio::error::operation_aborted) return;
  // The client closed the connection between requests, with a TLS close_notify.
  if (ec == asio::error::eof) return doShutdown();
  // Includes beast::error::timeout: idle for longer than the read deadline.
  if (ec) return fail(ec, "read");
  buffer_.commit(bytes);
  readRequest();
}

bool AdmissionSession::idleBetweenRequests() {
  if (!reused_ || buffer_.size() > 0) return false;
  // Bytes of a request may also have arrived without being decrypted yet: a partial TLS record in
  // OpenSSL's buffer, records in the BIO asio feeds it through, or data in the kernel.
  SSL* ssl = stream_.native_handle();
  if (SSL_has_pending(ssl) == 1 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0) return false;
  beast::error_code ignored;
  return beast::get_lowest_layer(stream_).socket().available(ignored) == 0;
}

void AdmissionSession::readRequest() {
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(limits_.maxBodyBytes);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&AdmissionSession::onRead, shared_from_this()));
}

void AdmissionSession::onRead(beast::error_code ec, std::size_t) {
  // The server is stopping.
  if (ec == asio::error::operation_aborted) return;
  // The client closed the connection between requests, with a TLS close_notify.
  if (ec == http::error::end_of_stream) return doShutdown();
  if (ec == http::error::body_limit) {
    return refuse(http::status::payload_too_large,
                  "request body exceeds " + std::to_string(limits_.maxBodyBytes) + " bytes");
  }
  if (ec == http::error::header_limit) {
    return refuse(http::status::request_header_fields_too_large, "request header too large");
  }
  if (isHttpParseError(ec)) return refuse(http::status::bad_request, "malformed request");
  // Includes beast::error::timeout (tcp_stream has closed the socket of a client too slow to send
  // a request, or idle too long) and a client gone without close_notify.
  if (ec) return fail(ec, "read");

  const HttpRequest request = parser_->release();
  reused_ = true;
  response_ = answer(request);
  // Read after the handler, which may have run for a while.
  const ServingPhase phase = phase_.load();
  // Returning closes the connection without an answer, as stop() promises.
  if (phase == ServingPhase::kStopping) return;
  response_.version(request.version());
  // While draining, the client learns that this connection ends with this response, and sends its
  // next request elsewhere.
  response_.keep_alive(request.keep_alive() && phase == ServingPhase::kServing);
  response_.prepare_payload();
  write(response_.keep_alive() ? Then::kReadNext : Then::kShutdown);
}

HttpResponse AdmissionSession::answer(const HttpRequest& request) {
  try {
    return handler_(request);
  } catch (const std::exception& e) {
    spdlog::error("admission server: handler failed on {} {}: {}",
                  std::string_view(request.method_string()), std::string_view(request.target()),
                  e.what());
  } catch (...) {
    spdlog::error("admission server: handler failed on {} {}: unknown exception",
                  std::string_view(request.method_string()), std::string_view(request.target()));
  }
  HttpResponse response{http::status::internal_server_error, request.version()};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = "internal server error\n";
  return response;
}

void AdmissionSession::refuse(http::status status, std::string reason) {
  spdlog::debug("admission server: refusing a request from {}:{}: {}", peer_.address().to_string(),
                peer_.port(), reason);
  response_ = HttpResponse{status, 11};
  response_.set(http::field::content_type, "text/plain; charset=utf-8");
  response_.body() = std::move(reason) + "\n";
  response_.keep_alive(false);
  response_.prepare_payload();
  write(Then::kLingeringClose);
}

void AdmissionSession::write(Then then) {
  beast::get_lowest_layer(stream_).expires_after(limits_.write);
  http::async_write(
      stream_, response_,
      beast::bind_front_handler(&AdmissionSession::onWrite, shared_from_this(), then));
}

void AdmissionSession::onWrite(Then then, beast::error_code ec, std::size_t) {
  if (ec == asio::error::operation_aborted) return;
  if (ec) return fail(ec, "write");
  switch (then) {
    case Then::kReadNext:
      return awaitRequest();
    case Then::kShutdown:
      return doShutdown();
    case Then::kLingeringClose:
      return lingeringClose();
  }
}

void AdmissionSession::doShutdown() {
  // close_notify, then wait for the client's.
  beast::get_lowest_layer(stream_).expires_after(std::min(limits_.write, kCloseTimeout));
  stream_.async_shutdown(
      beast::bind_front_handler(&AdmissionSession::onShutdown, shared_from_this()));
}

void AdmissionSession::onShutdown(beast::error_code ec) {
  // Most clients close without waiting for our close_notify; the socket closes with the session.
  if (ec && ec != asio::error::operation_aborted) fail(ec, "TLS shutdown");
}

void AdmissionSession::lingeringClose() {
  auto& tcp = beast::get_lowest_layer(stream_);
  beast::error_code ignored;
  tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  // Set once: the deadline is absolute and bounds the whole drain, not each read.
  tcp.expires_after(std::min(limits_.read, kCloseTimeout));
  discardInput();
}

void AdmissionSession::discardInput() {
  // Below TLS: the bytes are dropped, so there is nothing to decrypt them for.
  beast::get_lowest_layer(stream_).async_read_some(
      buffer_.prepare(16 * 1024), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        // The client closed, reset, or took too long; the session ends and closes the socket.
        if (ec) return;
        self->discardInput();
      });
}

void AdmissionSession::fail(beast::error_code ec, const char* what) {
  // Reset connections, timeouts and handshake failures are the client's business; returning drops
  // the last reference to the session, which closes the socket.
  spdlog::debug("admission server: {} with {}:{}: {}", what, peer_.address().to_string(),
                peer_.port(), ec.message());
}

}  // namespace meshgate::webhook
