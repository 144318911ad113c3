// One config stream connection; see config_session.h and the rules in config_server.h.
#include "operator/config_session.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <exception>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include "api/config_stream_protocol.h"
#include "pki/certificate.h"

namespace meshgate::op {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace stream = api::stream;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// An upgrade request is a few short headers; it has no body.
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
constexpr std::uint64_t kBodyLimit = 4 * 1024;
// To answer a refused request and exchange close_notify; a slower client is not waited for.
constexpr std::chrono::milliseconds kRefusalTimeout{2000};
// What a close frame's reason holds (RFC 6455 §5.5: 125 bytes of payload, 2 for the code).
constexpr std::size_t kMaxCloseReason = 123;

std::string endpointText(const asio::ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

asio::ip::tcp::endpoint remoteEndpoint(const asio::ip::tcp::socket& socket) {
  beast::error_code ignored;
  return socket.remote_endpoint(ignored);
}

// Cut to kMaxCloseReason bytes, not inside a UTF-8 sequence.
std::string closeReason(std::string reason) {
  if (reason.size() <= kMaxCloseReason) return reason;
  std::size_t end = kMaxCloseReason;
  while (end > 0 && (static_cast<unsigned char>(reason[end]) & 0xC0) == 0x80)
    --end;
  reason.resize(end);
  return reason;
}

bool isHttpParseError(beast::error_code ec) {
  return ec.category() == beast::error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// The ends of a connection nobody needs to hear about at the default level.
bool isNormalEnd(beast::error_code ec) {
  return ec == websocket::error::closed || ec == asio::error::operation_aborted ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated;
}

const char* messageType(const stream::ClientMessage& message) {
  if (std::holds_alternative<stream::Hello>(message)) return "Hello";
  if (std::holds_alternative<stream::Ack>(message)) return "Ack";
  return "Nack";
}

void logException(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("config server: session failed: {}", e.what());
  } catch (...) {
    spdlog::error("config server: session failed: unknown exception");
  }
}

}  // namespace

ConfigSession::ConfigSession(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> tls,
                             const ConfigServerOptions& options, SnapshotSource& source,
                             DataplaneRegistry& registry, std::function<void()> onClosed)
    : executor_(socket.get_executor()),
      peer_(remoteEndpoint(socket)),
      acceptedAt_(std::chrono::steady_clock::now()),
      tls_(std::move(tls)),
      ws_(net::FdTlsStream(std::move(socket), *tls_)),
      wake_(executor_),
      handshakeDeadline_(executor_),
      helloDeadline_(executor_),
      options_(options),
      source_(source),
      registry_(registry),
      onClosed_(std::move(onClosed)) {}

ConfigSession::~ConfigSession() {
  closeSocket();
  if (id_) {
    registry_.disconnected(*id_);
    spdlog::info("config server: {} disconnected", describe());
  }
  if (onClosed_) onClosed_();
}

void ConfigSession::start() {
  asio::co_spawn(
      executor_, [self = shared_from_this()] { return self->run(); }, logException);
}

void ConfigSession::snapshotsChanged() {
  asio::post(executor_, [self = shared_from_this()] { self->wake_.cancel(); });
}

void ConfigSession::abort() {
  asio::post(executor_, [self = shared_from_this()] {
    self->aborted_ = true;
    self->stopping();
    // Every pending operation ends with operation_aborted, and with them the coroutines.
    self->closeSocket();
  });
}

asio::awaitable<void> ConfigSession::run() {
  const bool upgraded = co_await upgrade();
  // Its handler holds the session: a refused connection must not outlive its refusal.
  handshakeDeadline_.cancel();
  if (!upgraded) co_return;
  if (!co_await hello()) co_return;
  asio::co_spawn(
      executor_, [self = shared_from_this()] { return self->sendSnapshots(); }, logException);
  co_await readFrames();
}

asio::awaitable<bool> ConfigSession::upgrade() {
  const auto handshakeEnds = acceptedAt_ + options_.handshakeTimeout;
  closeAt(handshakeEnds);

  // Port scanners, health checks and clients without a trusted certificate end here.
  auto [handshakeError] =
      co_await ws_.next_layer().async_handshake(asio::ssl::stream_base::server, kNoThrow);
  if (handshakeError) {
    ended(handshakeError, "TLS handshake");
    co_return false;
  }

  http::request_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(kBodyLimit);
  auto [readError, bytes] = co_await http::async_read(ws_.next_layer(), buffer_, parser, kNoThrow);
  if (isHttpParseError(readError)) {
    co_await refuse(http::status::bad_request, "malformed request", 11);
    co_return false;
  }
  if (readError) {
    ended(readError, "reading the upgrade request");
    co_return false;
  }
  http::request<http::string_body> request = parser.release();
  if (std::string_view(request.target()) != stream::kPath) {
    co_await refuse(http::status::not_found,
                    "not found: the config stream is at " + std::string(stream::kPath),
                    request.version());
    co_return false;
  }
  if (!websocket::is_upgrade(request)) {
    co_await refuse(http::status::bad_request,
                    "bad request: " + std::string(stream::kPath) + " takes a WebSocket upgrade",
                    request.version());
    co_return false;
  }
  // The handshake verified the chain, so there is a certificate; what its identity may receive
  // depends on the mode the Hello asks for.
  if (X509* peer = SSL_get0_peer_certificate(ws_.next_layer().native_handle())) {
    X509_up_ref(peer);
    if (auto certificate = pki::Certificate::adopt(peer)) peerUris_ = certificate->uris();
  }

  // Beast's own timers from here on: the rest of the handshake deadline for the accept.
  handshakeDeadline_.cancel();
  websocket::stream_base::timeout accepting;
  accepting.handshake_timeout = std::max<std::chrono::steady_clock::duration>(
      handshakeEnds - std::chrono::steady_clock::now(), std::chrono::milliseconds(1));
  accepting.idle_timeout = websocket::stream_base::none();
  accepting.keep_alive_pings = false;
  ws_.set_option(accepting);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, "meshgate"); }));
  ws_.read_message_max(stream::kMaxFrameBytes);
  // A snapshot goes out as one frame, not as fragments of write_buffer_bytes.
  ws_.auto_fragment(false);
  ws_.text(true);
  auto [acceptError] = co_await ws_.async_accept(request, kNoThrow);
  if (acceptError) {
    ended(acceptError, "WebSocket accept");
    co_return false;
  }

  // The close handshake gets as long as the opening one.
  websocket::stream_base::timeout open;
  open.handshake_timeout = options_.handshakeTimeout;
  open.idle_timeout = 3 * options_.pingInterval;
  open.keep_alive_pings = true;
  ws_.set_option(open);
  co_return true;
}

std::optional<std::string> ConfigSession::gatewayIdentity(std::string& refusal) const {
  for (const auto& uri : peerUris_) {
    if (std::ranges::find(options_.gatewayIdentities, uri) != options_.gatewayIdentities.end())
      return uri;
  }
  const auto spiffe = std::ranges::find_if(
      peerUris_, [](const std::string& uri) { return uri.starts_with("spiffe://"); });
  const std::string who = spiffe != peerUris_.end() ? *spiffe : "no SPIFFE ID";
  refusal = "forbidden: " + who + " may not receive gateway config";
  return std::nullopt;
}

std::optional<api::WorkloadIdentity> ConfigSession::sidecarIdentity(std::string& refusal) const {
  // An X.509 SVID carries exactly one URI SAN: with two, which workload would this be?
  if (peerUris_.size() == 1) {
    const std::string& uri = peerUris_.front();
    if (std::ranges::find(options_.gatewayIdentities, uri) != options_.gatewayIdentities.end()) {
      refusal = "forbidden: the gateway identity may not receive sidecar config";
      return std::nullopt;
    }
    auto workload = api::parseSpiffeId(uri);
    if (workload && workload->trustDomain == options_.trustDomain) return workload;
  }
  refusal = "forbidden: a sidecar must present a workload SPIFFE ID of trust domain " +
            options_.trustDomain;
  return std::nullopt;
}

asio::awaitable<void> ConfigSession::refuse(http::status status, std::string body,
                                            unsigned version) {
  http::response<http::string_body> response{status, version};
  response.set(http::field::server, "meshgate");
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.keep_alive(false);
  response.body() = std::move(body);
  response.prepare_payload();
  closeAt(std::chrono::steady_clock::now() + std::min(options_.handshakeTimeout, kRefusalTimeout));
  auto [writeError, bytes] = co_await http::async_write(ws_.next_layer(), response, kNoThrow);
  if (writeError) {
    ended(writeError, "writing a refusal");
    co_return;
  }
  // close_notify; most clients close without answering it, which ends this as well.
  co_await ws_.next_layer().async_shutdown(kNoThrow);
}

asio::awaitable<bool> ConfigSession::hello() {
  helloDeadline_.expires_after(options_.helloTimeout);
  helloDeadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->onHelloTimeout();
  });
  if (!co_await readFrame("reading the Hello")) co_return false;
  // The Hello timer has started closing.
  if (closing_) co_return false;
  helloReceived_ = true;
  helloDeadline_.cancel();

  auto decoded = stream::decodeClientMessage(beast::buffers_to_string(buffer_.data()));
  buffer_.consume(buffer_.size());
  if (!decoded) {
    co_await closeWith(websocket::close_code::policy_error, decoded.error());
    co_return false;
  }
  const auto* hello = std::get_if<stream::Hello>(&*decoded);
  if (!hello) {
    co_await closeWith(
        websocket::close_code::policy_error,
        std::string("the first frame must be a Hello, got ") + messageType(*decoded));
    co_return false;
  }
  // Who may receive what is decided here, by the certificate alone: the Hello only says which
  // config is asked for.
  std::string refusal;
  if (hello->mode == stream::kModeSidecar) {
    workload_ = sidecarIdentity(refusal);
    if (workload_) identity_ = api::spiffeId(*workload_);
  } else if (hello->mode == stream::kModeGateway) {
    if (auto identity = gatewayIdentity(refusal)) identity_ = std::move(*identity);
  } else {
    refusal = "unknown mode \"" + hello->mode + "\"";
  }
  if (identity_.empty()) {
    std::string uris;
    for (const auto& uri : peerUris_)
      uris += (uris.empty() ? "" : ", ") + uri;
    spdlog::info("config server: refusing {} ({} mode) from {}: {} (certificate URIs: {})",
                 hello->node, hello->mode, endpointText(peer_), refusal,
                 uris.empty() ? std::string("none") : uris);
    co_await closeWith(websocket::close_code::policy_error, std::move(refusal));
    co_return false;
  }
  node_ = hello->node;
  mode_ = hello->mode;
  if (workload_) {
    sidecarSnapshot_ = source_.keepSidecar(*workload_);
  } else {
    ingressClass_ =
        hello->ingressClass.empty() ? options_.defaultIngressClass : hello->ingressClass;
  }
  id_ = registry_.connected({.node = node_,
                             .mode = mode_,
                             .ingressClass = ingressClass_,
                             .identity = identity_,
                             .proxyVersion = hello->proxyVersion,
                             .peer = endpointText(peer_)});
  spdlog::info("config server: {} connected (proxy {}, serving version \"{}\")", describe(),
               hello->proxyVersion, hello->version);
  co_return true;
}

asio::awaitable<void> ConfigSession::readFrames() {
  while (co_await readFrame("read")) {
    auto decoded = stream::decodeClientMessage(beast::buffers_to_string(buffer_.data()));
    buffer_.consume(buffer_.size());
    buffer_.shrink_to_fit();  // an idle session holds no read buffer
    if (!decoded) {
      co_await closeWith(websocket::close_code::policy_error, decoded.error());
      co_return;
    }
    if (auto* ack = std::get_if<stream::Ack>(&*decoded)) {
      if (ack->refused.empty()) {
        spdlog::debug("config server: {} acked version {}", describe(), ack->version);
      } else {
        const auto& [route, errors] = *ack->refused.begin();
        spdlog::warn("config server: {} serves version {} without {} refused route(s), {}: {}",
                     describe(), ack->version, ack->refused.size(), route,
                     errors.empty() ? std::string("(no error given)") : errors.front());
      }
      registry_.acked(*id_, ack->version, std::move(ack->refused));
    } else if (auto* nack = std::get_if<stream::Nack>(&*decoded)) {
      spdlog::warn("config server: {} refused version {}: {}", describe(), nack->version,
                   nack->errors.empty() ? std::string("(no error given)") : nack->errors.front());
      registry_.nacked(*id_, nack->version, std::move(nack->errors));
    } else {
      co_await closeWith(websocket::close_code::policy_error,
                         "Hello is only valid as the first frame");
      co_return;
    }
  }
}

asio::awaitable<bool> ConfigSession::readFrame(const char* what) {
  auto [ec, bytes] = co_await ws_.async_read(buffer_, kNoThrow);
  if (ec) {
    stopping();
    ended(ec, what);
    co_return false;
  }
  if (!ws_.got_text()) {
    buffer_.consume(buffer_.size());
    co_await closeWith(websocket::close_code::unknown_data, "text frames only");
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> ConfigSession::sendSnapshots() {
  while (!closing_) {
    // Re-read after every write and every wake-up: what was published meanwhile collapses into
    // the newest version.
    // A Delta from the version this connection carried last when the source still has it.
    PublishedSnapshotPtr snapshot = workload_ ? source_.sidecarUpdate(*workload_, sentVersion_)
                                              : source_.gatewayUpdate(ingressClass_, sentVersion_);
    if (snapshot && snapshot->version != sentVersion_) {
      // `snapshot` keeps the shared frame alive until the write completes.
      auto [ec, bytes] = co_await ws_.async_write(asio::buffer(snapshot->frame), kNoThrow);
      if (ec) {
        // The reader may be waiting on a connection that can no longer carry anything.
        if (!closing_) {
          ended(ec, "write");
          stopping();
          closeSocket();
        }
        co_return;
      }
      sentVersion_ = snapshot->version;
      registry_.sent(*id_, sentVersion_, snapshot->frame.size(), !snapshot->base.empty());
      spdlog::debug("config server: sent version {} ({}) to {}", sentVersion_,
                    snapshot->base.empty() ? "snapshot" : "delta from " + snapshot->base,
                    describe());
      continue;
    }
    wake_.expires_at(std::chrono::steady_clock::time_point::max());
    co_await wake_.async_wait(kNoThrow);
  }
}

asio::awaitable<void> ConfigSession::closeWith(websocket::close_code code, std::string reason) {
  // One close per stream: the Hello timer and the reader may both want to.
  if (closeStarted_) co_return;
  closeStarted_ = true;
  stopping();
  reason = closeReason(std::move(reason));
  spdlog::info("config server: closing {} ({}): {}", describe(), static_cast<int>(code), reason);
  auto [ec] = co_await ws_.async_close(websocket::close_reason(code, reason), kNoThrow);
  if (ec) ended(ec, "close");
}

void ConfigSession::onHelloTimeout() {
  if (helloReceived_ || closing_) return;
  // The reader's pending read completes once the close handshake is done (or times out).
  asio::co_spawn(
      executor_,
      [self = shared_from_this()] {
        return self->closeWith(
            websocket::close_code::policy_error,
            "no Hello within " + std::to_string(self->options_.helloTimeout.count()) + "ms");
      },
      logException);
}

void ConfigSession::closeAt(std::chrono::steady_clock::time_point deadline) {
  handshakeDeadline_.expires_at(deadline);
  handshakeDeadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->closeSocket();
  });
}

void ConfigSession::closeSocket() {
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).close(ignored);
}

void ConfigSession::stopping() {
  closing_ = true;
  wake_.cancel();
  helloDeadline_.cancel();
}

void ConfigSession::ended(beast::error_code ec, const char* what) {
  if (aborted_ || isNormalEnd(ec)) {
    spdlog::debug("config server: {} with {}: {}", what, describe(), ec.message());
  } else {
    spdlog::info("config server: {} with {}: {}", what, describe(), ec.message());
  }
}

std::string ConfigSession::describe() const {
  if (node_.empty()) return endpointText(peer_);
  const std::string serves = workload_ ? std::string("sidecar") : "class " + ingressClass_;
  return node_ + " (" + identity_ + ", " + serves + ", " + endpointText(peer_) + ")";
}

}  // namespace meshgate::op
