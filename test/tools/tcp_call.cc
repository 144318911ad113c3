// The `tcp` client: connect, send, half-close, read to the end, all within one deadline.
#include "test/tools/tcp_call.h"

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "test/tools/test_client.h"

namespace meshgate::testtools {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

using Clock = std::chrono::steady_clock;

struct Outcome {
  std::string received;
  std::string failure;  // empty: the server ended the stream
  bool finished = false;
};

// The whole exchange by `deadline`: the lookup gives up at it, and a watchdog closes the socket
// then, which ends a connect, write or read still pending.
net::awaitable<void> exchange(const TcpCallOptions& options, std::string host, std::string port,
                              Clock::time_point deadline, Outcome& outcome) {
  const HostLookup lookup = co_await lookUpHost(host, port, deadline, options.timeoutMs);
  if (!lookup.error.empty()) {
    outcome.failure = lookup.error;
    co_return;
  }
  const auto executor = co_await net::this_coro::executor;
  tcp::socket socket(executor);
  bool timedOut = false;
  net::steady_timer watchdog(executor, deadline);
  watchdog.async_wait([&socket, &timedOut](const boost::system::error_code& error) {
    if (error) return;  // cancelled: the exchange ended first
    timedOut = true;
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  const auto failed = [&](const std::string& what, const boost::system::error_code& error) {
    outcome.failure = what + ": " +
                      (timedOut ? "timed out after " + std::to_string(options.timeoutMs) + " ms"
                                : error.message());
  };
  auto [connectError, endpoint] = co_await net::async_connect(socket, lookup.endpoints, kNoThrow);
  if (connectError) {
    failed("connect " + host + ":" + port, connectError);
    co_return;
  }
  auto [writeError, written] =
      co_await net::async_write(socket, net::buffer(options.send), kNoThrow);
  if (writeError) {
    failed("write", writeError);
    co_return;
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  auto [readError, n] =
      co_await net::async_read(socket, net::dynamic_buffer(outcome.received), kNoThrow);
  if (readError != net::error::eof || timedOut) {
    failed("read", readError);
    co_return;
  }
  watchdog.cancel();
  outcome.finished = true;
}

}  // namespace

CLI::App* addTcpCallCommand(CLI::App& app, TcpCallOptions& options) {
  CLI::App* command = app.add_subcommand(
      "tcp", "connect to HOST:PORT, send TEXT, half-close, print what comes back until the end");
  command->add_option("target", options.target, "HOST:PORT")->required();
  command->add_option("--send", options.send, "the bytes to send")->required();
  command
      ->add_option("--timeout-ms", options.timeoutMs,
                   "for the whole exchange: resolve, connect, write, read (default 5000)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{86'400'000}));
  return command;
}

int runTcpCallCommand(const TcpCallOptions& options, std::ostream& out, std::ostream& err) {
  const auto colon = options.target.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == options.target.size()) {
    err << "tcp: bad target " << options.target << " (want HOST:PORT)\n";
    return 2;
  }
  std::string host = options.target.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  Outcome outcome;
  net::io_context io;
  net::co_spawn(io,
                exchange(options, host, options.target.substr(colon + 1),
                         Clock::now() + std::chrono::milliseconds(options.timeoutMs), outcome),
                net::detached);
  io.run();
  out << outcome.received;
  out.flush();
  if (!outcome.finished) {
    err << "tcp: " << outcome.failure << "\n";
    return 1;
  }
  return 0;
}

}  // namespace meshgate::testtools
