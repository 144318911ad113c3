// Tests of FdTlsStream against asio::ssl::stream and Beast peers over loopback TCP, with
// throwaway certificates from pki::CertificateAuthority: mutual TLS, concurrent bulk transfer,
// WebSocket and HTTP on top, truncation, verification failures, aborts, and the memory an idle
// connection costs compared with beast::ssl_stream.
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

namespace meshgate::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kServerName = "localhost";

// A CA with a serving certificate for kServerName and a workload (client) certificate.
struct TestPki {
  std::string caPem;
  std::string serverCertPem;
  std::string serverKeyPem;
  std::string clientCertPem;
  std::string clientKeyPem;
};

template <class T>
T orThrow(pki::Result<T> result) {
  if (!result) throw std::runtime_error(result.error().message);
  return std::move(result).value();
}

TestPki makePki(std::string_view caName) {
  const auto now = std::chrono::system_clock::now();
  const auto ca = orThrow(pki::CertificateAuthority::generate(caName, now));
  const auto serverKey = orThrow(pki::PrivateKey::generateEcdsaP256());
  const auto clientKey = orThrow(pki::PrivateKey::generateEcdsaP256());
  TestPki out;
  out.caPem = ca.certificatePem();
  out.serverCertPem =
      orThrow(
          ca.issue(pki::CertificateTemplate::forHosts({std::string(kServerName)}), serverKey, now))
          .toPem();
  out.serverKeyPem = orThrow(serverKey.toPem());
  out.clientCertPem =
      orThrow(
          ca.issue(pki::CertificateTemplate::forWorkload("spiffe://cluster.local/ns/mesh/sa/px"),
                   clientKey, now))
          .toPem();
  out.clientKeyPem = orThrow(clientKey.toPem());
  return out;
}

const TestPki& meshPki() {
  static const TestPki pki = makePki("meshgate test CA");
  return pki;
}

// Requires and verifies a client certificate from `pki`'s CA.
ssl::context serverContext(const TestPki& pki) {
  ssl::context context(ssl::context::tls_server);
  context.use_certificate_chain(asio::buffer(pki.serverCertPem));
  context.use_private_key(asio::buffer(pki.serverKeyPem), ssl::context::pem);
  context.add_certificate_authority(asio::buffer(pki.caPem));
  context.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return context;
}

// Trusts `trust`'s CA for the server and presents `identity`'s client certificate.
ssl::context clientContext(const TestPki& trust, const TestPki& identity) {
  ssl::context context(ssl::context::tls_client);
  context.add_certificate_authority(asio::buffer(trust.caPem));
  context.use_certificate_chain(asio::buffer(identity.clientCertPem));
  context.use_private_key(asio::buffer(identity.clientKeyPem), ssl::context::pem);
  context.set_verify_mode(ssl::verify_peer);
  return context;
}

// SNI and host name verification for kServerName on any asio::ssl::stream-like client.
template <class SslStream>
void expectServerName(SslStream& stream) {
  SSL_set_tlsext_host_name(stream.native_handle(), std::string(kServerName).c_str());
  stream.set_verify_callback(ssl::host_name_verification(std::string(kServerName)));
}

// A connected loopback TCP pair: {accepted (server) side, client side}.
std::pair<tcp::socket, tcp::socket> connectedPair(asio::io_context& ioc) {
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket client(ioc);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  return {std::move(server), std::move(client)};
}

// Coroutines of one test on one io_context; run() fails the test when they do not all finish
// within the deadline (a hang) and reports exceptions that escape them.
class Coroutines {
 public:
  explicit Coroutines(asio::io_context& ioc) : ioc_(ioc) {}

  void spawn(asio::awaitable<void> coroutine) {
    ++started_;
    asio::co_spawn(ioc_, std::move(coroutine), [this](std::exception_ptr error) {
      ++finished_;
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "coroutine threw: " << e.what();
      }
    });
  }

  // Runs until every coroutine finished or `condition` holds.
  bool runUntil(const std::function<bool()>& condition,
                std::chrono::steady_clock::duration timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // An io_context stops when it runs out of work, as between two steps of a test.
    if (ioc_.stopped()) ioc_.restart();
    while (!condition() && std::chrono::steady_clock::now() < deadline) {
      if (ioc_.run_one_until(deadline) == 0 && ioc_.stopped()) break;
    }
    return condition();
  }

  void run(std::chrono::steady_clock::duration timeout = 30s) {
    EXPECT_TRUE(runUntil([this] { return finished_ == started_; }, timeout))
        << (started_ - finished_) << " coroutine(s) still running after the deadline";
  }

 private:
  asio::io_context& ioc_;
  int started_ = 0;
  int finished_ = 0;
};

std::vector<unsigned char> randomBytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::vector<unsigned char> bytes(size);
  for (auto& b : bytes)
    b = static_cast<unsigned char>(generator());
  return bytes;
}

// `data` as buffers of 1 to ~20,000 bytes, mostly small, so that writes of several buffers must be
// coalesced and some single buffers exceed a record.
std::vector<asio::const_buffer> choppedBuffers(const std::vector<unsigned char>& data) {
  std::mt19937 generator(7);
  std::vector<asio::const_buffer> buffers;
  std::size_t offset = 0;
  while (offset < data.size()) {
    const std::size_t pick = generator() % 10;
    std::size_t size = pick < 6 ? 1 + generator() % 64 : pick < 9 ? 1 + generator() % 4000 : 20000;
    if (size > data.size() - offset) size = data.size() - offset;
    buffers.emplace_back(data.data() + offset, size);
    offset += size;
  }
  return buffers;
}

template <class Stream>
asio::awaitable<void> writeAll(Stream& stream, const std::vector<unsigned char>& data) {
  auto [error, written] = co_await asio::async_write(stream, choppedBuffers(data), kTuple);
  EXPECT_FALSE(error) << "write: " << error.message();
  EXPECT_EQ(written, data.size());
}

template <class Stream>
asio::awaitable<void> readAll(Stream& stream, std::vector<unsigned char>& data) {
  auto [error, read] = co_await asio::async_read(stream, asio::buffer(data), kTuple);
  EXPECT_FALSE(error) << "read: " << error.message();
  EXPECT_EQ(read, data.size());
}

void setSmallSocketBuffers(tcp::socket& socket) {
  // Small kernel buffers make a megabyte block both directions many times, so readiness waits
  // (and a read and a write waiting at once) are exercised. Not smaller: on loopback (MSS 64 KiB)
  // a receive buffer below one MSS stalls on TCP's 200 ms persist timer.
  socket.set_option(tcp::socket::send_buffer_size(32768));
  socket.set_option(tcp::socket::receive_buffer_size(32768));
  socket.set_option(tcp::no_delay(true));
}

// A connected FdTlsStream server and asio::ssl client, before the handshake: the server has the
// mesh's serving certificate, the client trusts the mesh CA, presents `identity`'s certificate and
// checks the server's name.
class StreamPair {
 public:
  explicit StreamPair(asio::io_context& ioc, const TestPki& identity = meshPki())
      : serverTls_(serverContext(meshPki())),
        clientTls_(clientContext(meshPki(), identity)),
        sockets_(connectedPair(ioc)),
        server(std::move(sockets_.first), serverTls_),
        client(std::move(sockets_.second), clientTls_) {
    expectServerName(client);
  }

 private:
  ssl::context serverTls_;
  ssl::context clientTls_;
  std::pair<tcp::socket, tcp::socket> sockets_;  // moved into the streams

 public:
  FdTlsStream server;
  ssl::stream<tcp::socket> client;
};

// --- 1. Mutual TLS and a concurrent bulk transfer ---------------------------------------------

asio::awaitable<void> bulkServer(FdTlsStream& stream, const std::vector<unsigned char>& out,
                                 std::vector<unsigned char>& in) {
  auto [error] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
  EXPECT_FALSE(error) << "server handshake: " << error.message();
  if (error) co_return;
  EXPECT_EQ(SSL_get_verify_result(stream.native_handle()), X509_V_OK);
  X509* peer = SSL_get0_peer_certificate(stream.native_handle());
  EXPECT_NE(peer, nullptr) << "the client presented no certificate";
  using namespace asio::experimental::awaitable_operators;
  co_await (writeAll(stream, out) && readAll(stream, in));
}

asio::awaitable<void> bulkClient(ssl::stream<tcp::socket>& stream,
                                 const std::vector<unsigned char>& out,
                                 std::vector<unsigned char>& in) {
  auto [error] = co_await stream.async_handshake(ssl::stream_base::client, kTuple);
  EXPECT_FALSE(error) << "client handshake: " << error.message();
  if (error) co_return;
  // The server's read must answer with a KeyUpdate of its own while its write is blocked.
  EXPECT_EQ(SSL_key_update(stream.native_handle(), SSL_KEY_UPDATE_REQUESTED), 1);
  // Everything before reading anything: the server's write blocks for as long as its read runs.
  co_await writeAll(stream, out);
  co_await readAll(stream, in);
}

TEST(FdTlsStreamTest, MutualTlsCarriesAMebibyteEachWayConcurrently) {
  asio::io_context ioc;
  auto serverTls = serverContext(meshPki());
  auto clientTls = clientContext(meshPki(), meshPki());
  auto [serverSocket, clientSocket] = connectedPair(ioc);
  setSmallSocketBuffers(serverSocket);
  setSmallSocketBuffers(clientSocket);
  FdTlsStream server(std::move(serverSocket), serverTls);
  ssl::stream<tcp::socket> client(std::move(clientSocket), clientTls);
  expectServerName(client);

  const auto toClient = randomBytes(1 << 20, 1);
  const auto toServer = randomBytes(1 << 20, 2);
  std::vector<unsigned char> atClient(toClient.size());
  std::vector<unsigned char> atServer(toServer.size());
  Coroutines coroutines(ioc);
  coroutines.spawn(bulkServer(server, toClient, atServer));
  coroutines.spawn(bulkClient(client, toServer, atClient));
  coroutines.run();

  EXPECT_TRUE(atServer == toServer) << "the server received other bytes than the client sent";
  EXPECT_TRUE(atClient == toClient) << "the client received other bytes than the server sent";
}

// Both peers on strands of an io_context run by two threads: the reactor's readiness events are
// then taken by whichever thread waits in epoll, including between OpenSSL's EAGAIN and the
// queueing of the wait.
TEST(FdTlsStreamTest, BulkTransfersOnStrandsOfATwoThreadIoContextDoNotStall) {
  asio::io_context ioc(2);
  auto serverTls = serverContext(meshPki());
  auto clientTls = clientContext(meshPki(), meshPki());
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket clientSocket(asio::make_strand(ioc));
  clientSocket.connect(acceptor.local_endpoint());
  tcp::socket serverSocket = acceptor.accept(asio::make_strand(ioc));
  setSmallSocketBuffers(serverSocket);
  setSmallSocketBuffers(clientSocket);
  FdTlsStream server(std::move(serverSocket), serverTls);
  ssl::stream<tcp::socket> client(std::move(clientSocket), clientTls);
  expectServerName(client);

  const auto toClient = randomBytes(8 << 20, 3);
  const auto toServer = randomBytes(8 << 20, 4);
  std::vector<unsigned char> atClient(toClient.size());
  std::vector<unsigned char> atServer(toServer.size());
  // Closes both sockets when the transfer hangs, which ends every operation.
  asio::steady_timer watchdog(ioc, 60s);
  bool stalled = false;
  watchdog.async_wait([&](error_code e) {
    if (e) return;
    stalled = true;
    asio::post(server.get_executor(), [&] { server.next_layer().close(); });
    asio::post(client.get_executor(), [&] { client.next_layer().close(); });
  });
  std::atomic<int> finished = 0;
  auto onFinished = [&](std::exception_ptr error) {
    EXPECT_FALSE(error);
    if (++finished == 2) asio::post(ioc, [&] { watchdog.cancel(); });
  };
  asio::co_spawn(server.get_executor(), bulkServer(server, toClient, atServer), onFinished);
  asio::co_spawn(client.get_executor(), bulkClient(client, toServer, atClient), onFinished);
  std::thread other([&] { ioc.run(); });
  ioc.run();
  other.join();

  EXPECT_FALSE(stalled) << "the transfer stalled";
  EXPECT_TRUE(atServer == toServer) << "the server received other bytes than the client sent";
  EXPECT_TRUE(atClient == toClient) << "the client received other bytes than the server sent";
}

// --- 2. WebSocket on top, closed by either side ------------------------------------------------

using ServerWebSocket = websocket::stream<FdTlsStream>;
using ClientWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

std::vector<std::string> testMessages() {
  std::string large(4 << 20, 'x');
  for (std::size_t i = 0; i < large.size(); i += 97)
    large[i] = static_cast<char>('a' + i % 26);
  return {"hello", std::string(20000, 'm'), large, "bye"};
}

asio::awaitable<void> acceptWebSocket(ServerWebSocket& ws, bool& accepted) {
  auto [handshakeError] =
      co_await ws.next_layer().async_handshake(ssl::stream_base::server, kTuple);
  EXPECT_FALSE(handshakeError) << "TLS handshake: " << handshakeError.message();
  if (handshakeError) co_return;
  auto [acceptError] = co_await ws.async_accept(kTuple);
  EXPECT_FALSE(acceptError) << "WebSocket accept: " << acceptError.message();
  accepted = !acceptError;
}

asio::awaitable<void> connectWebSocket(ClientWebSocket& ws, bool& connected) {
  expectServerName(ws.next_layer());
  auto [handshakeError] =
      co_await ws.next_layer().async_handshake(ssl::stream_base::client, kTuple);
  EXPECT_FALSE(handshakeError) << "TLS handshake: " << handshakeError.message();
  if (handshakeError) co_return;
  auto [upgradeError] = co_await ws.async_handshake(std::string(kServerName), "/config", kTuple);
  EXPECT_FALSE(upgradeError) << "WebSocket handshake: " << upgradeError.message();
  connected = !upgradeError;
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

// --- 3. The peer vanishes ----------------------------------------------------------------------

asio::awaitable<void> serverReadsAfterOneByte(FdTlsStream& stream, error_code& readError) {
  auto [error] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
  EXPECT_FALSE(error) << "server handshake: " << error.message();
  if (error) co_return;
  // The client reads this (and the session tickets before it), so it has nothing unread when it
  // closes: a FIN, not a RST.
  auto [writeError, written] = co_await asio::async_write(stream, asio::buffer("!", 1), kTuple);
  EXPECT_FALSE(writeError);
  char byte = 0;
  auto [e, n] = co_await stream.async_read_some(asio::buffer(&byte, 1), kTuple);
  readError = e;
}

asio::awaitable<void> clientVanishes(ssl::stream<tcp::socket>& stream) {
  auto [error] = co_await stream.async_handshake(ssl::stream_base::client, kTuple);
  EXPECT_FALSE(error) << "client handshake: " << error.message();
  char byte = 0;
  auto [readError, n] = co_await asio::async_read(stream, asio::buffer(&byte, 1), kTuple);
  EXPECT_FALSE(readError);
  stream.next_layer().close();  // No close_notify.
}

TEST(FdTlsStreamTest, PeerClosingTcpWithoutCloseNotifyIsStreamTruncated) {
  asio::io_context ioc;
  StreamPair pair(ioc);
  FdTlsStream& server = pair.server;
  ssl::stream<tcp::socket>& client = pair.client;

  error_code readError;
  Coroutines coroutines(ioc);
  coroutines.spawn(serverReadsAfterOneByte(server, readError));
  coroutines.spawn(clientVanishes(client));
  coroutines.run();

  EXPECT_EQ(readError, ssl::error::stream_truncated) << readError.message();
}

// --- 4. Untrusted client certificate -----------------------------------------------------------

asio::awaitable<void> serverRejects(FdTlsStream& stream, error_code& handshakeError) {
  auto [error] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
  handshakeError = error;
  stream.next_layer().close();
}

asio::awaitable<void> clientTriesHandshake(ssl::stream<tcp::socket>& stream) {
  // TLS 1.3 clients finish their handshake before the server has checked their certificate; the
  // rejection shows on the next read. Neither outcome is what this test checks.
  auto [error] = co_await stream.async_handshake(ssl::stream_base::client, kTuple);
  if (error) co_return;
  char byte = 0;
  co_await stream.async_read_some(asio::buffer(&byte, 1), kTuple);
}

TEST(FdTlsStreamTest, ClientCertificateFromAnUntrustedCaFailsVerification) {
  asio::io_context ioc;
  const TestPki stranger = makePki("someone else's CA");
  StreamPair pair(ioc, stranger);
  FdTlsStream& server = pair.server;
  ssl::stream<tcp::socket>& client = pair.client;

  error_code handshakeError;
  Coroutines coroutines(ioc);
  coroutines.spawn(serverRejects(server, handshakeError));
  coroutines.spawn(clientTriesHandshake(client));
  coroutines.run();

  ASSERT_TRUE(handshakeError) << "the handshake succeeded";
  EXPECT_EQ(handshakeError.category(), asio::error::get_ssl_category()) << handshakeError.message();
  EXPECT_NE(SSL_get_verify_result(server.native_handle()), X509_V_OK);
}

// --- 5. Aborting a pending read ----------------------------------------------------------------

// Handshakes both ends; true when both succeeded.
bool handshakePair(asio::io_context& ioc, FdTlsStream& server, ssl::stream<tcp::socket>& client) {
  error_code serverError = asio::error::would_block;
  error_code clientError = asio::error::would_block;
  server.async_handshake(ssl::stream_base::server, [&](error_code e) { serverError = e; });
  client.async_handshake(ssl::stream_base::client, [&](error_code e) { clientError = e; });
  Coroutines(ioc).runUntil([&] {
    return serverError != asio::error::would_block && clientError != asio::error::would_block;
  });
  EXPECT_FALSE(serverError) << serverError.message();
  EXPECT_FALSE(clientError) << clientError.message();
  return !serverError && !clientError;
}

TEST(FdTlsStreamTest, ClosingTheSocketAbortsAPendingRead) {
  asio::io_context ioc;
  StreamPair pair(ioc);
  FdTlsStream& server = pair.server;
  ssl::stream<tcp::socket>& client = pair.client;
  ASSERT_TRUE(handshakePair(ioc, server, client));

  bool done = false;
  error_code readError;
  char byte = 0;
  server.async_read_some(asio::buffer(&byte, 1), [&](error_code e, std::size_t) {
    readError = e;
    done = true;
  });
  ioc.restart();
  ioc.poll();
  ASSERT_FALSE(done) << "the read completed without data: " << readError.message();

  const auto closedAt = std::chrono::steady_clock::now();
  server.next_layer().close();
  EXPECT_TRUE(Coroutines(ioc).runUntil([&] { return done; }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - closedAt, 1s);
  EXPECT_EQ(readError, asio::error::operation_aborted) << readError.message();
}

TEST(FdTlsStreamTest, TerminalCancellationAbortsAPendingRead) {
  asio::io_context ioc;
  StreamPair pair(ioc);
  FdTlsStream& server = pair.server;
  ssl::stream<tcp::socket>& client = pair.client;
  ASSERT_TRUE(handshakePair(ioc, server, client));

  bool done = false;
  error_code readError;
  char byte = 0;
  asio::cancellation_signal cancel;
  server.async_read_some(asio::buffer(&byte, 1), asio::bind_cancellation_slot(
                                                     cancel.slot(), [&](error_code e, std::size_t) {
                                                       readError = e;
                                                       done = true;
                                                     }));
  ioc.restart();
  ioc.poll();
  ASSERT_FALSE(done) << "the read completed without data: " << readError.message();

  cancel.emit(asio::cancellation_type::terminal);
  EXPECT_TRUE(Coroutines(ioc).runUntil([&] { return done; }, 5s));
  EXPECT_EQ(readError, asio::error::operation_aborted) << readError.message();
  EXPECT_TRUE(server.next_layer().is_open());
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

// --- 7. Memory of idle connections -------------------------------------------------------------

constexpr int kIdleConnections = 200;

#if defined(__SANITIZE_ADDRESS__)
// From libasan (GCC ships no header for it): the bytes the program holds from ASan's allocator.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

// Bytes the process has allocated and not freed: glibc's count, or AddressSanitizer's when its
// allocator replaces glibc's (mallinfo2 then sees nothing).
std::size_t heapInUse() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
#endif
}

asio::awaitable<void> idleClient(ClientWebSocket& ws, tcp::endpoint server, int& failures) {
  auto [connectError] = co_await beast::get_lowest_layer(ws).async_connect(server, kTuple);
  if (connectError) {
    ++failures;
    co_return;
  }
  bool connected = false;
  co_await connectWebSocket(ws, connected);
  beast::flat_buffer buffer;
  auto [readError, n] = co_await ws.async_read(buffer, kTuple);
  auto [writeError, written] = co_await ws.async_write(asio::buffer(std::string("ho")), kTuple);
  if (!connected || readError || writeError) ++failures;
  // Idle until the server goes away.
  co_await ws.async_read(buffer, kTuple);
}

// The clients, in a child process so that the measured heap holds only server objects. The
// server's port arrives through `portPipe`. Exits 0 when every client got through its exchange.
[[noreturn]] void runIdleClients(int portPipe) {
  unsigned short port = 0;
  if (::read(portPipe, &port, sizeof port) != sizeof port) ::_exit(2);
  asio::io_context ioc;
  auto tls = clientContext(meshPki(), meshPki());
  std::vector<std::unique_ptr<ClientWebSocket>> clients;
  int failures = 0;
  int finished = 0;
  for (int i = 0; i < kIdleConnections; ++i) {
    clients.push_back(std::make_unique<ClientWebSocket>(ioc, tls));
    asio::co_spawn(ioc,
                   idleClient(*clients.back(),
                              tcp::endpoint(asio::ip::address_v4::loopback(), port), failures),
                   [&](std::exception_ptr error) {
                     if (error) ++failures;
                     ++finished;
                   });
  }
  ioc.run_for(120s);
  ::_exit(failures == 0 && finished == kIdleConnections ? 0 : 1);
}

template <class ServerWs>
asio::awaitable<void> idleServer(ServerWs& ws, beast::flat_buffer& buffer, int& idle,
                                 int& failures) {
  auto [handshakeError] =
      co_await ws.next_layer().async_handshake(ssl::stream_base::server, kTuple);
  if (!handshakeError) {
    auto [acceptError] = co_await ws.async_accept(kTuple);
    if (!acceptError) {
      auto [writeError, written] = co_await ws.async_write(asio::buffer(std::string("hi")), kTuple);
      auto [readError, n] = co_await ws.async_read(buffer, kTuple);
      if (!writeError && !readError) {
        buffer.consume(buffer.size());
        ++idle;
        // Idle with a read pending, as a config session between ACKs.
        co_await ws.async_read(buffer, kTuple);
        co_return;
      }
    }
  }
  ++failures;
}

// Heap bytes per idle server connection (server objects only), or -1 when the setup failed.
template <class ServerWs>
double idleServerBytesPerConnection() {
  int portPipe[2];
  if (::pipe(portPipe) != 0) return -1;
  const pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) {
    ::close(portPipe[1]);
    runIdleClients(portPipe[0]);
  }
  ::close(portPipe[0]);

  double perConnection = -1;
  {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const unsigned short port = acceptor.local_endpoint().port();
    const bool portSent = ::write(portPipe[1], &port, sizeof port) == sizeof port;
    ::close(portPipe[1]);
    if (portSent) {
      std::vector<tcp::socket> sockets;
      for (int i = 0; i < kIdleConnections; ++i)
        sockets.push_back(acceptor.accept());
      auto tls = serverContext(meshPki());
      std::vector<std::unique_ptr<ServerWs>> servers;
      servers.reserve(kIdleConnections);
      std::vector<beast::flat_buffer> buffers(kIdleConnections);
      int idle = 0;
      int failures = 0;
      Coroutines coroutines(ioc);

      const std::size_t before = heapInUse();
      for (int i = 0; i < kIdleConnections; ++i) {
        servers.push_back(std::make_unique<ServerWs>(std::move(sockets[i]), tls));
        coroutines.spawn(idleServer(*servers.back(), buffers[i], idle, failures));
      }
      const bool allIdle =
          coroutines.runUntil([&] { return idle == kIdleConnections || failures > 0; }, 60s);
      const std::size_t after = heapInUse();
      EXPECT_TRUE(allIdle && idle == kIdleConnections)
          << idle << " connections idle, " << failures << " failed";
      if (allIdle && idle == kIdleConnections) {
        perConnection = (static_cast<double>(after) - static_cast<double>(before)) /
                        static_cast<double>(kIdleConnections);
      }
      for (auto& server : servers)
        beast::get_lowest_layer(*server).close();
      coroutines.run();
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the client process failed";
  return perConnection;
}

TEST(FdTlsStreamTest, IdleWebSocketConnectionCostsUnder40KiBOfHeap) {
  meshPki();  // Generated before the fork, shared by the client process.
  const double fd = idleServerBytesPerConnection<ServerWebSocket>();
  const double beastSsl =
      idleServerBytesPerConnection<websocket::stream<beast::ssl_stream<beast::tcp_stream>>>();
  std::printf(
      "[ memory   ] idle mutual-TLS WebSocket server connection, heap per connection:\n"
      "[ memory   ]   websocket::stream<FdTlsStream>:                         %.0f bytes\n"
      "[ memory   ]   websocket::stream<beast::ssl_stream<beast::tcp_stream>>: %.0f bytes\n",
      fd, beastSsl);
  EXPECT_GT(fd, 0);
  EXPECT_LT(fd, 40 * 1024);
}

}  // namespace
}  // namespace meshgate::net
