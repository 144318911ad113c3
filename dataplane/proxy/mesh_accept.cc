// Sorting a mesh listener's connection: HTTP session, mTLS session or passthrough.
#include "dataplane/proxy/mesh_accept.h"

#include <sys/socket.h>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "dataplane/proxy/downstream_session.h"
#include "dataplane/proxy/mesh_tls.h"
#include "dataplane/proxy/stream_relay.h"
#include "dataplane/proxy/tcp_proxy_session.h"
#include "dataplane/proxy/tcp_relay.h"
#include "dataplane/proxy/worker.h"

namespace meshgate::dp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr unsigned char kTlsHandshakeRecord = 0x16;

enum class FirstByte { kTls, kPlain, kNone };

// Waits up to `timeout` for the client's first byte and looks at it without consuming it.
asio::awaitable<FirstByte> peekFirstByte(tcp::socket& socket, std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(timeout);
  auto ready =
      co_await (socket.async_wait(tcp::socket::wait_read, kNoThrow) || timer.async_wait(kNoThrow));
  if (ready.index() != 0 || std::get<0>(std::get<0>(ready))) co_return FirstByte::kNone;
  unsigned char byte = 0;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n != 1) co_return FirstByte::kNone;
  co_return byte == kTlsHandshakeRecord ? FirstByte::kTls : FirstByte::kPlain;
}

void startSession(Worker& worker, ByteStream stream, std::string listenerName, tcp::endpoint peer,
                  MeshConnection mesh) {
  auto session =
      std::make_unique<DownstreamSession>(worker, std::move(stream), std::move(listenerName), peer);
  session->setMesh(std::move(mesh));
  asio::co_spawn(worker.context(), DownstreamSession::serve(std::move(session)), asio::detached);
}

// The application's end of an inbound TCP port: connected within the loopback connect timeout.
constexpr std::chrono::milliseconds kApplicationConnectTimeout{1'000};

// An inbound connection to a TCP port of this workload: `caller` is the verified SPIFFE ID of an
// mTLS connection (`stream` is then TLS, handshake done), nullopt for plaintext. Authorized once,
// then relayed to the application.
asio::awaitable<void> serveInboundTcp(Worker& worker, const MeshTable& mesh,
                                      const MeshInboundTarget& target, ByteStream stream,
                                      const std::optional<std::string>& caller,
                                      const tcp::endpoint& application,
                                      std::chrono::milliseconds idleTimeout) {
  auto& denied = worker.stats().meshDenied;
  if (!mesh.admits(target, caller)) {
    denied.with({"inbound", caller ? "authorization" : "plaintext"}).inc();
    spdlog::info("mesh inbound {}: {} may not call {}: connection closed", target.port,
                 caller ? *caller : std::string("a plaintext caller"), target.service);
    stream.close();
    co_return;
  }
  tcp::socket upstream(co_await asio::this_coro::executor);
  if (co_await connectTcp(upstream, application, kApplicationConnectTimeout)) {
    target.counters.connectFailed->inc();
    stream.close();
    co_return;
  }
  target.counters.proxied->inc();
  ByteStream app(std::move(upstream));
  co_await relayStreams(stream, app, idleTimeout,
                        {.downstreamToUpstream = target.counters.bytesToUpstream,
                         .upstreamToDownstream = target.counters.bytesToDownstream});
}

// The mTLS handshake of an inbound connection, within `timeout`; the caller's SPIFFE ID, or
// nullopt when the handshake failed or the certificate names none.
asio::awaitable<std::optional<std::string>> handshakeMeshCaller(ByteStream& stream,
                                                                std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(timeout);
  auto outcome = co_await (stream.handshakeAsServer() || timer.async_wait(kNoThrow));
  if (outcome.index() != 0 || std::get<0>(outcome)) co_return std::nullopt;
  co_return peerSpiffeId(stream.nativeTls());
}

}  // namespace

asio::awaitable<void> acceptMeshConnection(Worker& worker, tcp::socket socket,
                                           api::ListenerRole role, std::string listenerName,
                                           tcp::endpoint peer,
                                           std::optional<tcp::endpoint> original) {
  const SnapshotPtr snapshot = worker.view()->snapshotPtr();
  const MeshTable* mesh = snapshot->mesh();
  const ProxyConfig& config = snapshot->config();
  const TcpRelayLimits relayLimits{.connectTimeout = std::chrono::milliseconds(2'000),
                                   .idleTimeout = config.timeouts.idle};
  auto count = [&](const char* direction, const char* handling) {
    worker.stats().meshConnections.with({direction, handling}).inc();
  };
  if (mesh == nullptr) co_return;  // the socket closes

  if (role == api::ListenerRole::kMeshOutbound) {
    const MeshOutboundTarget* target = original ? mesh->outboundByAddress(*original) : nullptr;
    if (original && target == nullptr) {
      count("outbound", "passthrough");
      co_await relayTcp(std::move(socket), *original, relayLimits);
      co_return;
    }
    if (target != nullptr && target->tcp) {
      if (!target->tcpTarget) {
        count("outbound", "refused");
        worker.stats().meshDenied.with({"outbound", "authorization"}).inc();
        co_return;  // not admitted: the socket closes
      }
      count("outbound", "tcp");
      co_await TcpProxySession::serve(std::make_unique<TcpProxySession>(
          worker, worker.view(), *target->tcpTarget, std::move(socket)));
      co_return;
    }
    count("outbound", "http");
    startSession(worker, ByteStream(std::move(socket)), std::move(listenerName), peer,
                 {.role = role, .original = original});
    co_return;
  }

  // Inbound: only a redirected connection says which application port it is for.
  if (!original) {
    count("inbound", "refused");
    co_return;
  }
  const MeshInboundTarget* target = mesh->inbound(original->port());
  const tcp::endpoint application(asio::ip::make_address_v4("127.0.0.1"), original->port());
  if (target == nullptr) {
    count("inbound", "passthrough");
    co_await relayTcp(std::move(socket), application, relayLimits);
    co_return;
  }
  const FirstByte first = co_await peekFirstByte(socket, config.timeouts.headerRead);
  if (first == FirstByte::kNone) {
    count("inbound", "refused");
    co_return;
  }
  if (first == FirstByte::kTls) {
    if (target->mode == MtlsMode::kDisabled) {
      count("inbound", "passthrough");
      co_await relayTcp(std::move(socket), application, relayLimits);
      co_return;
    }
    if (!snapshot->meshTls().server) {
      count("inbound", "refused");  // no workload identity yet: nothing to present
      co_return;
    }
    if (target->tcp) {
      ByteStream stream(std::move(socket), *snapshot->meshTls().server);
      const std::optional<std::string> caller =
          co_await handshakeMeshCaller(stream, config.timeouts.headerRead);
      if (!caller) {
        count("inbound", "refused");
        worker.stats().meshDenied.with({"inbound", "no_identity"}).inc();
        co_return;
      }
      count("inbound", "tcp-mtls");
      co_await serveInboundTcp(worker, *mesh, *target, std::move(stream), caller, application,
                               config.timeouts.idle);
      co_return;
    }
    count("inbound", "mtls");
    startSession(worker, ByteStream(std::move(socket), *snapshot->meshTls().server),
                 std::move(listenerName), peer, {.role = role, .original = original, .mtls = true});
    co_return;
  }
  if (target->tcp) {
    if (target->mode == MtlsMode::kStrict) {
      count("inbound", "refused");
      worker.stats().meshDenied.with({"inbound", "plaintext"}).inc();
      co_return;
    }
    count("inbound", "tcp-plaintext");
    co_await serveInboundTcp(worker, *mesh, *target, ByteStream(std::move(socket)), std::nullopt,
                             application, config.timeouts.idle);
    co_return;
  }
  count("inbound", "plaintext");
  startSession(worker, ByteStream(std::move(socket)), std::move(listenerName), peer,
               {.role = role, .original = original, .mtls = false});
}

}  // namespace meshgate::dp
