// The read-answer-write loop of one probe connection.
#include "metrics/probe_session.h"

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace metrics {
namespace beast = boost::beast;
namespace http = beast::http;

namespace {
// Probe and scrape requests are a request line and a few headers; anything larger is not one.
constexpr std::uint32_t kHeaderLimit = 8 * 1024;
constexpr std::uint64_t kBodyLimit = 4 * 1024;
}  // namespace

ProbeSession::ProbeSession(boost::asio::ip::tcp::socket socket, const ProbeHandler& handler,
                           ProbeSessionTimeouts timeouts)
    : stream_(std::move(socket)), handler_(handler), timeouts_(timeouts) {}

void ProbeSession::start() {
  boost::asio::dispatch(stream_.get_executor(),
                        beast::bind_front_handler(&ProbeSession::doRead, shared_from_this()));
}

void ProbeSession::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
}

void ProbeSession::doRead() {
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(kBodyLimit);
  stream_.expires_after(timeouts_.read);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&ProbeSession::onRead, shared_from_this()));
}

void ProbeSession::onRead(beast::error_code ec, std::size_t) {
  // Happens when close() or the server's stop() closed the socket.
  if (ec == boost::asio::error::operation_aborted) return;
  // The client closed the connection between requests.
  if (ec == http::error::end_of_stream) return doClose();
  // tcp_stream has already closed the socket of a client too slow to send a request.
  if (ec == beast::error::timeout) return;
  if (ec) return fail(ec, "read");

  ProbeHandler::Request request = parser_->release();
  response_ = handler_.handle(request);
  const bool keepAlive = response_.keep_alive();
  stream_.expires_after(timeouts_.write);
  http::async_write(
      stream_, response_,
      beast::bind_front_handler(&ProbeSession::onWrite, shared_from_this(), keepAlive));
}

void ProbeSession::onWrite(bool keepAlive, beast::error_code ec, std::size_t) {
  if (ec == boost::asio::error::operation_aborted) return;
  if (ec) return fail(ec, "write");
  if (!keepAlive) return doClose();
  doRead();
}

void ProbeSession::doClose() {
  // Send FIN after the last response; the socket closes when the session goes away.
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
}

void ProbeSession::fail(beast::error_code ec, const char* what) {
  // Malformed requests and reset connections are the client's problem, not the operator's: keep
  // them out of the default log level. Returning drops the last reference to the session.
  spdlog::debug("probe server: {}: {}", what, ec.message());
}

}  // namespace metrics
