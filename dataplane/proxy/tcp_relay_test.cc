// Tests of relayConnected (tcp_relay.h) between loopback sockets, all in one io_context on the
// test's thread: 8 MiB each way at once arrive byte-exact and counted; the half-close is passed on
// only after the last byte; closing a socket from outside, or the idle timeout, ends the relay; a
// splice into a connection the peer reset raises no SIGPIPE. Each runs twice: splicing, and with
// pipes refused as when pipe2 is out of descriptors (the copy fallback). Two more check the pipes
// (splice_pipe.h): a direction holds one only while bytes are in flight, and one that still holds
// bytes is closed, never kept as a spare for another connection.
#include "dataplane/proxy/tcp_relay.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "dataplane/proxy/splice_pipe.h"
#include "metrics/counter.h"

namespace meshgate::dp {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

std::string pattern(size_t size, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string out(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t word = random();
    std::memcpy(out.data() + i, &word, std::min<size_t>(8, size - i));
  }
  return out;
}

// The pipes this process has open (the entries of /proc/self/fd that link to "pipe:[…]").
std::optional<int> openPipes() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  int pipes = 0;
  while (const dirent* entry = ::readdir(dir)) {
    char target[64] = {};
    const std::string path = std::string("/proc/self/fd/") + entry->d_name;
    if (::readlink(path.c_str(), target, sizeof target - 1) > 0 &&
        std::strncmp(target, "pipe:", 5) == 0)
      ++pipes;
  }
  ::closedir(dir);
  return pipes;
}

// While it lives, relays get no pipe, as when pipe2 runs out of descriptors (EMFILE).
class NoNewPipes {
 public:
  NoNewPipes() { SplicePipe::refuseForTesting(true); }
  ~NoNewPipes() { SplicePipe::refuseForTesting(false); }
  NoNewPipes(const NoNewPipes&) = delete;
  NoNewPipes& operator=(const NoNewPipes&) = delete;
};

// While it lives, SIGPIPE is counted by a handler instead of ending the process.
std::atomic<int> sigpipes{0};
class SigpipeCounter {
 public:
  SigpipeCounter() {
    sigpipes = 0;
    struct sigaction counting {};
    counting.sa_handler = [](int) { sigpipes.fetch_add(1); };
    sigemptyset(&counting.sa_mask);
    ::sigaction(SIGPIPE, &counting, &saved_);
  }
  ~SigpipeCounter() { ::sigaction(SIGPIPE, &saved_, nullptr); }
  SigpipeCounter(const SigpipeCounter&) = delete;
  SigpipeCounter& operator=(const SigpipeCounter&) = delete;

 private:
  struct sigaction saved_ {};
};

// What a peer read: the bytes, and how the stream ended (eof, or an error; none while open).
struct Received {
  std::string bytes;
  boost::system::error_code end;
  bool ended = false;
};

asio::awaitable<void> readToEnd(tcp::socket& socket, Received& into) {
  std::string chunk(64 * 1024, '\0');
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), kNoThrow);
    into.bytes.append(chunk.data(), n);
    if (ec) {
      into.end = ec;
      into.ended = true;
      co_return;
    }
  }
}

// Writes all of `bytes`; `done` once it did. (By value: the coroutine starts after the caller's
// full expression.)
asio::awaitable<void> send(tcp::socket& socket, std::string bytes, bool& done) {
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(bytes), kNoThrow);
  done = !ec && n == bytes.size();
}

// Writes all of `bytes`, then half-closes; `done` once both happened.
asio::awaitable<void> sendAndHalfClose(tcp::socket& socket, std::string bytes, bool& done) {
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(bytes), kNoThrow);
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  done = !ec && n == bytes.size();
}

// client ⇄ downstream (relay) upstream ⇄ server, on loopback; the relay between downstream and
// upstream, started by startRelay().
class RelayFixture : public ::testing::Test {
 protected:
  RelayFixture() {
    connectPair(client_, downstream_);
    connectPair(upstream_, server_);
  }

  void startRelay(std::chrono::milliseconds idleTimeout = 60s) {
    asio::co_spawn(
        context_,
        [this, idleTimeout]() -> asio::awaitable<void> {
          co_await relayConnected(
              downstream_, upstream_, idleTimeout,
              {.downstreamToUpstream = &toUpstream_, .upstreamToDownstream = &toDownstream_});
          relayEnded_ = true;
        },
        asio::detached);
  }

  void spawn(asio::awaitable<void> work) {
    asio::co_spawn(context_, std::move(work), asio::detached);
  }

  // Runs the test's io_context until `done` holds; false when 20 s passed first.
  bool runUntil(const std::function<bool()>& done) {
    const auto deadline = Clock::now() + 20s;
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      if (context_.stopped()) context_.restart();
      context_.run_one_for(10ms);
    }
    return true;
  }

  asio::io_context context_;
  tcp::socket client_{context_}, downstream_{context_}, upstream_{context_}, server_{context_};
  metrics::Counter toUpstream_, toDownstream_;
  bool relayEnded_ = false;

 private:
  void connectPair(tcp::socket& connecting, tcp::socket& accepted) {
    tcp::acceptor acceptor(context_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    connecting.connect(acceptor.local_endpoint());
    acceptor.accept(accepted);
  }
};

enum class Path { kSplice, kCopy };

class TcpRelayTest : public RelayFixture, public ::testing::WithParamInterface<Path> {
 protected:
  void SetUp() override {
    if (GetParam() != Path::kCopy) return;
    SplicePipe::closeSpares();
    noPipes_.emplace();
    boost::system::error_code ec;
    ASSERT_FALSE(SplicePipe::acquire(ec).has_value()) << "a relay could still get a pipe";
    ASSERT_EQ(ec.value(), EMFILE);
  }
  void TearDown() override { noPipes_.reset(); }

 private:
  std::optional<NoNewPipes> noPipes_;
};

TEST_P(TcpRelayTest, MovesEightMiBEachWayAtOnceByteExact) {
  const std::string up = pattern(8 << 20, 1), down = pattern(8 << 20, 2);
  startRelay();
  bool clientSent = false, serverSent = false;
  Received atServer, atClient;
  spawn(sendAndHalfClose(client_, up, clientSent));
  spawn(sendAndHalfClose(server_, down, serverSent));
  spawn(readToEnd(server_, atServer));
  spawn(readToEnd(client_, atClient));
  ASSERT_TRUE(runUntil([&] { return atServer.ended && atClient.ended && relayEnded_; }))
      << "server got " << atServer.bytes.size() << ", client " << atClient.bytes.size();
  EXPECT_TRUE(clientSent && serverSent);
  EXPECT_EQ(atServer.end, asio::error::eof);
  EXPECT_EQ(atClient.end, asio::error::eof);
  ASSERT_EQ(atServer.bytes.size(), up.size());
  ASSERT_EQ(atClient.bytes.size(), down.size());
  EXPECT_TRUE(atServer.bytes == up) << "the upload arrived changed";
  EXPECT_TRUE(atClient.bytes == down) << "the download arrived changed";
  EXPECT_EQ(toUpstream_.value(), static_cast<double>(up.size()));
  EXPECT_EQ(toDownstream_.value(), static_cast<double>(down.size()));
  EXPECT_FALSE(downstream_.is_open());
  EXPECT_FALSE(upstream_.is_open());
}

TEST_P(TcpRelayTest, PassesTheHalfCloseOnOnlyAfterTheLastByte) {
  // The relay's way to the server is narrow and the server does not read at first: the client's
  // bytes and its half-close are all in the relay's hands (socket buffers, pipe) at once.
  upstream_.set_option(asio::socket_base::send_buffer_size(16 * 1024));
  client_.set_option(asio::socket_base::send_buffer_size(1 << 20));
  const std::string sent = pattern(512 * 1024, 3);
  startRelay();
  bool clientSent = false;
  spawn(sendAndHalfClose(client_, sent, clientSent));
  ASSERT_TRUE(runUntil([&] { return clientSent; }));
  Received atServer;
  spawn(readToEnd(server_, atServer));
  ASSERT_TRUE(runUntil([&] { return atServer.ended; }));
  EXPECT_EQ(atServer.end, asio::error::eof);
  ASSERT_EQ(atServer.bytes.size(), sent.size()) << "the half-close overtook bytes";
  EXPECT_TRUE(atServer.bytes == sent);
  EXPECT_FALSE(relayEnded_);
  // The other direction still works, and its own half-close ends the relay.
  bool serverSent = false;
  Received atClient;
  spawn(sendAndHalfClose(server_, "reply", serverSent));
  spawn(readToEnd(client_, atClient));
  ASSERT_TRUE(runUntil([&] { return atClient.ended && relayEnded_; }));
  EXPECT_EQ(atClient.bytes, "reply");
  EXPECT_EQ(atClient.end, asio::error::eof);
}

TEST_P(TcpRelayTest, EndsWhenBothSocketsAreClosedFromOutsideMidTransfer) {
  // The server never reads: the relay waits for room upstream with bytes on hand, as
  // TcpProxySession::abort finds it.
  const std::string sent = pattern(32 << 20, 4);
  SplicePipe::closeSpares();
  const std::optional<int> pipesBefore = openPipes();
  startRelay();
  bool clientSent = false;
  spawn(sendAndHalfClose(client_, sent, clientSent));
  ASSERT_TRUE(runUntil([&] { return toUpstream_.value() > 0; }));
  boost::system::error_code ignored;
  downstream_.close(ignored);
  upstream_.close(ignored);
  ASSERT_TRUE(runUntil([&] { return relayEnded_; }));
  EXPECT_FALSE(clientSent);
  if (GetParam() == Path::kSplice) {
    SplicePipe::closeSpares();
    ASSERT_TRUE(pipesBefore.has_value());
    EXPECT_EQ(openPipes().value_or(-1), *pipesBefore) << "a pipe of the relay was left open";
  }
}

TEST_P(TcpRelayTest, EndsWhenOneSocketIsClosedFromOutside) {
  startRelay();
  bool clientSent = false;
  Received atServer;
  spawn(send(client_, "ping", clientSent));
  spawn(readToEnd(server_, atServer));
  ASSERT_TRUE(runUntil([&] { return atServer.bytes == "ping"; }));
  // Each direction waits for its source; the client's, still open, never ends by itself.
  boost::system::error_code ignored;
  upstream_.close(ignored);
  Received atClient;
  spawn(readToEnd(client_, atClient));
  ASSERT_TRUE(runUntil([&] { return relayEnded_ && atClient.ended; }));
  EXPECT_EQ(atClient.bytes, "");
  EXPECT_FALSE(downstream_.is_open());
}

TEST_P(TcpRelayTest, EndsWhenNeitherDirectionMovedForTheIdleTimeout) {
  startRelay(200ms);
  bool clientSent = false;
  Received atServer;
  spawn(send(client_, "x", clientSent));
  spawn(readToEnd(server_, atServer));
  ASSERT_TRUE(runUntil([&] { return atServer.bytes == "x"; }));
  const auto lastByte = Clock::now();
  Received atClient;
  spawn(readToEnd(client_, atClient));
  ASSERT_TRUE(runUntil([&] { return relayEnded_ && atClient.ended; }));
  // 200 ms after the relay moved the byte, which was just before the server read it.
  EXPECT_GE(Clock::now() - lastByte, 150ms) << "ended before the idle timeout";
  EXPECT_TRUE(clientSent);
}

TEST_P(TcpRelayTest, ASpliceIntoAConnectionThePeerResetRaisesNoSigpipe) {
  SigpipeCounter counter;
  startRelay();
  // The server resets its connection; the relay's upstream-to-client direction reads the reset
  // (the socket's error is then consumed) and passes the end on to the client.
  server_.set_option(asio::socket_base::linger(true, 0));
  boost::system::error_code ignored;
  server_.close(ignored);
  Received atClient;
  spawn(readToEnd(client_, atClient));
  ASSERT_TRUE(runUntil([&] { return atClient.ended; }));
  EXPECT_EQ(atClient.end, asio::error::eof);
  // Bytes the client sends now are written into the reset connection: EPIPE.
  bool clientSent = false;
  spawn(sendAndHalfClose(client_, "after the reset", clientSent));
  ASSERT_TRUE(runUntil([&] { return relayEnded_; }));
  EXPECT_EQ(sigpipes.load(), 0);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
  EXPECT_EQ(toUpstream_.value(), 0);
}

INSTANTIATE_TEST_SUITE_P(Paths, TcpRelayTest, ::testing::Values(Path::kSplice, Path::kCopy),
                         [](const ::testing::TestParamInfo<Path>& info) {
                           return info.param == Path::kSplice ? "Splice" : "CopyWithoutPipes";
                         });

using TcpRelaySpliceTest = RelayFixture;

TEST_F(TcpRelaySpliceTest, HoldsAPipePerDirectionOnlyWhileBytesAreInFlight) {
  SplicePipe::closeSpares();
  const std::optional<int> before = openPipes();
  ASSERT_TRUE(before.has_value());
  startRelay();
  bool clientSent = false, serverSent = false;
  Received atServer, atClient;
  spawn(send(client_, "up", clientSent));
  spawn(send(server_, "down", serverSent));
  spawn(readToEnd(server_, atServer));
  spawn(readToEnd(client_, atClient));
  ASSERT_TRUE(runUntil([&] { return atServer.bytes == "up" && atClient.bytes == "down"; }));
  // Each direction took a pipe for its bytes and, waiting for more, gave it back: the second took
  // the one the first gave back.
  EXPECT_EQ(openPipes().value_or(-1), *before + 2) << "not one spare pipe (two ends)";
  SplicePipe::closeSpares();
  EXPECT_EQ(openPipes().value_or(-1), *before) << "the idle relay holds a pipe";
  // The next bytes take a pipe again.
  bool clientSentAgain = false;
  spawn(send(client_, "again", clientSentAgain));
  ASSERT_TRUE(runUntil([&] { return atServer.bytes == "upagain"; }));
  EXPECT_EQ(openPipes().value_or(-1), *before + 2);
  boost::system::error_code ignored;
  client_.shutdown(tcp::socket::shutdown_send, ignored);
  server_.shutdown(tcp::socket::shutdown_send, ignored);
  ASSERT_TRUE(runUntil([&] { return relayEnded_; }));
  SplicePipe::closeSpares();
  EXPECT_EQ(openPipes().value_or(-1), *before);
}

TEST_F(TcpRelaySpliceTest, APipeGivenBackWithBytesInItIsClosedNotKept) {
  SplicePipe::closeSpares();
  const std::optional<int> before = openPipes();
  ASSERT_TRUE(before.has_value());
  asio::write(client_, asio::buffer(std::string_view("stale")));
  downstream_.wait(tcp::socket::wait_read);
  boost::system::error_code ec;
  std::optional<SplicePipe> holding = SplicePipe::acquire(ec);
  ASSERT_TRUE(holding.has_value()) << ec.message();
  ASSERT_EQ(holding->fill(downstream_.native_handle(), ec), 5u) << ec.message();
  std::optional<SplicePipe> empty = SplicePipe::acquire(ec);
  ASSERT_TRUE(empty.has_value()) << ec.message();
  EXPECT_EQ(openPipes().value_or(-1), *before + 4);
  SplicePipe::release(std::move(*holding));
  EXPECT_EQ(openPipes().value_or(-1), *before + 2) << "the pipe holding bytes was kept";
  SplicePipe::release(std::move(*empty));
  EXPECT_EQ(openPipes().value_or(-1), *before + 2) << "the empty pipe was not kept";
  SplicePipe::closeSpares();
  EXPECT_EQ(openPipes().value_or(-1), *before);
}

}  // namespace
}  // namespace meshgate::dp
