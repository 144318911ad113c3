// meshgate-open-loop: an open-loop (wrk2-style) HTTP/1.1 load generator. Request i is due at
// t0 + i/RATE and goes out on keep-alive connection i % CONNECTIONS once that connection's previous
// response is complete and the due time has come (no pipelining). Latency runs from the due time,
// not from the send, so a stall counts against every request scheduled during it (no coordinated
// omission). bench/proxy/run.sh uses it for latency at a fixed rate. One thread and one
// io_context, so `taskset -c N` pins all of it.
//   meshgate-open-loop --target 127.0.0.1:PORT --rate 10000 [--duration 10] [--warmup 0]
//                      [--connections 32] [--timeout 2] [--host-header HOST] [--path /] [--json]
// The schedule spans WARMUP + DURATION seconds; requests due in the warm-up are sent but not
// counted. After the last due time the run drains for at most --timeout, then prints one line of
// key=value (or, with --json, one JSON object) about the requests due after the warm-up:
//   scheduled   due in the measured window; sent: of them, sent
//   completed   answered in full (any status); each one's latency is recorded
//   errors      sent but not answered in full (reset, bad response, timeout) + non-2xx/3xx answers
//   timeouts    of errors: no full answer within --timeout of the send (the connection is then
//               reopened), or still unanswered when the drain ends
//   non2xx      of errors: answers with a status outside 2xx/3xx
//   unsent      due but never sent: the connection was still behind when the drain ended
//   reconnects  connections reopened (closed by the server, an error, a timeout), warm-up included
//   connect_errors  failed connects (retried every 10 ms), warm-up included
//   achieved_rate   completed / DURATION
//   p50_us p90_us p99_us p999_us max_us mean_us  latency from the due time, exact (nearest rank
//               over every recorded latency)
// A failed or timed-out request is not retried. The first few errors go to stderr. Exits 1 if
// nothing completed, 2 on bad flags; SIGINT/SIGTERM end the run early and report what it has.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>

#include "dataplane/http/chunked_decoder.h"
#include "dataplane/http/http1_parser.h"
#include "test/tools/listen_address.h"

namespace {

namespace net = boost::asio;
namespace http = meshgate::dp::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Nanos = std::chrono::nanoseconds;

// Each connection's first read buffer; it doubles (up to the parser's head limit) only for a
// response head that does not fit. Body bytes are dropped as they arrive.
constexpr std::size_t kReadBytes = 16 * 1024;
// Pause before retrying a failed connect, so a refusing server is not hammered in a tight loop.
constexpr auto kConnectRetry = std::chrono::milliseconds(10);
// One timer checks every outstanding request against --timeout at this period, rather than a
// timer re-armed per request (which would cost the generator a timerfd update per request).
constexpr auto kWatchdogPeriod = std::chrono::milliseconds(20);
// Errors printed to stderr before the rest are only counted.
constexpr int kLoggedErrors = 10;
// Latencies are kept one by one; this bounds the vector (8 bytes each).
constexpr double kMaxScheduled = 50e6;

struct Options {
  std::string target;
  std::string hostHeader;
  std::string path = "/";
  double rate = 0;
  double duration = 10;
  double warmup = 0;
  double timeout = 2;
  std::size_t connections = 32;
  bool json = false;
};

struct Counters {
  std::uint64_t sent = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;  // sent, no full answer (timeouts included)
  std::uint64_t timeouts = 0;
  std::uint64_t non2xx = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t connectErrors = 0;
};

class Connection;

// What every connection shares: the schedule, the request bytes, the counters and latencies.
// Everything runs on the one io_context thread.
class Run {
 public:
  Run(net::io_context& io, const Options& options, tcp::endpoint server);

  void start();
  // Ends the run: at its drain deadline, once every connection is done, or on a signal.
  void finish();
  void interrupt() {
    interruptedAt_ = Clock::now();
    finish();
  }

  Clock::time_point dueOf(std::uint64_t index) const {
    return t0_ + Nanos(static_cast<std::int64_t>(static_cast<double>(index) * 1e9 / rate_));
  }
  bool measured(std::uint64_t index) const { return index >= firstMeasured_; }
  void record(Nanos latency) { latencies_.push_back(latency.count()); }
  void connectionDone();
  void logError(std::size_t connection, const char* what, const std::string& why);

  net::io_context& io() { return io_; }
  const tcp::endpoint& server() const { return server_; }
  const std::string& request() const { return request_; }
  std::uint64_t total() const { return total_; }
  std::size_t stride() const { return stride_; }
  Nanos timeout() const { return timeout_; }
  bool finishing() const { return finishing_; }
  Counters& counters() { return counters_; }

  // Prints the report; returns the exit status.
  int report(const Options& options);

 private:
  void watch();

  net::io_context& io_;
  tcp::endpoint server_;
  std::string request_;
  double rate_;
  Nanos timeout_;
  std::size_t stride_;
  std::uint64_t firstMeasured_;
  std::uint64_t total_;
  Clock::time_point t0_;
  Clock::time_point drainDeadline_;
  Clock::time_point interruptedAt_ = Clock::time_point::max();
  net::steady_timer watchdog_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::size_t done_ = 0;
  bool finishing_ = false;
  int logged_ = 0;
  Counters counters_;
  std::vector<std::int64_t> latencies_;  // ns, of completed measured requests
};

// One keep-alive connection: requests index, index + stride, index + 2*stride, … in turn. A
// response is read as it arrives (a read is always pending while connected, so a server's close
// between requests is seen at once); the next request goes out when it is complete and due.
// Handlers carry the epoch they were started in: a reconnect bumps it, so late completions of the
// old socket's operations are ignored.
class Connection {
 public:
  Connection(Run& run, std::size_t id)
      : run_(run), id_(id), next_(id), socket_(run.io()), timer_(run.io()), buffer_(kReadBytes) {}

  void start() { scheduleNext(); }

  // The watchdog: an outstanding request past --timeout fails and the connection is reopened.
  void checkTimeout(Clock::time_point now) {
    if (!outstanding_ || now - sentAt_ < run_.timeout()) return;
    countFailure(/*timedOut=*/true);
    run_.logError(id_, "timeout", "no full response within --timeout");
    reopen();
  }

  // The run is over: a request still outstanding counts as timed out.
  void stop() {
    if (outstanding_) countFailure(/*timedOut=*/true);
    outstanding_ = false;
    ++epoch_;
    error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
  }

 private:
  void scheduleNext() {
    if (run_.finishing()) return;
    if (next_ >= run_.total()) {
      if (!done_) {
        done_ = true;
        run_.connectionDone();
      }
      return;
    }
    if (!connected_) {
      if (!connecting_) connect();
      return;
    }
    due_ = run_.dueOf(next_);
    if (due_ <= Clock::now()) return send();
    timer_.expires_at(due_);
    timer_.async_wait([this, epoch = epoch_](const error_code& ec) {
      if (ec || epoch != epoch_) return;
      send();
    });
  }

  void connect() {
    connecting_ = true;
    socket_.async_connect(run_.server(), [this, epoch = epoch_](const error_code& ec) {
      if (epoch != epoch_) return;
      if (ec) {
        ++run_.counters().connectErrors;
        run_.logError(id_, "connect", ec.message());
        error_code ignored;
        socket_.close(ignored);
        timer_.expires_after(kConnectRetry);
        timer_.async_wait([this, epoch](const error_code& waited) {
          if (waited || epoch != epoch_) return;
          connect();
        });
        return;
      }
      connecting_ = false;
      connected_ = true;
      error_code ignored;
      socket_.set_option(tcp::no_delay(true), ignored);
      read();
      scheduleNext();
    });
  }

  void send() {
    outstanding_ = true;
    measured_ = run_.measured(next_);
    sentAt_ = Clock::now();
    headDone_ = false;
    if (measured_) ++run_.counters().sent;
    net::async_write(socket_, net::buffer(run_.request()),
                     [this, epoch = epoch_](const error_code& ec, std::size_t) {
                       if (epoch != epoch_ || !ec) return;
                       fail("write", ec.message());
                     });
  }

  // One read is always pending while connected, so a close between requests is seen at once.
  // (Asio tries each new read at once — an EAGAIN right after a response; a wait_read instead
  // costs an epoll_ctl to re-arm, so nothing is saved that way.)
  void read() {
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    socket_.async_read_some(net::buffer(buffer_.data() + end_, buffer_.size() - end_),
                            [this, epoch = epoch_](const error_code& ec, std::size_t n) {
                              if (epoch != epoch_) return;
                              if (ec) return readFailed(ec);
                              end_ += n;
                              if (!outstanding_)
                                return fail("read", "bytes from the server with no request out");
                              parse();
                              if (epoch == epoch_) read();
                            });
  }

  void readFailed(const error_code& ec) {
    if (ec == net::error::eof && outstanding_ && headDone_ &&
        framing_ == http::BodyFraming::UntilClose) {
      return complete();  // that framing ends with the close; complete() reopens
    }
    if (ec == net::error::eof && !outstanding_) return reopen();  // closed between requests
    fail("read", ec == net::error::eof ? "closed by the server mid-response" : ec.message());
  }

  // Consumes what the buffer holds of the response; completes it or fails when it can tell.
  void parse() {
    while (!headDone_) {
      const auto status =
          http::parseResponseHead(std::string_view(buffer_.data(), end_), "GET", limits_, head_);
      // The parser reports HeadTooLarge once the buffer passes the limit, so read() grows the
      // buffer at most once beyond it.
      if (status == http::ParseStatus::NeedMore) return;
      if (status != http::ParseStatus::Complete)
        return fail("read", "bad response head: " + std::string(http::describe(status)));
      drop(head_.headBytes);
      if (head_.status >= 100 && head_.status < 200 && head_.status != 101) continue;  // interim
      if (head_.status == 101) return fail("read", "unexpected 101 Switching Protocols");
      headDone_ = true;
      status_ = head_.status;
      keepAlive_ = head_.keepAlive;
      framing_ = head_.framing;
      bodyLeft_ = head_.contentLength;
      chunked_.reset();
    }
    switch (framing_) {
      case http::BodyFraming::None:
        return complete();
      case http::BodyFraming::ContentLength: {
        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(bodyLeft_, end_));
        bodyLeft_ -= take;
        drop(take);
        if (bodyLeft_ == 0) complete();
        return;
      }
      case http::BodyFraming::Chunked: {
        const auto result = chunked_.consume(std::string_view(buffer_.data(), end_));
        if (result.status == http::ChunkedDecoder::Status::Error)
          return fail("read", "bad chunked body: " + std::string(chunked_.error()));
        drop(result.consumed);
        if (result.status == http::ChunkedDecoder::Status::Done) complete();
        return;
      }
      case http::BodyFraming::UntilClose:
        end_ = 0;
        return;
    }
  }

  void drop(std::size_t bytes) {
    std::memmove(buffer_.data(), buffer_.data() + bytes, end_ - bytes);
    end_ -= bytes;
  }

  void complete() {
    if (measured_) {
      auto& counters = run_.counters();
      ++counters.completed;
      if (status_ < 200 || status_ >= 400) ++counters.non2xx;
      run_.record(Clock::now() - due_);
    }
    outstanding_ = false;
    next_ += run_.stride();
    if (end_ != 0) return fail("read", "bytes after the response with no request out");
    if (!keepAlive_) return reopen();
    scheduleNext();
  }

  void countFailure(bool timedOut) {
    if (!outstanding_ || !measured_) return;
    auto& counters = run_.counters();
    ++counters.failed;
    if (timedOut) ++counters.timeouts;
  }

  // An error on the connection: the outstanding request (if any) fails and is not retried.
  void fail(const char* what, const std::string& why) {
    countFailure(/*timedOut=*/false);
    run_.logError(id_, what, why);
    reopen();
  }

  // Closes the socket and opens a new one (the next request waits for it).
  void reopen() {
    if (outstanding_) next_ += run_.stride();  // a failed or timed-out request is not retried
    ++epoch_;
    outstanding_ = false;
    connected_ = false;
    connecting_ = false;
    end_ = 0;
    error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
    if (run_.finishing()) return;
    ++run_.counters().reconnects;
    scheduleNext();
  }

  Run& run_;
  const std::size_t id_;
  std::uint64_t next_;  // the index of the request this connection sends next (or has out)
  std::uint64_t epoch_ = 0;
  tcp::socket socket_;
  net::steady_timer timer_;  // due times and connect retries
  bool connected_ = false;
  bool connecting_ = false;
  bool done_ = false;
  bool outstanding_ = false;
  bool measured_ = false;
  Clock::time_point due_;
  Clock::time_point sentAt_;

  std::vector<char> buffer_;
  std::size_t end_ = 0;
  http::Limits limits_;
  http::ResponseHead head_;  // reused: the parser keeps its header vector's capacity
  bool headDone_ = false;
  unsigned status_ = 0;
  bool keepAlive_ = true;
  http::BodyFraming framing_ = http::BodyFraming::None;
  std::uint64_t bodyLeft_ = 0;
  http::ChunkedDecoder chunked_;
};

Run::Run(net::io_context& io, const Options& options, tcp::endpoint server)
    : io_(io),
      server_(std::move(server)),
      request_("GET " + options.path + " HTTP/1.1\r\nHost: " + options.hostHeader + "\r\n\r\n"),
      rate_(options.rate),
      timeout_(std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(options.timeout))),
      stride_(options.connections),
      firstMeasured_(static_cast<std::uint64_t>(std::llround(options.warmup * options.rate))),
      total_(firstMeasured_ +
             static_cast<std::uint64_t>(std::llround(options.duration * options.rate))),
      watchdog_(io) {
  latencies_.reserve(total_ - firstMeasured_);
  for (std::size_t i = 0; i < options.connections; ++i)
    connections_.push_back(std::make_unique<Connection>(*this, i));
}

void Run::start() {
  t0_ = Clock::now();
  drainDeadline_ = dueOf(total_) + timeout_;
  for (auto& connection : connections_)
    connection->start();
  watch();
}

void Run::watch() {
  watchdog_.expires_after(kWatchdogPeriod);
  watchdog_.async_wait([this](const error_code& ec) {
    if (ec || finishing_) return;
    const auto now = Clock::now();
    if (now >= drainDeadline_) return finish();
    for (auto& connection : connections_)
      connection->checkTimeout(now);
    watch();
  });
}

void Run::connectionDone() {
  if (++done_ == connections_.size()) finish();
}

void Run::finish() {
  if (finishing_) return;
  finishing_ = true;
  for (auto& connection : connections_)
    connection->stop();
  watchdog_.cancel();
  io_.stop();
}

void Run::logError(std::size_t connection, const char* what, const std::string& why) {
  if (logged_ >= kLoggedErrors) return;
  std::fprintf(stderr, "meshgate-open-loop: connection %zu: %s: %s%s\n", connection, what,
               why.c_str(), ++logged_ == kLoggedErrors ? " (further errors only counted)" : "");
}

int Run::report(const Options& options) {
  // The measured window is cut short only by a signal.
  const auto windowEnd = std::min(dueOf(total_), interruptedAt_);
  const double window =
      std::max(0.0, std::chrono::duration<double>(windowEnd - dueOf(firstMeasured_)).count());
  const std::uint64_t scheduled = total_ - firstMeasured_;
  std::sort(latencies_.begin(), latencies_.end());
  const auto percentile = [this](double q) {
    if (latencies_.empty()) return 0.0;
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(latencies_.size())));
    rank = std::clamp<std::size_t>(rank, 1, latencies_.size());
    return static_cast<double>(latencies_[rank - 1]) / 1e3;
  };
  double sum = 0;
  for (const auto latency : latencies_)
    sum += static_cast<double>(latency);
  const double mean = latencies_.empty() ? 0.0 : sum / static_cast<double>(latencies_.size()) / 1e3;
  const auto& c = counters_;
  const std::uint64_t errors = c.failed + c.non2xx;
  const std::uint64_t unsent = scheduled - std::min(scheduled, c.sent);
  const double achieved = window > 0 ? static_cast<double>(c.completed) / window : 0.0;
  const char* format =
      options.json
          ? "{\"target\":\"%s\",\"rate\":%.1f,\"duration_s\":%.3f,\"connections\":%zu,"
            "\"scheduled\":%llu,\"sent\":%llu,\"completed\":%llu,\"errors\":%llu,"
            "\"timeouts\":%llu,\"non2xx\":%llu,\"unsent\":%llu,\"reconnects\":%llu,"
            "\"connect_errors\":%llu,\"achieved_rate\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
            "\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,\"mean_us\":%.1f}\n"
          : "target=%s rate=%.1f duration_s=%.3f connections=%zu scheduled=%llu sent=%llu "
            "completed=%llu errors=%llu timeouts=%llu non2xx=%llu unsent=%llu reconnects=%llu "
            "connect_errors=%llu achieved_rate=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f "
            "p999_us=%.1f max_us=%.1f mean_us=%.1f\n";
  using ull = unsigned long long;
  std::printf(format, options.target.c_str(), options.rate, window, options.connections,
              static_cast<ull>(scheduled), static_cast<ull>(c.sent), static_cast<ull>(c.completed),
              static_cast<ull>(errors), static_cast<ull>(c.timeouts), static_cast<ull>(c.non2xx),
              static_cast<ull>(unsent), static_cast<ull>(c.reconnects),
              static_cast<ull>(c.connectErrors), achieved, percentile(0.50), percentile(0.90),
              percentile(0.99), percentile(0.999), latencies_.empty() ? 0.0 : percentile(1.0),
              mean);
  std::fflush(stdout);
  return c.completed > 0 ? 0 : 1;
}

void raiseFileLimit(std::size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted &&
      limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, wanted);
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "meshgate-open-loop: open-loop HTTP/1.1 load at a fixed rate, latency from due time"};
  Options options;
  app.add_option("--target", options.target, "server address:port (an IP address)")->required();
  app.add_option("--host-header", options.hostHeader, "Host header (default: the --target)");
  app.add_option("--path", options.path, "request target")->check([](const std::string& path) {
    return path.starts_with('/') && path.find_first_of(" \r\n") == std::string::npos
               ? std::string()
               : std::string("must start with / and hold no space or line break");
  });
  app.add_option("--rate", options.rate, "requests per second, over all connections")
      ->required()
      ->check(CLI::Range(1.0, 10e6));
  app.add_option("--duration", options.duration, "measured seconds, after the warm-up")
      ->check(CLI::Range(0.001, 86400.0));
  app.add_option("--warmup", options.warmup, "seconds of schedule before the measured window")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--connections", options.connections, "keep-alive connections")
      ->check(CLI::Range(1, 100000));
  app.add_option("--timeout", options.timeout, "seconds per request before it counts as an error")
      ->check(CLI::Range(0.001, 3600.0));
  app.add_flag("--json", options.json, "print the report as one JSON object");
  CLI11_PARSE(app, argc, argv);

  auto server = meshgate::testtools::parseListenAddress(options.target);
  if (!server) {
    std::fprintf(stderr, "meshgate-open-loop: bad --target %s (want address:port)\n",
                 options.target.c_str());
    return 2;
  }
  if (options.hostHeader.empty()) options.hostHeader = options.target;
  if (options.hostHeader.find_first_of("\r\n") != std::string::npos) {
    std::fprintf(stderr, "meshgate-open-loop: --host-header holds a line break\n");
    return 2;
  }
  if (options.duration * options.rate > kMaxScheduled) {
    std::fprintf(stderr, "meshgate-open-loop: --rate x --duration above %.0f requests\n",
                 kMaxScheduled);
    return 2;
  }
  raiseFileLimit(options.connections + 16);
  std::signal(SIGPIPE, SIG_IGN);

  // Declared first so it outlives the sockets the run holds.
  net::io_context io(1);
  Run run(io, options, *server);
  net::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&run](const error_code& ec, int) {
    if (!ec) run.interrupt();
  });
  run.start();
  io.run();
  return run.report(options);
}
