// Boost.Beast implementation of Transport. Each connection owns its io_context, so a blocking
// call runs that context on the caller's thread until its operations finish; every operation has
// a deadline through beast::tcp_stream's expiry, and cancel() is posted onto the context.
#include "kube/beast_transport.h"

#include <sys/stat.h>

#include <array>
#include <atomic>
#include <fstream>
#include <sstream>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

namespace kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxIdleConnections = 8;
constexpr uint64_t kMaxResponseBody = 512ull * 1024 * 1024;  // a 10k-object list is ~20 MiB

ApiError networkError(const std::string& what, const boost::system::error_code& ec) {
  return ApiError::network(what + ": " + ec.message());
}

// A failed write or read of a request: past its deadline it may have reached the server, which
// the caller must know (a Timeout is not sent again); anything else is a Network failure.
ApiError exchangeError(const HttpRequest& request, const boost::system::error_code& ec,
                       std::chrono::milliseconds timeout) {
  const std::string what = request.method + " " + request.target;
  if (ec == beast::error::timeout) {
    return ApiError::timeout(what + ": timed out after " + std::to_string(timeout.count()) + "ms");
  }
  return networkError(what, ec);
}

// A reused keep-alive connection that the server closed in the meantime fails like this before
// any response byte; the request is then safe to send again on a fresh connection.
bool isStaleConnectionError(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

std::map<std::string, std::string> lowerCaseHeaders(const http::fields& fields) {
  std::map<std::string, std::string> out;
  for (const auto& field : fields) {
    std::string name(field.name_string());
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[name] = std::string(field.value());
  }
  return out;
}

}  // namespace

class BeastTransport::Connection {
 public:
  explicit Connection(asio::ssl::context& tls) : stream(ioc, tls) {}

  // Runs the context until every operation started on it has completed.
  void run() {
    ioc.restart();
    ioc.run();
  }
  beast::tcp_stream& tcpStream() { return beast::get_lowest_layer(stream); }

  asio::io_context ioc;
  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

namespace {

class BeastResponseStream : public ResponseStream {
 public:
  BeastResponseStream(std::unique_ptr<BeastTransport::Connection> connection,
                      std::unique_ptr<http::response_parser<http::buffer_body>> parser)
      : connection_(std::move(connection)), parser_(std::move(parser)) {}

  Result<std::string> read(std::chrono::milliseconds idleTimeout) override {
    while (true) {
      if (cancelled_.load()) return ApiError::cancelled();
      if (parser_->is_done()) return std::string();
      auto& body = parser_->get().body();
      body.data = chunk_.data();
      body.size = chunk_.size();
      boost::system::error_code ec;
      connection_->tcpStream().expires_after(idleTimeout);
      http::async_read_some(connection_->stream, connection_->buffer, *parser_,
                            [&](boost::system::error_code e, size_t) { ec = e; });
      connection_->run();
      if (ec == http::error::need_buffer) ec = {};
      if (cancelled_.load()) return ApiError::cancelled();
      if (ec == beast::error::timeout) {
        return ApiError::timeout("no data on the stream for " +
                                 std::to_string(idleTimeout.count()) + "ms");
      }
      if (ec) return networkError("reading stream", ec);
      const size_t n = chunk_.size() - parser_->get().body().size;
      if (n > 0) return std::string(chunk_.data(), n);
      // Only framing (a chunk header) was consumed: read again.
    }
  }

  void cancel() override {
    cancelled_.store(true);
    auto* connection = connection_.get();
    asio::post(connection->ioc, [connection] { connection->tcpStream().cancel(); });
  }

 private:
  std::unique_ptr<BeastTransport::Connection> connection_;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser_;
  std::array<char, 64 * 1024> chunk_{};
  std::atomic<bool> cancelled_{false};
};

}  // namespace

Result<std::unique_ptr<BeastTransport>> BeastTransport::create(const RestConfig& config) {
  auto url = boost::urls::parse_uri(config.server);
  if (!url || url->scheme() != "https" || url->host().empty()) {
    return ApiError::invalidConfig("server must be an https:// URL, got \"" + config.server + "\"");
  }
  std::string host = url->host_type() == boost::urls::host_type::ipv6
                         ? url->host_ipv6_address().to_string()
                         : std::string(url->host());
  std::string port = url->has_port() ? std::string(url->port()) : "443";
  std::string prefix(url->encoded_path());
  while (!prefix.empty() && prefix.back() == '/')
    prefix.pop_back();
  auto tls = makeTlsClientContext(config);
  if (!tls) return tls.error();
  return std::unique_ptr<BeastTransport>(new BeastTransport(
      config, std::move(tls).value(), std::move(host), std::move(port), std::move(prefix)));
}

BeastTransport::BeastTransport(const RestConfig& config, TlsContextSharedPtr tls, std::string host,
                               std::string port, std::string pathPrefix)
    : config_(config),
      tls_(std::move(tls)),
      host_(std::move(host)),
      port_(std::move(port)),
      pathPrefix_(std::move(pathPrefix)) {}

BeastTransport::~BeastTransport() = default;

size_t BeastTransport::idleConnections() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

std::unique_ptr<BeastTransport::Connection> BeastTransport::takeIdle() {
  std::lock_guard lock(mutex_);
  if (idle_.empty()) return nullptr;
  auto connection = std::move(idle_.back());
  idle_.pop_back();
  return connection;
}

void BeastTransport::putIdle(std::unique_ptr<Connection> connection) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(connection));
}

std::string BeastTransport::authorizationHeader() {
  if (!config_.bearerTokenFile.empty()) {
    std::lock_guard lock(mutex_);
    struct stat st {};
    if (::stat(config_.bearerTokenFile.c_str(), &st) == 0 && st.st_mtime != tokenFileMtime_) {
      std::ifstream in(config_.bearerTokenFile);
      std::ostringstream text;
      text << in.rdbuf();
      std::string token = text.str();
      while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
        token.pop_back();
      }
      if (!token.empty()) {
        cachedToken_ = token;
        tokenFileMtime_ = st.st_mtime;
      }
    }
    if (!cachedToken_.empty()) return "Bearer " + cachedToken_;
  }
  if (!config_.bearerToken.empty()) return "Bearer " + config_.bearerToken;
  return "";
}

Result<std::unique_ptr<BeastTransport::Connection>> BeastTransport::connect() {
  auto connection = std::make_unique<Connection>(*tls_);
  boost::system::error_code ec;

  tcp::resolver resolver(connection->ioc);
  asio::steady_timer resolveDeadline(connection->ioc);
  tcp::resolver::results_type endpoints;
  resolveDeadline.expires_after(config_.connectTimeout);
  resolveDeadline.async_wait([&](boost::system::error_code e) {
    if (!e) resolver.cancel();
  });
  resolver.async_resolve(host_, port_,
                         [&](boost::system::error_code e, tcp::resolver::results_type results) {
                           ec = e;
                           endpoints = std::move(results);
                           resolveDeadline.cancel();
                         });
  connection->run();
  if (ec) return networkError("resolving " + host_, ec);

  connection->tcpStream().expires_after(config_.connectTimeout);
  connection->tcpStream().async_connect(
      endpoints, [&](boost::system::error_code e, const tcp::endpoint&) { ec = e; });
  connection->run();
  if (ec) return networkError("connecting to " + host_ + ":" + port_, ec);
  connection->tcpStream().socket().set_option(tcp::no_delay(true), ec);

  const std::string expectedName = config_.tlsServerName.empty() ? host_ : config_.tlsServerName;
  if (auto problem = configureServerVerification(connection->stream.native_handle(), expectedName,
                                                 !config_.insecureSkipTlsVerify);
      !problem.empty()) {
    return ApiError::invalidConfig(problem);
  }
  connection->tcpStream().expires_after(config_.connectTimeout);
  connection->stream.async_handshake(asio::ssl::stream_base::client,
                                     [&](boost::system::error_code e) { ec = e; });
  connection->run();
  if (ec) {
    std::string detail = ec.message();
    const long verify = SSL_get_verify_result(connection->stream.native_handle());
    if (verify != X509_V_OK)
      detail += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
    return ApiError::network("TLS handshake with " + expectedName + ": " + detail);
  }
  return connection;
}

namespace {

http::request<http::string_body> buildRequest(const HttpRequest& request, const std::string& target,
                                              const std::string& hostHeader,
                                              const std::string& userAgent,
                                              const std::string& authorization) {
  http::request<http::string_body> req;
  req.method_string(request.method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, hostHeader);
  req.set(http::field::user_agent, userAgent);
  req.set(http::field::accept, request.accept);
  if (!authorization.empty()) req.set(http::field::authorization, authorization);
  if (!request.contentType.empty()) req.set(http::field::content_type, request.contentType);
  if (!request.body.empty() || request.method != "GET") req.body() = request.body;
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

}  // namespace

Result<HttpResponse> BeastTransport::roundTrip(const HttpRequest& request) {
  const auto timeout = request.timeout.count() > 0 ? request.timeout : config_.timeout;
  const std::string authorization = authorizationHeader();
  const std::string hostHeader = host_ + ":" + port_;
  for (int attempt = 0;; attempt++) {
    auto connection = takeIdle();
    const bool reused = connection != nullptr;
    if (!connection) {
      auto fresh = connect();
      if (!fresh) return fresh.error();
      connection = std::move(fresh).value();
    }
    auto req = buildRequest(request, pathPrefix_ + request.target, hostHeader, config_.userAgent,
                            authorization);
    boost::system::error_code ec;
    connection->tcpStream().expires_after(timeout);
    http::async_write(connection->stream, req,
                      [&](boost::system::error_code e, size_t) { ec = e; });
    connection->run();
    if (ec) {
      if (reused && attempt == 0 && ec != beast::error::timeout) continue;
      return exchangeError(request, ec, timeout);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    http::async_read(connection->stream, connection->buffer, parser,
                     [&](boost::system::error_code e, size_t) { ec = e; });
    connection->run();
    if (ec) {
      if (reused && attempt == 0 && !parser.got_some() && isStaleConnectionError(ec)) continue;
      return exchangeError(request, ec, timeout);
    }
    auto message = parser.release();
    HttpResponse response;
    response.status = static_cast<int>(message.result_int());
    response.headers = lowerCaseHeaders(message.base());
    response.body = std::move(message.body());
    if (message.keep_alive()) {
      connection->tcpStream().expires_never();
      putIdle(std::move(connection));
    }
    return response;
  }
}

Result<ResponseStreamPtr> BeastTransport::stream(const HttpRequest& request) {
  auto fresh = connect();
  if (!fresh) return fresh.error();
  auto connection = std::move(fresh).value();
  auto req = buildRequest(request, pathPrefix_ + request.target, host_ + ":" + port_,
                          config_.userAgent, authorizationHeader());
  boost::system::error_code ec;
  const auto timeout = request.timeout.count() > 0 ? request.timeout : config_.timeout;
  connection->tcpStream().expires_after(timeout);
  http::async_write(connection->stream, req, [&](boost::system::error_code e, size_t) { ec = e; });
  connection->run();
  if (ec) return exchangeError(request, ec, timeout);

  auto parser = std::make_unique<http::response_parser<http::buffer_body>>();
  parser->body_limit(
      boost::none);  // a watch body is unbounded; each event is bounded by the decoder
  http::async_read_header(connection->stream, connection->buffer, *parser,
                          [&](boost::system::error_code e, size_t) { ec = e; });
  connection->run();
  if (ec) return exchangeError(request, ec, timeout);
  const int status = static_cast<int>(parser->get().result_int());
  auto stream = std::make_unique<BeastResponseStream>(std::move(connection), std::move(parser));
  if (status >= 200 && status < 300) return ResponseStreamPtr(std::move(stream));

  // An error before the stream started (e.g. 410 Gone): read the Status body, bounded.
  std::string body;
  while (body.size() < 1024 * 1024) {
    auto piece = stream->read(timeout);
    if (!piece || piece->empty()) break;
    body += *piece;
  }
  return ApiError::fromResponse(status, body);
}

}  // namespace kube
