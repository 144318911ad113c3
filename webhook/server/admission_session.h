// AdmissionSession is one HTTPS connection AdmissionServer accepted (in practice, one of the
// kube-apiserver's keep-alive connections): TLS handshake, then requests read, answered by the
// HttpHandler and written back, until the client closes, a deadline passes, a request is refused
// or the server drains while the connection is idle.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "webhook/server/http_handler.h"

namespace meshgate::webhook {

struct AdmissionSessionLimits {
  // For the TLS handshake, counted from the accept.
  std::chrono::milliseconds handshake;
  // To receive one whole request, counted from the handshake or the end of the previous response:
  // it bounds a slow client and an idle keep-alive connection alike.
  std::chrono::milliseconds read;
  // To send one response.
  std::chrono::milliseconds write;
  std::size_t maxBodyBytes;
};

// How far the server that accepted a session has got in shutting down; sessions read it between
// steps, so a change applies to the request being handled.
enum class ServingPhase {
  kServing,
  // Requests already started are answered with `Connection: close`; idle connections close.
  kDraining,
  // A response the handler returns now is dropped: the server no longer waits for it.
  kStopping,
};

/**
 * Lives as long as an operation on its connection is pending (each completion handler holds a
 * shared_ptr). Its socket's executor is a strand of its own, which serialises its handlers while
 * other sessions run on the server's other threads.
 */
class AdmissionSession : public std::enable_shared_from_this<AdmissionSession> {
 public:
  // `socket` must have a strand as its executor. `tls` is kept for the connection's lifetime, so
  // a certificate reload does not affect it. `handler` and `phase` must outlive the session.
  // `onClosed` is called from the destructor, on whichever thread drops the last reference.
  AdmissionSession(boost::asio::ip::tcp::socket socket,
                   std::shared_ptr<boost::asio::ssl::context> tls, const HttpHandler& handler,
                   AdmissionSessionLimits limits, const std::atomic<ServingPhase>& phase,
                   std::function<void()> onClosed);
  ~AdmissionSession();
  AdmissionSession(const AdmissionSession&) = delete;
  AdmissionSession& operator=(const AdmissionSession&) = delete;

  void start();

  // Thread-safe; called once the server has left kServing. Closes the connection if it is idle
  // between requests (see idleBetweenRequests()); a busy session reads the phase itself when it
  // next waits for a request.
  void closeIfIdle();

 private:
  void onHandshake(boost::beast::error_code ec);
  // Waits for the first bytes of the next request, or reads it at once if they are buffered.
  void awaitRequest();
  void onRequestBytes(boost::beast::error_code ec, std::size_t bytes);
  // True when the connection is between requests, nothing of the next one received: closing it
  // then loses no request, and the apiserver resends on another connection.
  bool idleBetweenRequests();
  void readRequest();
  void onRead(boost::beast::error_code ec, std::size_t bytes);
  HttpResponse answer(const HttpRequest& request);
  // Answers a request that could not be read, then closes: the rest of the stream cannot be
  // trusted to start at a message boundary.
  void refuse(boost::beast::http::status status, std::string reason);
  // What follows a response: the next request, a TLS close, or a lingering close.
  enum class Then { kReadNext, kShutdown, kLingeringClose };
  void write(Then then);
  void onWrite(Then then, boost::beast::error_code ec, std::size_t bytes);
  void doShutdown();
  void onShutdown(boost::beast::error_code ec);
  // After refusing a request whose rest the client may still be sending: FIN, then read and drop
  // what arrives until the client closes or a short deadline passes. Closing with unread data
  // would reset the connection, which can destroy the refusal before the client reads it — and
  // OpenSSL's own shutdown stops at the first application record.
  void lingeringClose();
  void discardInput();
  void fail(boost::beast::error_code ec, const char* what);

  // Read before the socket is moved into stream_, and kept for logs after it is closed.
  const boost::asio::ip::tcp::endpoint peer_;
  // Declared before stream_: the stream's SSL object refers to it.
  const std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::beast::ssl_stream<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
  // Re-created for each request: a parser reads exactly one message.
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  // Kept here because async_write needs it alive until the write completes.
  HttpResponse response_;
  const HttpHandler& handler_;
  const AdmissionSessionLimits limits_;
  const std::atomic<ServingPhase>& phase_;
  const std::function<void()> onClosed_;
  // Set once a request was answered: the wait for the next one is then a keep-alive idle one,
  // which a drain may close, whereas a new connection is owed its first request.
  bool reused_ = false;
  // While the read started by awaitRequest() is pending.
  bool awaitingRequest_ = false;
};

}  // namespace meshgate::webhook
