// Tests of protocols on top of FdTlsStream against Beast peers: WebSocket echo closed by either
// side, and an HTTP request and response ended with close_notify.
#include "net/fd_tls_stream.h"

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "pki/certificate_authority.h"
#include "pki/certificate_template.h"
#include "pki/private_key.h"

#include "net/testing/tls_stream_pair.h"

namespace meshgate::net {
namespace {

using namespace meshgate::net::testing;

// --- 2. WebSocket on top, closed by either side ------------------------------------------------

std::vector<std::string> testMessages() {
  std::string large(4 << 20, 'x');
  for (std::size_t i = 0; i < large.size(); i += 97)
    large[i] = static_cast<char>('a' + i % 26);
  return {"hello", std::string(20000, 'm'), large, "bye"};
}

// Echoes text messages until the connection ends; `ended` is how.
asio::awaitable<void> echoServer(ServerWebSocket& ws, int& echoed, error_code& ended) {
  bool accepted = false;
  co_await acceptWebSocket(ws, accepted);
  if (!accepted) co_return;
  for (;;) {
    beast::flat_buffer buffer;
    auto [readError, n] = co_await ws.async_read(buffer, kTuple);
    if (readError) {
      ended = readError;
      co_return;
    }
    ws.text(ws.got_text());
    auto [writeError, written] = co_await ws.async_write(buffer.data(), kTuple);
    EXPECT_FALSE(writeError) << "echo: " << writeError.message();
    if (writeError) co_return;
    ++echoed;
  }
}

asio::awaitable<void> clientSendsThenCloses(ClientWebSocket& ws,
                                            const std::vector<std::string>& messages) {
  bool connected = false;
  co_await connectWebSocket(ws, connected);
  if (!connected) co_return;
  for (const auto& message : messages) {
    ws.text(true);
    auto [writeError, written] = co_await ws.async_write(asio::buffer(message), kTuple);
    EXPECT_FALSE(writeError) << "write: " << writeError.message();
    beast::flat_buffer buffer;
    auto [readError, n] = co_await ws.async_read(buffer, kTuple);
    EXPECT_FALSE(readError) << "read: " << readError.message();
    if (writeError || readError) co_return;
    EXPECT_TRUE(ws.got_text());
    EXPECT_TRUE(beast::buffers_to_string(buffer.data()) == message)
        << "echo of a " << message.size() << "-byte message differs";
  }
  auto [closeError] = co_await ws.async_close(websocket::close_code::normal, kTuple);
  EXPECT_FALSE(closeError) << "client close: " << closeError.message();
}

TEST(FdTlsStreamTest, WebSocketServerEchoesFramesAndSeesTheClientsClose) {
  asio::io_context ioc;
  auto serverTls = serverContext(meshPki());
  auto clientTls = clientContext(meshPki(), meshPki());
  auto [serverSocket, clientSocket] = connectedPair(ioc);
  ServerWebSocket server(std::move(serverSocket), serverTls);
  ClientWebSocket client(std::move(clientSocket), clientTls);
  const auto messages = testMessages();

  int echoed = 0;
  error_code serverEnded;
  Coroutines coroutines(ioc);
  coroutines.spawn(echoServer(server, echoed, serverEnded));
  coroutines.spawn(clientSendsThenCloses(client, messages));
  coroutines.run();

  EXPECT_EQ(echoed, static_cast<int>(messages.size()));
  EXPECT_EQ(serverEnded, websocket::error::closed) << serverEnded.message();
  EXPECT_EQ(server.reason().code, websocket::close_code::normal);
  EXPECT_FALSE(beast::get_lowest_layer(server).is_open());
}

asio::awaitable<void> serverSendsThenCloses(ServerWebSocket& ws,
                                            const std::vector<std::string>& messages) {
  bool accepted = false;
  co_await acceptWebSocket(ws, accepted);
  if (!accepted) co_return;
  for (const auto& message : messages) {
    ws.text(true);
    auto [writeError, written] = co_await ws.async_write(asio::buffer(message), kTuple);
    EXPECT_FALSE(writeError) << "write: " << writeError.message();
    if (writeError) co_return;
  }
  beast::flat_buffer buffer;
  auto [readError, n] = co_await ws.async_read(buffer, kTuple);
  EXPECT_FALSE(readError) << "read: " << readError.message();
  EXPECT_EQ(beast::buffers_to_string(buffer.data()), "thanks");
  auto [closeError] = co_await ws.async_close(websocket::close_code::going_away, kTuple);
  EXPECT_FALSE(closeError) << "server close: " << closeError.message();
}

asio::awaitable<void> clientReadsUntilClosed(ClientWebSocket& ws,
                                             const std::vector<std::string>& messages,
                                             error_code& ended) {
  bool connected = false;
  co_await connectWebSocket(ws, connected);
  if (!connected) co_return;
  for (const auto& message : messages) {
    beast::flat_buffer buffer;
    auto [readError, n] = co_await ws.async_read(buffer, kTuple);
    EXPECT_FALSE(readError) << "read: " << readError.message();
    if (readError) co_return;
    EXPECT_TRUE(beast::buffers_to_string(buffer.data()) == message);
  }
  auto [writeError, written] = co_await ws.async_write(asio::buffer(std::string("thanks")), kTuple);
  EXPECT_FALSE(writeError) << "write: " << writeError.message();
  beast::flat_buffer buffer;
  auto [readError, n] = co_await ws.async_read(buffer, kTuple);
  ended = readError;
}

TEST(FdTlsStreamTest, WebSocketServerClosesCleanly) {
  asio::io_context ioc;
  auto serverTls = serverContext(meshPki());
  auto clientTls = clientContext(meshPki(), meshPki());
  auto [serverSocket, clientSocket] = connectedPair(ioc);
  ServerWebSocket server(std::move(serverSocket), serverTls);
  ClientWebSocket client(std::move(clientSocket), clientTls);
  const auto messages = testMessages();

  error_code clientEnded;
  Coroutines coroutines(ioc);
  coroutines.spawn(serverSendsThenCloses(server, messages));
  coroutines.spawn(clientReadsUntilClosed(client, messages, clientEnded));
  coroutines.run();

  // `closed` only when the client's teardown (its TLS shutdown and TCP close) succeeded too.
  EXPECT_EQ(clientEnded, websocket::error::closed) << clientEnded.message();
  EXPECT_EQ(client.reason().code, websocket::close_code::going_away);
  EXPECT_FALSE(beast::get_lowest_layer(server).is_open());
}

// --- 6. HTTP on top ----------------------------------------------------------------------------

asio::awaitable<void> httpServer(FdTlsStream& stream, std::string& target) {
  auto [error] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
  EXPECT_FALSE(error) << "server handshake: " << error.message();
  if (error) co_return;
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  auto [readError, n] = co_await http::async_read(stream, buffer, request, kTuple);
  EXPECT_FALSE(readError) << "request: " << readError.message();
  if (readError) co_return;
  target = std::string(request.target());
  http::response<http::string_body> response(http::status::ok, request.version());
  response.body() = std::string(100000, 'r');
  response.prepare_payload();
  auto [writeError, written] = co_await http::async_write(stream, response, kTuple);
  EXPECT_FALSE(writeError) << "response: " << writeError.message();
  auto [shutdownError] = co_await stream.async_shutdown(kTuple);
  EXPECT_FALSE(shutdownError) << "shutdown: " << shutdownError.message();
}

asio::awaitable<void> httpClient(ssl::stream<tcp::socket>& stream, std::size_t& bodySize,
                                 error_code& afterResponse) {
  auto [error] = co_await stream.async_handshake(ssl::stream_base::client, kTuple);
  EXPECT_FALSE(error) << "client handshake: " << error.message();
  if (error) co_return;
  http::request<http::empty_body> request(http::verb::get, "/config", 11);
  request.set(http::field::host, kServerName);
  auto [writeError, written] = co_await http::async_write(stream, request, kTuple);
  EXPECT_FALSE(writeError) << "request: " << writeError.message();
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  auto [readError, n] = co_await http::async_read(stream, buffer, response, kTuple);
  EXPECT_FALSE(readError) << "response: " << readError.message();
  EXPECT_EQ(response.result(), http::status::ok);
  bodySize = response.body().size();
  char byte = 0;
  auto [endError, m] = co_await stream.async_read_some(asio::buffer(&byte, 1), kTuple);
  afterResponse = endError;
}

TEST(FdTlsStreamTest, HttpRequestAndResponseThenCloseNotify) {
  asio::io_context ioc;
  StreamPair pair(ioc);
  FdTlsStream& server = pair.server;
  ssl::stream<tcp::socket>& client = pair.client;

  std::string target;
  std::size_t bodySize = 0;
  error_code afterResponse;
  Coroutines coroutines(ioc);
  coroutines.spawn(httpServer(server, target));
  coroutines.spawn(httpClient(client, bodySize, afterResponse));
  coroutines.run();

  EXPECT_EQ(target, "/config");
  EXPECT_EQ(bodySize, 100000u);
  // asio::ssl::stream reports the server's close_notify as eof.
  EXPECT_EQ(afterResponse, asio::error::eof) << afterResponse.message();
}

}  // namespace
}  // namespace meshgate::net
