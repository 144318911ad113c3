// meshgate-idle-clients: opens COUNT keep-alive client connections, sends one complete request
// on each, reads its response, then holds them all open and idle. bench/proxy/run.sh uses it to
// measure a proxy's memory with 10,000 idle client connections.
//   meshgate-idle-clients --connect 127.0.0.1:PORT --count 10000 [--hold-seconds N]
// prints "open <count>" once every connection is established and answered, then holds until
// killed (or N seconds, if N > 0). Exits 1 if a connection fails or the server closes one.
// With --count-shed (a proxy over its connection limit): a connection answered 503 with
// `connection: close` counts as shed, one the server closes or resets before answering as closed;
// once every one of COUNT has an outcome it prints "open <n> shed <n> closed <n>" and holds the
// open ones (exits 1 only if an open one is closed later).
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <deque>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "test/tools/listen_address.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr std::string_view kRequest = "GET / HTTP/1.1\r\nHost: bench.example.com\r\n\r\n";
// Connections being opened at once: enough to be quick, few enough not to overflow the server's
// listen backlog (an overflow costs a 1 s SYN retransmit).
constexpr std::size_t kParallelOpens = 128;

struct Clients {
  tcp::endpoint server;
  std::size_t count = 0;
  std::size_t started = 0;
  std::size_t open = 0;
  bool countShed = false;
  std::size_t shed = 0;
  std::size_t closed = 0;
  bool failed = false;
  // A deque: sockets never move once held (a pending read refers to them).
  std::deque<tcp::socket> held;
  char sink[1];  // the held sockets' watch reads land here; the bytes are never looked at
};

auto withError(beast::error_code& ec) {
  return net::redirect_error(net::use_awaitable, ec);
}

void fail(Clients& clients, const std::string& what, net::io_context& io) {
  if (!clients.failed) {
    std::fprintf(stderr, "meshgate-idle-clients: %s (%zu of %zu open)\n", what.c_str(),
                 clients.open, clients.count);
  }
  clients.failed = true;
  io.stop();
}

// Any completion of a read on an idle connection means the server closed it (or sent bytes it
// should not have): the measurement would no longer hold COUNT connections.
void watch(tcp::socket& socket, Clients& clients, net::io_context& io) {
  socket.async_read_some(net::buffer(clients.sink),
                         [&clients, &io](const beast::error_code& ec, std::size_t) {
                           if (ec == net::error::operation_aborted) return;
                           fail(clients, "server closed an idle connection", io);
                         });
}

// --count-shed: every connection has an outcome.
void reportOutcomes(Clients& clients) {
  if (clients.open + clients.shed + clients.closed != clients.count) return;
  std::printf("open %zu shed %zu closed %zu\n", clients.open, clients.shed, clients.closed);
  std::fflush(stdout);
}

net::awaitable<void> opener(Clients& clients, net::io_context& io) {
  while (clients.started < clients.count && !clients.failed) {
    ++clients.started;
    beast::error_code ec;
    tcp::socket socket(io);
    co_await socket.async_connect(clients.server, withError(ec));
    if (ec) co_return fail(clients, "connect: " + ec.message(), io);
    socket.set_option(tcp::no_delay(true), ec);
    co_await net::async_write(socket, net::buffer(kRequest), withError(ec));
    if (clients.countShed && ec) {
      ++clients.closed;
      reportOutcomes(clients);
      continue;
    }
    if (ec) co_return fail(clients, "write: " + ec.message(), io);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    co_await http::async_read(socket, buffer, parser, withError(ec));
    if (clients.countShed && ec) {
      ++clients.closed;
      reportOutcomes(clients);
      continue;
    }
    if (ec) co_return fail(clients, "read: " + ec.message(), io);
    if (clients.countShed && parser.get().result_int() == 503 && !parser.get().keep_alive()) {
      ++clients.shed;
      reportOutcomes(clients);
      continue;
    }
    if (!parser.get().keep_alive()) co_return fail(clients, "server did not keep alive", io);
    watch(clients.held.emplace_back(std::move(socket)), clients, io);
    ++clients.open;
    if (clients.countShed) {
      reportOutcomes(clients);
    } else if (clients.open == clients.count) {
      std::printf("open %zu\n", clients.open);
      std::fflush(stdout);
    }
  }
}

// Descriptors: one per connection plus a few; raise the soft limit as far as the hard one.
void raiseFileLimit(std::size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    std::fprintf(stderr, "meshgate-idle-clients: RLIMIT_NOFILE %llu < %zu needed\n",
                 static_cast<unsigned long long>(limit.rlim_cur), wanted);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"meshgate-idle-clients: hold COUNT idle keep-alive connections"};
  std::string connect;
  // Declared first so it outlives the sockets in clients.held.
  net::io_context io(1);
  Clients clients;
  clients.count = 10000;
  unsigned hold_seconds = 0;
  app.add_option("--connect", connect, "server address:port")->required();
  app.add_option("--count", clients.count, "connections to open")->check(CLI::Range(1, 1000000));
  app.add_option("--hold-seconds", hold_seconds, "exit after this long (0: hold until killed)");
  app.add_flag("--count-shed", clients.countShed,
               "count connections answered 503 + close (shed) or closed unanswered, not failures");
  CLI11_PARSE(app, argc, argv);

  auto server = meshgate::testtools::parseListenAddress(connect);
  if (!server) {
    std::fprintf(stderr, "meshgate-idle-clients: bad --connect %s\n", connect.c_str());
    return 2;
  }
  clients.server = *server;
  raiseFileLimit(clients.count + 16);
  std::signal(SIGPIPE, SIG_IGN);

  net::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&io](const beast::error_code&, int) { io.stop(); });
  net::steady_timer hold(io);
  if (hold_seconds > 0) {
    hold.expires_after(std::chrono::seconds(hold_seconds));
    hold.async_wait([&io](const beast::error_code& ec) {
      if (!ec) io.stop();
    });
  }
  for (std::size_t i = 0; i < std::min(kParallelOpens, clients.count); ++i) {
    net::co_spawn(io, opener(clients, io), net::detached);
  }
  io.run();
  return clients.failed ? 1 : 0;
}
