// meshgate-stream-load: N light simulated gateways on the operator's config stream
// (docs/CONFIG_STREAM.md). Each connection is a WebSocket over mutual TLS that sends a Hello in
// gateway mode and ACKs every Snapshot or Delta at once, without decoding its config:
// bench/propagation uses it to measure how long the operator takes to fan a change out to many
// proxies.
//   meshgate-stream-load --control-plane https://localhost:PORT --cert-dir DIR --connections N
//                        --ingress-class CLASS [--threads 1] [--duration SECONDS] [--mark PREFIX]
// stdout, flushed per line:
//   connected <N>                        once every connection has sent its Hello
//   version <v> first_ms <t> last_ms <t> bytes <n> mark <m>
//                                        once every live connection has received version v
//                                        (t: epoch ms of the first / last complete receipt;
//                                        m: with --mark PREFIX, the frame's first "PREFIX…" up
//                                        to the next quote, or "none"; "-" without --mark)
// Errors go to stderr and are counted; exits 1 if any connection failed, after --duration
// seconds (0: never) or SIGTERM/SIGINT.
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "api/config_stream_protocol.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace stream = meshgate::api::stream;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
// Connections in their TCP + TLS + upgrade at once: enough to be quick, few enough not to
// overflow the operator's listen backlog or make it miss the 10 s handshake deadline.
constexpr int kParallelOpens = 32;
// The version is read from the frame's head: {"type":"Snapshot","version":"<16 hex digits>",…
constexpr std::size_t kHeadBytes = 256;
// Each connection's read chunk; the rest of a frame is read through it and dropped.
constexpr std::size_t kChunkBytes = 16 * 1024;

using WebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

std::int64_t epochMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Target {
  std::string host;
  std::string port = std::to_string(stream::kDefaultPort);
  bool hostIsIp = false;
};

std::optional<Target> parseControlPlane(std::string_view url) {
  constexpr std::string_view scheme = "https://";
  if (!url.starts_with(scheme)) return std::nullopt;
  std::string_view rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  Target target;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    target.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return std::nullopt;
    if (!rest.empty()) target.port = std::string(rest.substr(1));
  } else {
    const auto colon = rest.rfind(':');
    target.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) target.port = std::string(rest.substr(colon + 1));
  }
  if (target.host.empty() || target.port.empty() ||
      target.port.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  error_code ec;
  net::ip::make_address(target.host, ec);
  target.hostIsIp = !ec;
  return target;
}

// Which connection received which version when; shared by every connection, under its mutex.
class Receipts {
 public:
  explicit Receipts(std::size_t connections) : live_(connections), total_(connections) {}

  void connected() {
    std::lock_guard lock(mutex_);
    if (++connected_ == total_) print("connected %zu\n", total_);
  }

  // True for the first connection to see `version`: that one scans the frame for --mark.
  bool claimScan(const std::string& version) {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = versions_.try_emplace(version);
    if (inserted) order_.push_back(version);
    return std::exchange(it->second.claimed, true) == false;
  }

  void received(const std::string& version, std::int64_t atMs, std::size_t bytes,
                const std::string& mark) {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = versions_.try_emplace(version);
    if (inserted) order_.push_back(version);
    if (it->second.count == 0) it->second.firstMs = atMs;
    it->second.bytes = bytes;
    if (!mark.empty()) it->second.mark = mark;
    ++it->second.count;
    it->second.lastMs = atMs;
    reportComplete();
  }

  void failed(const std::string& what) {
    std::lock_guard lock(mutex_);
    std::fprintf(stderr, "meshgate-stream-load: %s\n", what.c_str());
    ++failures_;
    if (live_ > 0) --live_;
    reportComplete();
  }

  std::size_t failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
  }

 private:
  struct Version {
    std::size_t count = 0;
    std::int64_t firstMs = 0;
    std::int64_t lastMs = 0;
    std::size_t bytes = 0;
    bool claimed = false;
    std::string mark = "-";
  };

  template <typename... Args>
  static void print(const char* format, Args... args) {
    std::printf(format, args...);
    std::fflush(stdout);
  }

  // A version every live connection has is reported; the versions first seen before it are
  // forgotten: a session sends only its newest snapshot, so no connection can still get them.
  void reportComplete() {
    for (std::size_t i = 0; i < order_.size(); ++i) {
      const auto it = versions_.find(order_[i]);
      if (live_ == 0 || it->second.count < live_) continue;
      print("version %s first_ms %lld last_ms %lld bytes %zu mark %s\n", it->first.c_str(),
            static_cast<long long>(it->second.firstMs), static_cast<long long>(it->second.lastMs),
            it->second.bytes, it->second.mark.c_str());
      for (std::size_t j = 0; j <= i; ++j)
        versions_.erase(order_[j]);
      order_.erase(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      i = static_cast<std::size_t>(-1);
    }
  }

  mutable std::mutex mutex_;
  std::map<std::string, Version> versions_;
  std::deque<std::string> order_;  // versions_ by first receipt
  std::size_t live_;
  std::size_t total_;
  std::size_t connected_ = 0;
  std::size_t failures_ = 0;
};

struct Shared {
  Target target;
  tcp::resolver::results_type addresses;
  net::ssl::context* tls = nullptr;
  std::string ingressClass;
  std::string markPrefix;
  Receipts* receipts = nullptr;
  std::atomic<int> opening{0};
  std::atomic<bool> stopping{false};
};

// The version in a Snapshot or Delta frame's head, without parsing the rest; empty if not there.
std::string versionOf(std::string_view head) {
  return std::string(stream::frameVersion(head));
}

std::string tlsFailure(SSL* ssl, const error_code& ec) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    return "TLS handshake: server certificate refused: " +
           std::string(X509_verify_cert_error_string(verify));
  return "TLS handshake: " + ec.message();
}

// One simulated gateway, on its own strand. Returns an error, or empty when stopped.
net::awaitable<std::string> simulate(Shared& shared, std::size_t index) {
  const auto executor = co_await net::this_coro::executor;
  const std::string node = "sim~" + std::to_string(index);
  WebSocket ws(executor, *shared.tls);
  auto& tcpStream = beast::get_lowest_layer(ws);

  struct Opening {
    std::atomic<int>& count;
    bool held = true;
    void release() {
      if (held) --count;
      held = false;
    }
    ~Opening() { release(); }
  } opening{shared.opening};

  tcpStream.expires_after(kHandshakeTimeout);
  if (auto [ec, endpoint] = co_await tcpStream.async_connect(shared.addresses, kNoThrow); ec)
    co_return node + ": connect: " + ec.message();

  SSL* ssl = ws.next_layer().native_handle();
  const auto& host = shared.target.host;
  if (!shared.target.hostIsIp && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1)
    co_return node + ": cannot set SNI " + host;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  const int set = shared.target.hostIsIp ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                         : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (set != 1) co_return node + ": cannot verify the server as " + host;
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  if (auto [ec] = co_await ws.next_layer().async_handshake(net::ssl::stream_base::client, kNoThrow);
      ec)
    co_return node + ": " + tlsFailure(ssl, ec);

  tcpStream.expires_never();
  ws.set_option(websocket::stream_base::timeout{
      .handshake_timeout = kHandshakeTimeout,
      .idle_timeout = std::chrono::seconds(30),
      .keep_alive_pings = true,
  });
  ws.read_message_max(stream::kMaxFrameBytes);
  const bool bracket = host.find(':') != std::string::npos;
  const std::string authority =
      (bracket ? "[" + host + "]" : host) + ":" + std::string(shared.target.port);
  websocket::response_type upgrade;
  if (auto [ec] =
          co_await ws.async_handshake(upgrade, authority, std::string(stream::kPath), kNoThrow);
      ec) {
    std::string why = node + ": WebSocket handshake: " + ec.message();
    if (ec == websocket::error::upgrade_declined)
      why += " (HTTP " + std::to_string(upgrade.result_int()) + ")";
    co_return why;
  }
  ws.text(true);
  stream::Hello hello{.node = node,
                      .mode = std::string(stream::kModeGateway),
                      .ingressClass = shared.ingressClass,
                      .version = "",
                      .proxyVersion = "stream-load"};
  const std::string helloFrame = stream::encode(stream::ClientMessage(hello));
  if (auto [ec, n] = co_await ws.async_write(net::buffer(helloFrame), kNoThrow); ec)
    co_return node + ": send Hello: " + ec.message();
  opening.release();
  shared.receipts->connected();

  // A small chunk per connection: a fan-out of a 10 MiB snapshot to 1,000 connections must not
  // hold 1,000 copies of it here.
  std::array<char, kChunkBytes> chunk;
  std::string head;
  std::string window;  // the frame's last bytes and the current chunk, while scanning for --mark
  const std::string& prefix = shared.markPrefix;
  for (;;) {
    head.clear();
    std::size_t bytes = 0;
    bool decided = false;
    bool scan = false;
    std::string mark;
    do {
      auto [ec, n] = co_await ws.async_read_some(net::buffer(chunk), kNoThrow);
      if (ec) {
        if (shared.stopping) co_return std::string();
        if (ec == websocket::error::closed)
          co_return node + ": closed by the operator (code " + std::to_string(ws.reason().code) +
              ")";
        co_return node + ": read: " + ec.message();
      }
      if (head.size() < kHeadBytes)
        head.append(chunk.data(), std::min(n, kHeadBytes - head.size()));
      bytes += n;
      if (!decided && head.size() >= kHeadBytes) {
        decided = true;
        const std::string seen = versionOf(head);
        scan = !prefix.empty() && !seen.empty() && shared.receipts->claimScan(seen);
        window.clear();
      }
      if (scan && mark.empty()) {
        // The first "<prefix>…" up to the next quote, across chunk boundaries.
        window.append(chunk.data(), n);
        const auto at = window.find(prefix);
        const auto end = at == std::string::npos ? at : window.find('"', at + prefix.size());
        if (end != std::string::npos) {
          mark = window.substr(at, end - at);
          window.clear();
        } else if (at != std::string::npos) {
          window.erase(0, at);
        } else if (window.size() > prefix.size()) {
          window.erase(0, window.size() - prefix.size());
        }
      }
    } while (!ws.is_message_done());
    if (!decided && !prefix.empty()) {
      // A frame shorter than its head: the head is the whole frame.
      const std::string seen = versionOf(head);
      if (!seen.empty() && shared.receipts->claimScan(seen)) {
        scan = true;
        const auto at = head.find(prefix);
        const auto end = at == std::string::npos ? at : head.find('"', at + prefix.size());
        if (end != std::string::npos) mark = head.substr(at, end - at);
      }
    }
    if (scan && mark.empty()) mark = "none";
    const auto receivedMs = epochMs();
    std::string version = versionOf(head);
    if (version.empty())
      co_return node + ": protocol error: not a Snapshot or Delta frame: " + head.substr(0, 80);
    const std::string ack = stream::encode(stream::ClientMessage(stream::Ack{version}));
    shared.receipts->received(version, receivedMs, bytes, mark);
    if (auto [ec, n] = co_await ws.async_write(net::buffer(ack), kNoThrow); ec) {
      if (shared.stopping) co_return std::string();
      co_return node + ": send Ack: " + ec.message();
    }
  }
}

// Starts the connections, at most kParallelOpens in their handshakes at once.
net::awaitable<void> launch(Shared& shared, net::io_context& io, std::size_t connections) {
  net::steady_timer pause(co_await net::this_coro::executor);
  for (std::size_t i = 0; i < connections && !shared.stopping; ++i) {
    while (shared.opening.load() >= kParallelOpens) {
      pause.expires_after(std::chrono::milliseconds(2));
      co_await pause.async_wait(kNoThrow);
    }
    ++shared.opening;
    net::co_spawn(net::make_strand(io), simulate(shared, i),
                  [&shared](const std::exception_ptr& e, std::string error) {
                    if (e) {
                      try {
                        std::rethrow_exception(e);
                      } catch (const std::exception& what) {
                        error = what.what();
                      }
                    }
                    if (!error.empty()) shared.receipts->failed(error);
                  });
  }
}

void raiseFileLimit(std::size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted)
    std::fprintf(stderr, "meshgate-stream-load: RLIMIT_NOFILE %llu < %zu needed\n",
                 static_cast<unsigned long long>(limit.rlim_cur), wanted);
}

std::unique_ptr<net::ssl::context> loadTls(const std::string& dir, std::string& error) {
  auto tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
  error_code ec;
  tls->load_verify_file(dir + "/ca.crt", ec);
  if (ec) return error = dir + "/ca.crt: " + ec.message(), nullptr;
  tls->use_certificate_chain_file(dir + "/tls.crt", ec);
  if (ec) return error = dir + "/tls.crt: " + ec.message(), nullptr;
  tls->use_private_key_file(dir + "/tls.key", net::ssl::context::pem, ec);
  if (ec) return error = dir + "/tls.key: " + ec.message(), nullptr;
  return tls;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"meshgate-stream-load: N simulated gateways that ACK every config snapshot"};
  std::string controlPlane;
  std::string certDir;
  std::size_t connections = 100;
  std::string ingressClass = "meshgate";
  unsigned threads = 1;
  unsigned duration = 0;
  std::string markPrefix;
  app.add_option("--control-plane", controlPlane, "https://HOST:PORT of the config stream")
      ->required();
  app.add_option("--cert-dir", certDir, "directory with tls.crt, tls.key and ca.crt")->required();
  app.add_option("--connections", connections, "simulated gateways")->check(CLI::Range(1, 100000));
  app.add_option("--ingress-class", ingressClass, "the Hello's ingressClass");
  app.add_option("--threads", threads, "threads running the io_context")->check(CLI::Range(1, 64));
  app.add_option("--mark", markPrefix,
                 "print, per version, the text from the first occurrence of this prefix up to "
                 "the next quote (one connection scans each version)");
  app.add_option("--duration", duration, "exit after this many seconds (0: until SIGTERM)");
  CLI11_PARSE(app, argc, argv);

  const auto target = parseControlPlane(controlPlane);
  if (!target) {
    std::fprintf(stderr, "meshgate-stream-load: --control-plane %s: want https://HOST:PORT\n",
                 controlPlane.c_str());
    return 2;
  }
  std::string error;
  auto tls = loadTls(certDir, error);
  if (!tls) {
    std::fprintf(stderr, "meshgate-stream-load: %s\n", error.c_str());
    return 2;
  }
  raiseFileLimit(connections + 32);
  std::signal(SIGPIPE, SIG_IGN);

  // Before the io_context: the coroutine frames it destroys at exit still refer to them.
  Receipts receipts(connections);
  Shared shared;
  net::io_context io(static_cast<int>(threads));
  shared.target = *target;
  shared.tls = tls.get();
  shared.ingressClass = ingressClass;
  shared.markPrefix = markPrefix;
  shared.receipts = &receipts;
  {
    tcp::resolver resolver(io);
    error_code ec;
    shared.addresses = resolver.resolve(target->host, target->port, ec);
    if (ec) {
      std::fprintf(stderr, "meshgate-stream-load: resolve %s: %s\n", target->host.c_str(),
                   ec.message().c_str());
      return 2;
    }
  }

  const auto stop = [&shared, &io] {
    shared.stopping = true;
    io.stop();
  };
  net::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&stop](const error_code& ec, int) {
    if (!ec) stop();
  });
  net::steady_timer deadline(io);
  if (duration > 0) {
    deadline.expires_after(std::chrono::seconds(duration));
    deadline.async_wait([&stop](const error_code& ec) {
      if (!ec) stop();
    });
  }
  net::co_spawn(net::make_strand(io), launch(shared, io, connections), net::detached);

  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i)
    workers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& worker : workers)
    worker.join();
  return receipts.failures() > 0 ? 1 : 0;
}
