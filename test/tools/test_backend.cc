// meshgate-test-backend: a small, real HTTP/1.1 + WebSocket server that the proxy's tests and
// bench/proxy/run.sh start as upstreams. Every response names the backend (x-backend), so a test
// can tell where the proxy sent a request; the routes are in backend_routes.cc. A connection that
// opens with the HTTP/2 client preface is served as h2c (the same routes, and gRPC:
// backend_http2.h).
//   meshgate-test-backend --listen 127.0.0.2:0 [--listen ...] --name b1 [--threads N]
//                         [--grpc-health SERVING|NOT_SERVING] [--tcp-echo ADDR:PORT ...]
// prints "listening <addr>:<port>" for each --listen once bound (and "echoing <addr>:<port>" for
// each TCP echo listener: tcp_echo.h), then serves until SIGTERM/SIGINT.
//   meshgate-test-backend call URL [...]
//   meshgate-test-backend tcp HOST:PORT --send TEXT
// are clients instead (for pods without curl or nc; test_client.h, tcp_call.h).
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "test/tools/backend_http2.h"
#include "test/tools/backend_routes.h"
#include "test/tools/listen_address.h"
#include "test/tools/tcp_call.h"
#include "test/tools/tcp_echo.h"
#include "test/tools/test_client.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using meshgate::testtools::BackendState;
using meshgate::testtools::Reply;
using meshgate::testtools::Request;

// Every asynchronous call reports failure through ec: nothing throws out of a handler.
auto withError(beast::error_code& ec) {
  return net::redirect_error(net::use_awaitable, ec);
}

// Headers of test requests can be long (the proxy adds some); bodies of /echo any size.
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr std::size_t kWebSocketMessageLimit = 64 * 1024 * 1024;
// A client that sent part of the HTTP/2 preface has this long to send the rest.
constexpr auto kPrefaceTimeout = std::chrono::seconds(10);

// Reads a connection's first bytes into `bytes`: what one read brings (as long as it takes, as
// Beast's read of a first request would), then more while they are still only the beginning of
// the HTTP/2 client preface.
net::awaitable<void> readFirstBytes(tcp::socket& socket, std::string& bytes,
                                    beast::error_code& ec) {
  using net::experimental::awaitable_operators::operator||;
  std::array<char, 4096> chunk;
  std::size_t n = co_await socket.async_read_some(net::buffer(chunk), withError(ec));
  bytes.append(chunk.data(), n);
  net::steady_timer timer(socket.get_executor());
  timer.expires_after(kPrefaceTimeout);
  while (!ec && meshgate::testtools::isPartialHttp2Preface(bytes)) {
    auto result =
        co_await (socket.async_read_some(net::buffer(chunk), net::as_tuple(net::use_awaitable)) ||
                  timer.async_wait(net::as_tuple(net::use_awaitable)));
    if (result.index() == 1) {
      ec = net::error::timed_out;
      break;
    }
    std::tie(ec, n) = std::get<0>(result);
    bytes.append(chunk.data(), n);
  }
}

net::awaitable<void> serveWebSocket(beast::tcp_stream stream, Request request,
                                    const std::string& name) {
  websocket::stream<beast::tcp_stream> ws(std::move(stream));
  ws.read_message_max(kWebSocketMessageLimit);
  // One frame per echoed message, whatever its size: tests compare frames, not only messages.
  ws.auto_fragment(false);
  ws.set_option(websocket::stream_base::decorator(
      [&name](websocket::response_type& response) { response.set("x-backend", name); }));
  beast::error_code ec;
  co_await ws.async_accept(request, withError(ec));
  if (ec) co_return;
  beast::flat_buffer buffer;
  for (;;) {
    co_await ws.async_read(buffer, withError(ec));
    if (ec) co_return;  // closed by the peer (the close handshake is answered by Beast) or broken
    ws.text(ws.got_text());
    co_await ws.async_write(buffer.data(), withError(ec));
    if (ec) co_return;
    buffer.consume(buffer.size());
  }
}

// Sends reply.response's body in reply.chunks chunks of near-equal size (never an empty one:
// an empty chunk would end the body).
net::awaitable<void> writeChunked(beast::tcp_stream& stream, const Reply& reply,
                                  beast::error_code& ec) {
  http::response<http::empty_body> head{reply.response.base()};
  http::response_serializer<http::empty_body> serializer{head};
  co_await http::async_write_header(stream, serializer, withError(ec));
  const std::string& body = reply.response.body();
  const std::size_t chunks = std::min(reply.chunks, body.size());
  std::size_t offset = 0;
  for (std::size_t i = 0; i < chunks && !ec; ++i) {
    const std::size_t size = body.size() / chunks + (i < body.size() % chunks ? 1 : 0);
    co_await net::async_write(stream, http::make_chunk(net::buffer(body.data() + offset, size)),
                              withError(ec));
    offset += size;
  }
  if (!ec) co_await net::async_write(stream, http::make_chunk_last(), withError(ec));
}

net::awaitable<void> serveConnection(tcp::socket socket, BackendState& state) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  std::string firstBytes;
  co_await readFirstBytes(socket, firstBytes, ec);
  if (ec) {
    socket.close(ec);
    co_return;
  }
  if (meshgate::testtools::startsWithHttp2Preface(firstBytes)) {
    co_await meshgate::testtools::serveHttp2(std::move(socket), std::move(firstBytes), state);
    co_return;
  }
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  // The bytes read to tell the protocol start the first HTTP/1.1 request.
  buffer.commit(net::buffer_copy(buffer.prepare(firstBytes.size()), net::buffer(firstBytes)));
  net::steady_timer timer(stream.get_executor());
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(boost::none);
    co_await http::async_read(stream, buffer, parser, withError(ec));
    if (ec) break;  // end of stream, reset, or a request Beast cannot parse: close
    Request request = parser.release();
    if (meshgate::testtools::isWebSocketRequest(request)) {
      ++state.requests;
      co_await serveWebSocket(std::move(stream), std::move(request), state.name);
      co_return;
    }
    Reply reply = meshgate::testtools::route(request, state);
    if (reply.delay.count() > 0) {
      timer.expires_after(reply.delay);
      co_await timer.async_wait(withError(ec));
      if (ec) break;
    }
    if (reply.chunks > 0) {
      co_await writeChunked(stream, reply, ec);
    } else {
      co_await http::async_write(stream, reply.response, withError(ec));
    }
    if (ec || reply.close) break;
  }
  // Half-close first so the client reads the whole last response before it sees the end.
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
}

net::awaitable<void> acceptLoop(tcp::acceptor& acceptor, BackendState& state) {
  net::steady_timer pause(acceptor.get_executor());
  for (;;) {
    beast::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(withError(ec));
    if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors, most likely: wait for some to close rather than spin.
      std::fprintf(stderr, "meshgate-test-backend: accept: %s\n", ec.message().c_str());
      pause.expires_after(std::chrono::milliseconds(50));
      co_await pause.async_wait(withError(ec));
      continue;
    }
    // A strand per connection: an HTTP/2 connection runs several coroutines (--threads N).
    net::co_spawn(net::make_strand(acceptor.get_executor()),
                  serveConnection(std::move(socket), state), [](const std::exception_ptr& error) {
                    // Only allocation failure can get here; drop that connection, keep serving.
                    if (!error) return;
                    try {
                      std::rethrow_exception(error);
                    } catch (const std::exception& e) {
                      std::fprintf(stderr, "meshgate-test-backend: connection: %s\n", e.what());
                    }
                  });
  }
}

}  // namespace

// Opens, binds and listens on `address`; prints "<verb> <addr>:<port>" once bound. False (the
// reason on stderr) when it cannot.
bool listenOn(tcp::acceptor& acceptor, const std::string& address, const char* verb) {
  auto endpoint = meshgate::testtools::parseListenAddress(address);
  if (!endpoint) {
    std::fprintf(stderr, "meshgate-test-backend: bad address %s (want address:port)\n",
                 address.c_str());
    return false;
  }
  beast::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "meshgate-test-backend: listen on %s: %s\n", address.c_str(),
                 ec.message().c_str());
    return false;
  }
  const tcp::endpoint bound = acceptor.local_endpoint(ec);
  std::printf("%s %s\n", verb, meshgate::testtools::formatEndpoint(bound).c_str());
  return true;
}

int main(int argc, char** argv) {
  CLI::App app{"meshgate-test-backend: HTTP/1.1 + WebSocket (and h2c, gRPC) test upstream"};
  std::vector<std::string> listens = {"127.0.0.1:0"};
  std::vector<std::string> tcpEchoes;
  BackendState state;
  state.name = "backend";
  unsigned threads = 1;
  app.add_option("--listen", listens, "address:port to listen on (port 0: ephemeral; repeatable)");
  app.add_option("--tcp-echo", tcpEchoes, "address:port of a TCP echo listener (repeatable)");
  app.add_option("--name", state.name, "name sent in x-backend and in the default body");
  app.add_option("--threads", threads, "threads running the io_context")
      ->check(CLI::Range(1u, 64u));
  std::string grpcHealth = "SERVING";
  app.add_option("--grpc-health", grpcHealth,
                 "what grpc.health.v1.Health/Check answers at first (POST "
                 "/control/health?state=serving|not_serving changes it)")
      ->check(CLI::IsMember({"SERVING", "NOT_SERVING"}));
  meshgate::testtools::CallOptions call;
  CLI::App* callCommand = meshgate::testtools::addCallCommand(app, call);
  meshgate::testtools::TcpCallOptions tcpCall;
  CLI::App* tcpCommand = meshgate::testtools::addTcpCallCommand(app, tcpCall);
  CLI11_PARSE(app, argc, argv);
  if (callCommand->parsed()) return meshgate::testtools::runCallCommand(call, std::cout, std::cerr);
  if (tcpCommand->parsed())
    return meshgate::testtools::runTcpCallCommand(tcpCall, std::cout, std::cerr);
  state.grpcServing = grpcHealth == "SERVING";
  std::signal(SIGPIPE, SIG_IGN);

  net::io_context io(static_cast<int>(threads));
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::unique_ptr<tcp::acceptor>> echoAcceptors;
  for (const auto& address : listens) {
    acceptors.push_back(std::make_unique<tcp::acceptor>(io));
    if (!listenOn(*acceptors.back(), address, "listening")) return 1;
  }
  for (const auto& address : tcpEchoes) {
    echoAcceptors.push_back(std::make_unique<tcp::acceptor>(io));
    if (!listenOn(*echoAcceptors.back(), address, "echoing")) return 1;
  }
  std::fflush(stdout);

  net::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const beast::error_code&, int) {
    beast::error_code ignored;
    for (auto& acceptor : acceptors)
      acceptor->close(ignored);
    for (auto& acceptor : echoAcceptors)
      acceptor->close(ignored);
    io.stop();
  });
  for (auto& acceptor : acceptors)
    net::co_spawn(io, acceptLoop(*acceptor, state), net::detached);
  for (auto& acceptor : echoAcceptors)
    net::co_spawn(io, meshgate::testtools::tcpEchoLoop(*acceptor), net::detached);

  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i)
    workers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& worker : workers)
    worker.join();
  return 0;
}
