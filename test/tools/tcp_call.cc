// The `tcp` client: connect, send, half-close, read to the end, all within one deadline.
#include "test/tools/tcp_call.h"

#include <chrono>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace meshgate::testtools {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

struct Outcome {
  std::string received;
  std::string failure;  // empty: the server ended the stream
  bool finished = false;
};

net::awaitable<void> exchange(std::string host, std::string port, std::string text,
                              Outcome& outcome) {
  const auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [resolveError, results] = co_await resolver.async_resolve(host, port, kNoThrow);
  if (resolveError) {
    outcome.failure = "resolve " + host + ": " + resolveError.message();
    co_return;
  }
  tcp::socket socket(executor);
  auto [connectError, endpoint] = co_await net::async_connect(socket, results, kNoThrow);
  if (connectError) {
    outcome.failure = "connect " + host + ":" + port + ": " + connectError.message();
    co_return;
  }
  auto [writeError, written] = co_await net::async_write(socket, net::buffer(text), kNoThrow);
  if (writeError) {
    outcome.failure = "write: " + writeError.message();
    co_return;
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  auto [readError, n] =
      co_await net::async_read(socket, net::dynamic_buffer(outcome.received), kNoThrow);
  if (readError != net::error::eof) {
    outcome.failure = "read: " + readError.message();
    co_return;
  }
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
  Outcome outcome;  // outlives the io_context, which destroys a coroutine cut by the deadline
  net::io_context io;
  net::co_spawn(io, exchange(host, options.target.substr(colon + 1), options.send, outcome),
                net::detached);
  io.run_for(std::chrono::milliseconds(options.timeoutMs));
  if (!outcome.finished && outcome.failure.empty())
    outcome.failure = "timed out after " + std::to_string(options.timeoutMs) + " ms";
  out << outcome.received;
  out.flush();
  if (!outcome.finished) {
    err << "tcp: " << outcome.failure << "\n";
    return 1;
  }
  return 0;
}

}  // namespace meshgate::testtools
