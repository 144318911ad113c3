// ProbeSession is one connection ProbeServer accepted: it reads requests, has ProbeHandler answer
// them and writes the answers, keeping the connection alive between requests while the client
// asks to.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "metrics/probe_handler.h"

namespace metrics {

struct ProbeSessionTimeouts {
  // To receive one whole request, counted from the end of the previous response (or the accept):
  // it bounds a slow or silent client and an idle keep-alive connection alike.
  std::chrono::milliseconds read;
  // To send one response.
  std::chrono::milliseconds write;
};

/**
 * Lives as long as an operation on its connection is pending (each handler holds a shared_ptr).
 * Every method runs on the server's single io_context thread, which is what serialises them.
 */
class ProbeSession : public std::enable_shared_from_this<ProbeSession> {
 public:
  // handler must outlive the session.
  ProbeSession(boost::asio::ip::tcp::socket socket, const ProbeHandler& handler,
               ProbeSessionTimeouts timeouts);

  void start();
  // Closes the connection now; pending operations end with operation_aborted.
  void close();

 private:
  void doRead();
  void onRead(boost::beast::error_code ec, std::size_t bytes);
  void onWrite(bool keepAlive, boost::beast::error_code ec, std::size_t bytes);
  void doClose();
  void fail(boost::beast::error_code ec, const char* what);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  // Re-created for each request: a parser reads exactly one message.
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  // Kept here because async_write needs it alive until the write completes.
  ProbeHandler::Response response_;
  const ProbeHandler& handler_;
  const ProbeSessionTimeouts timeouts_;
};

}  // namespace metrics
