// Sorting a mesh listener's connection: HTTP session, mTLS session or passthrough.
#include "dataplane/proxy/mesh_accept.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "dataplane/proxy/downstream_session.h"
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
    if (original && mesh->outboundByAddress(*original) == nullptr) {
      count("outbound", "passthrough");
      co_await relayTcp(std::move(socket), *original, relayLimits);
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
    count("inbound", "mtls");
    startSession(worker, ByteStream(std::move(socket), *snapshot->meshTls().server),
                 std::move(listenerName), peer, {.role = role, .original = original, .mtls = true});
    co_return;
  }
  count("inbound", "plaintext");
  startSession(worker, ByteStream(std::move(socket)), std::move(listenerName), peer,
               {.role = role, .original = original, .mtls = false});
}

}  // namespace meshgate::dp
