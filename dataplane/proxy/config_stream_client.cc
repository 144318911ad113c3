// The config stream's client session and reconnect loop; see config_stream_client.h.
#include "dataplane/proxy/config_stream_client.h"

#include <algorithm>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>

#include "api/config_delta.h"
#include "base/read_file.h"
#include "dataplane/proxy/tls_contexts.h"

namespace meshgate::dp {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace stream = api::stream;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

using WebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// The client's TLS context from the certificate directory, read now.
Expected<std::unique_ptr<asio::ssl::context>, std::string> loadClientTls(const std::string& dir) {
  std::string texts[3];
  const char* const names[3] = {"ca.crt", "tls.crt", "tls.key"};
  for (int i = 0; i < 3; ++i) {
    const std::string path = dir + "/" + names[i];
    std::string error;
    auto text = readFileText(path, error);
    if (!text) return path + ": " + error;
    texts[i] = std::move(*text);
  }
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  error_code ec;
  if (texts[0].find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return dir + "/ca.crt: no PEM certificate found";
  context->add_certificate_authority(asio::buffer(texts[0]), ec);
  if (ec) return dir + "/ca.crt: " + ec.message();
  context->use_certificate_chain(asio::buffer(texts[1]), ec);
  if (ec) return dir + "/tls.crt: " + ec.message();
  context->use_private_key(asio::buffer(texts[2]), asio::ssl::context::pem, ec);
  if (ec) return dir + "/tls.key: " + ec.message();
  if (SSL_CTX_check_private_key(context->native_handle()) != 1)
    return dir + "/tls.key: does not match the certificate in tls.crt";
  return context;
}

// SNI (not for IP literals, RFC 6066) and verification of the server by SAN only: OpenSSL's host
// check with X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, so a matching CN alone is not enough.
std::string requireServerIdentity(SSL* ssl, const ControlPlaneEndpoint& endpoint) {
  if (!endpoint.hostIsIpAddress && SSL_set_tlsext_host_name(ssl, endpoint.host.c_str()) != 1)
    return "cannot set SNI " + endpoint.host;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  const int set = endpoint.hostIsIpAddress
                      ? X509_VERIFY_PARAM_set1_ip_asc(param, endpoint.host.c_str())
                      : X509_VERIFY_PARAM_set1_host(param, endpoint.host.c_str(), 0);
  if (set != 1) return "cannot verify the server as " + endpoint.host;
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  return {};
}

}  // namespace

std::string ControlPlaneEndpoint::authority() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Expected<ControlPlaneEndpoint, std::string> parseControlPlaneUrl(std::string_view url) {
  const std::string quoted = "--control-plane \"" + std::string(url) + "\": ";
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return quoted + "not a URL (expected https://HOST[:PORT])";
  const auto& u = *parsed;
  if (u.scheme() != "https") return quoted + "the scheme must be https";
  if (u.has_userinfo() || u.has_query() || u.has_fragment() ||
      !(u.encoded_path().empty() || u.encoded_path() == "/"))
    return quoted + "only https://HOST[:PORT] is allowed (no user, path, query or fragment)";
  ControlPlaneEndpoint endpoint;
  endpoint.url = std::string(url);
  endpoint.host = u.host_address();
  if (endpoint.host.empty()) return quoted + "no host";
  endpoint.hostIsIpAddress = u.host_type() == boost::urls::host_type::ipv4 ||
                             u.host_type() == boost::urls::host_type::ipv6;
  if (u.has_port()) {
    const std::string port(u.port());
    const bool digits = !port.empty() && port.size() <= 5 &&
                        port.find_first_not_of("0123456789") == std::string::npos;
    const int number = digits ? std::stoi(port) : 0;
    if (number < 1 || number > 65535) return quoted + "invalid port";
    endpoint.port = static_cast<std::uint16_t>(number);
  }
  return endpoint;
}

std::chrono::milliseconds backoffCeiling(unsigned attempt, std::chrono::milliseconds base,
                                         std::chrono::milliseconds cap) {
  // 2^attempt overflows nothing below 2^20; the cap is reached long before.
  const unsigned shift = std::min(attempt, 20u);
  return std::min(cap, base * (std::int64_t{1} << shift));
}

std::shared_ptr<ConfigStreamClient> ConfigStreamClient::create(asio::io_context& context,
                                                               ConfigStreamClientOptions options,
                                                               Callbacks callbacks) {
  return std::shared_ptr<ConfigStreamClient>(
      new ConfigStreamClient(context, std::move(options), std::move(callbacks)));
}

ConfigStreamClient::ConfigStreamClient(asio::io_context& context, ConfigStreamClientOptions options,
                                       Callbacks callbacks)
    : context_(context),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      backoff_(context),
      random_(std::random_device{}()) {
  status_.url = options_.endpoint.url;
}

void ConfigStreamClient::start() {
  asio::co_spawn(context_, run(), [](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& error) {
      spdlog::error("config stream: stopped by an unexpected error: {}", error.what());
    }
  });
}

void ConfigStreamClient::stop() {
  stopped_ = true;
  backoff_.cancel();
  if (cancelCurrent_) cancelCurrent_();
  setConnected(false);
}

ConfigStreamStatus ConfigStreamClient::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void ConfigStreamClient::setConnected(bool connected) {
  {
    std::lock_guard lock(mutex_);
    if (status_.connected == connected) return;
    status_.connected = connected;
    if (connected)
      status_.connectedSince = std::chrono::system_clock::now();
    else
      status_.connectedSince.reset();
  }
  if (callbacks_.connectionChanged) callbacks_.connectionChanged(connected);
}

void ConfigStreamClient::failed(const std::string& error) {
  {
    std::lock_guard lock(mutex_);
    status_.lastError = error;
  }
  if (stopped_) return;
  if (wasConnected_) {
    spdlog::info("config stream: disconnected from {}: {}; reconnecting", options_.endpoint.url,
                 error);
    wasConnected_ = false;
    lastLoggedFailure_ = error;
  } else if (error != lastLoggedFailure_) {
    spdlog::warn("config stream: cannot connect to {}: {}; retrying with backoff",
                 options_.endpoint.url, error);
    lastLoggedFailure_ = error;
  } else {
    spdlog::debug("config stream: cannot connect to {}: {}", options_.endpoint.url, error);
  }
  setConnected(false);
}

asio::awaitable<void> ConfigStreamClient::run() {
  const auto self = shared_from_this();  // the loop outlives whoever dropped the client
  unsigned attempt = 0;
  while (!stopped_) {
    const bool delivered = co_await connectOnce();
    if (stopped_) break;
    if (delivered) attempt = 0;
    const auto ceiling = backoffCeiling(attempt, options_.backoffBase, options_.backoffCap);
    if (attempt < 32) ++attempt;
    std::uniform_int_distribution<std::int64_t> pick(0, ceiling.count());
    const std::chrono::milliseconds delay(pick(random_));
    spdlog::debug("config stream: next attempt in {} ms", delay.count());
    backoff_.expires_after(delay);
    co_await backoff_.async_wait(kNoThrow);
  }
}

asio::awaitable<bool> ConfigStreamClient::connectOnce() {
  const auto& endpoint = options_.endpoint;
  auto tls = loadClientTls(options_.certDir);
  if (!tls) {
    failed(tls.error());
    co_return false;
  }
  // Cleared whatever way this attempt ends, before the objects it cancels go away.
  struct ClearCancel {
    std::function<void()>& cancel;
    ~ClearCancel() { cancel = nullptr; }
  } clearCancel{cancelCurrent_};

  tcp::resolver resolver(context_);
  asio::steady_timer deadline(context_);
  bool resolveTimedOut = false;
  deadline.expires_after(options_.handshakeTimeout);
  deadline.async_wait([&resolver, &resolveTimedOut](const error_code& ec) {
    if (ec) return;
    resolveTimedOut = true;
    resolver.cancel();
  });
  cancelCurrent_ = [&resolver] { resolver.cancel(); };
  auto [resolveError, addresses] =
      co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port), kNoThrow);
  deadline.cancel();
  if (stopped_) co_return false;
  if (resolveError) {
    failed("resolve " + endpoint.host + ": " +
           (resolveTimedOut ? std::string("timed out") : resolveError.message()));
    co_return false;
  }

  WebSocket ws(context_, **tls);
  auto& tcpStream = beast::get_lowest_layer(ws);
  cancelCurrent_ = [&tcpStream] { tcpStream.close(); };
  tcpStream.expires_after(options_.handshakeTimeout);
  auto [connectError, connected] = co_await tcpStream.async_connect(addresses, kNoThrow);
  if (stopped_) co_return false;
  if (connectError) {
    failed("connect " + endpoint.authority() + ": " + connectError.message());
    co_return false;
  }

  SSL* ssl = ws.next_layer().native_handle();
  if (auto error = requireServerIdentity(ssl, endpoint); !error.empty()) {
    failed(error);
    co_return false;
  }
  tcpStream.expires_after(options_.handshakeTimeout);
  auto [tlsError] =
      co_await ws.next_layer().async_handshake(asio::ssl::stream_base::client, kNoThrow);
  if (stopped_) co_return false;
  if (tlsError) {
    failed(describeTlsFailure(ssl, tlsError));
    co_return false;
  }

  // From here the WebSocket's own timeouts apply: the handshake's, then the idle timeout with
  // keep-alive pings, so a silent operator is noticed.
  tcpStream.expires_never();
  ws.set_option(websocket::stream_base::timeout{
      .handshake_timeout = options_.handshakeTimeout,
      .idle_timeout = options_.idleTimeout,
      .keep_alive_pings = true,
  });
  ws.read_message_max(stream::kMaxFrameBytes);
  const std::string userAgent = "meshgate-proxy/" + options_.hello.proxyVersion;
  ws.set_option(websocket::stream_base::decorator([userAgent](websocket::request_type& request) {
    request.set(beast::http::field::user_agent, userAgent);
  }));
  websocket::response_type upgrade;
  auto [upgradeError] = co_await ws.async_handshake(upgrade, endpoint.authority(),
                                                    std::string(stream::kPath), kNoThrow);
  if (stopped_) co_return false;
  if (upgradeError) {
    std::string why = "WebSocket handshake: " + upgradeError.message();
    if (upgradeError == websocket::error::upgrade_declined)
      why += " (HTTP " + std::to_string(upgrade.result_int()) + ")";
    failed(why);
    co_return false;
  }
  ws.text(true);

  stream::Hello hello = options_.hello;
  hello.version = callbacks_.servingVersion ? callbacks_.servingVersion() : std::string();
  const std::string helloFrame = stream::encode(stream::ClientMessage(hello));
  auto [helloError, helloBytes] = co_await ws.async_write(asio::buffer(helloFrame), kNoThrow);
  if (stopped_) co_return false;
  if (helloError) {
    failed("send Hello: " + helloError.message());
    co_return false;
  }
  spdlog::info("config stream: connected to {} as {} (serving version \"{}\")", endpoint.url,
               hello.node, hello.version);
  wasConnected_ = true;
  lastLoggedFailure_.clear();
  setConnected(true);

  bool delivered = false;
  stream::Snapshot received;
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [readError, readBytes] = co_await ws.async_read(buffer, kNoThrow);
    if (stopped_) co_return delivered;
    if (readError) {
      if (readError == websocket::error::closed) {
        const auto& reason = ws.reason();
        failed("closed by the operator (code " + std::to_string(reason.code) +
               (reason.reason.empty()
                    ? std::string()
                    : ": " + std::string(reason.reason.data(), reason.reason.size())) +
               ")");
      } else {
        failed("read: " + readError.message());
      }
      co_return delivered;
    }
    if (!ws.got_text()) {
      failed("protocol error: a binary frame");
      co_return delivered;
    }
    const std::string text = beast::buffers_to_string(buffer.data());
    auto message = stream::decodeServerMessage(text);
    if (!message) {
      failed("protocol error: " + message.error());
      co_return delivered;
    }
    // The config this connection delivered last, whole: what the next Delta applies to.
    if (auto* delta = std::get_if<stream::Delta>(&*message)) {
      if (delta->base != received.version) {
        failed("protocol error: a delta from version \"" + delta->base + "\" while holding \"" +
               received.version + "\"");
        co_return delivered;
      }
      auto config = stream::applyDelta(received.config, *delta);
      if (!config) {
        failed("protocol error: delta to version " + delta->version + ": " + config.error());
        co_return delivered;
      }
      received = stream::Snapshot{delta->version, std::move(*config)};
    } else {
      received = std::move(std::get<stream::Snapshot>(*message));
    }
    const stream::Snapshot& snapshot = received;
    delivered = true;
    ApplyResult applied = callbacks_.apply(snapshot.version, snapshot.config);
    if (stopped_) co_return delivered;
    const std::vector<std::string>& errors = applied.errors;
    const std::string answer =
        errors.empty()
            ? stream::encode(stream::ClientMessage(
                  stream::Ack{snapshot.version, std::move(applied.refusedRoutes)}))
            : stream::encode(stream::ClientMessage(stream::Nack{snapshot.version, errors}));
    auto [writeError, written] = co_await ws.async_write(asio::buffer(answer), kNoThrow);
    if (stopped_) co_return delivered;
    if (writeError) {
      failed("send " + std::string(errors.empty() ? "Ack" : "Nack") + ": " + writeError.message());
      co_return delivered;
    }
  }
}

}  // namespace meshgate::dp
