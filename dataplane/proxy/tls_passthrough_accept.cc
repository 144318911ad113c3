// Sorting a passthrough listener's connection by its ClientHello's server name.
#include "dataplane/proxy/tls_passthrough_accept.h"

#include <memory>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "dataplane/proxy/downstream_session.h"
#include "dataplane/proxy/tcp_proxy_session.h"
#include "dataplane/proxy/tls_client_hello_peek.h"
#include "dataplane/proxy/worker.h"

namespace meshgate::dp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::awaitable<void> acceptTlsPassthrough(Worker& worker, tcp::socket socket,
                                           std::string listenerName, tcp::endpoint peer) {
  // The view (and its snapshot) the connection started with, as for any connection.
  const WorkerViewPtr view = worker.view();
  const ListenerRuntime* listener = view->snapshot().listener(listenerName);
  if (listener == nullptr) co_return;
  const ClientHelloInfo hello =
      co_await peekClientHello(socket, view->snapshot().config().timeouts.headerRead);
  if (hello.status == ClientHelloStatus::kComplete && hello.serverName) {
    if (const auto target = listener->passthrough.find(*hello.serverName)) {
      co_await TcpProxySession::serve(
          std::make_unique<TcpProxySession>(worker, view, *target, std::move(socket)));
      co_return;
    }
  }
  worker.stats().tcpConnections.with({listenerName, "no_route"}).inc();
  // The session serves with the worker's view of now (a reload may have come during the peek),
  // so its certificates are taken from that view too.
  const ListenerRuntime* current = worker.view()->snapshot().listener(listenerName);
  const bool terminate =
      current != nullptr && current->tls != nullptr &&
      (hello.status == ClientHelloStatus::kComplete || hello.status == ClientHelloStatus::kNotTls);
  if (!terminate) co_return;  // the socket closes
  auto session = std::make_unique<DownstreamSession>(
      worker, ByteStream(std::move(socket), current->tls->context()), std::move(listenerName),
      peer);
  asio::co_spawn(worker.context(), DownstreamSession::serve(std::move(session)), asio::detached);
}

}  // namespace meshgate::dp
