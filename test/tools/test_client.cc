// `meshgate-test-backend call`; see test_client.h.
#include "test/tools/test_client.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "base/ascii.h"
#include "test/tools/listen_address.h"

namespace meshgate::testtools {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

// Response heads can be long (the proxy adds headers); bodies of any size are read whole.
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
// Error messages kept (and printed) per run; the rest are only counted.
constexpr std::size_t kKeptErrorMessages = 5;
constexpr std::string_view kUserAgent = "meshgate-test-backend/call";

// Every asynchronous call reports failure through ec: nothing throws out of a handler.
auto withError(error_code& ec) {
  return net::redirect_error(net::use_awaitable, ec);
}

enum class ErrorKind { connect, timeout, reset, other };

struct Failure {
  ErrorKind kind;
  std::string message;
};

bool isTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), isTokenChar);
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

std::string timedOut(const std::string& what, std::uint64_t timeoutMs) {
  return what + ": timed out (--timeout-ms " + std::to_string(timeoutMs) + ")";
}

// --- Resolution ------------------------------------------------------------------------------

struct Resolved {
  std::vector<tcp::endpoint> endpoints;
  std::optional<Failure> failure;
};

// One getaddrinfo on a thread of its own: Asio's resolver runs every lookup on one shared thread
// and cannot abandon a lookup in progress, so it would hold up the other connections and ignore
// the timeout. Here the caller stops waiting at its deadline and a late answer goes nowhere.
struct PendingLookup {
  std::mutex mutex;
  bool finished = false;   // the thread has stored its answer (under mutex)
  bool abandoned = false;  // the caller gave up: the thread must not post (under mutex)
  int status = 0;
  int savedErrno = 0;
  std::vector<tcp::endpoint> endpoints;
  net::steady_timer* waiter = nullptr;  // the caller's timer; io thread only
};

std::vector<tcp::endpoint> toEndpoints(const addrinfo* list) {
  std::vector<tcp::endpoint> endpoints;
  for (const addrinfo* entry = list; entry != nullptr; entry = entry->ai_next) {
    if (entry->ai_family != AF_INET && entry->ai_family != AF_INET6) continue;
    tcp::endpoint endpoint;
    if (entry->ai_addrlen > endpoint.capacity()) continue;
    std::memcpy(endpoint.data(), entry->ai_addr, entry->ai_addrlen);
    endpoint.resize(entry->ai_addrlen);
    if (std::find(endpoints.begin(), endpoints.end(), endpoint) == endpoints.end()) {
      endpoints.push_back(endpoint);
    }
  }
  return endpoints;
}

void lookUp(const std::shared_ptr<PendingLookup>& pending, const net::any_io_executor& executor,
            const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const int status = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &list);
  const int savedErrno = errno;
  std::vector<tcp::endpoint> endpoints;
  if (status == 0) endpoints = toEndpoints(list);
  if (list != nullptr) ::freeaddrinfo(list);
  std::lock_guard lock(pending->mutex);
  pending->finished = true;
  pending->status = status;
  pending->savedErrno = savedErrno;
  pending->endpoints = std::move(endpoints);
  // Not abandoned: the caller is still waiting inside the io_context's run, which is alive.
  if (!pending->abandoned) {
    net::post(executor, [pending] {
      if (pending->waiter != nullptr) pending->waiter->cancel();
    });
  }
}

net::awaitable<Resolved> resolve(const CallUrl& url, Clock::time_point deadline,
                                 std::uint64_t timeoutMs) {
  Resolved resolved;
  const std::string what = "resolve " + url.host;
  unsigned short port = 0;
  std::from_chars(url.port.data(), url.port.data() + url.port.size(), port);
  error_code notAddress;
  const auto address = net::ip::make_address(url.host, notAddress);
  if (!notAddress) {
    resolved.endpoints.emplace_back(address, port);
    co_return resolved;
  }
  auto executor = co_await net::this_coro::executor;
  auto pending = std::make_shared<PendingLookup>();
  net::steady_timer timer(executor, deadline);
  pending->waiter = &timer;
  try {
    std::thread(lookUp, pending, executor, url.host, url.port).detach();
  } catch (const std::system_error& e) {
    resolved.failure = Failure{ErrorKind::other, what + ": cannot start a thread: " + e.what()};
    co_return resolved;
  }
  error_code ec;
  co_await timer.async_wait(withError(ec));  // cancelled by the lookup's post, or the deadline
  pending->waiter = nullptr;
  std::lock_guard lock(pending->mutex);
  if (!pending->finished) {
    pending->abandoned = true;
    resolved.failure = Failure{ErrorKind::timeout, timedOut(what, timeoutMs)};
  } else if (pending->status != 0) {
    const std::string why = pending->status == EAI_SYSTEM ? std::strerror(pending->savedErrno)
                                                          : ::gai_strerror(pending->status);
    resolved.failure = Failure{ErrorKind::connect, what + ": " + why};
  } else if (pending->endpoints.empty()) {
    resolved.failure = Failure{ErrorKind::connect, what + ": no IPv4 or IPv6 address"};
  } else {
    resolved.endpoints = std::move(pending->endpoints);
  }
  co_return resolved;
}

// --- One connection --------------------------------------------------------------------------

// What every connection shares: the request, the schedule and the summary. Everything runs on
// the one io_context thread.
class Run {
 public:
  Run(const CallOptions& options, const CallUrl& url, const CallRequest& request)
      : options_(options),
        url_(url),
        request_(request),
        start_(Clock::now()),
        end_(start_ + std::chrono::nanoseconds(std::llround(options.durationS * 1e9))) {}

  const CallOptions& options() const { return options_; }
  const CallUrl& url() const { return url_; }
  const CallRequest& request() const { return request_; }

  // When the next request is due (now, without --rate); nullopt once the run is over.
  std::optional<Clock::time_point> nextDue() {
    const Clock::time_point now = Clock::now();
    Clock::time_point due = now;
    if (options_.rate > 0) {
      due = start_ + std::chrono::nanoseconds(
                         std::llround(static_cast<double>(issued_) * 1e9 / options_.rate));
    }
    if (options_.durationS > 0) {
      if (due >= end_ || now >= end_) return std::nullopt;
    } else if (issued_ >= options_.count) {
      return std::nullopt;
    }
    ++issued_;
    return due;
  }

  void recordFailure(Failure failure) {
    ++summary_.requests;
    switch (failure.kind) {
      case ErrorKind::connect:
        ++summary_.errors.connect;
        break;
      case ErrorKind::timeout:
        ++summary_.errors.timeout;
        break;
      case ErrorKind::reset:
        ++summary_.errors.reset;
        break;
      case ErrorKind::other:
        ++summary_.errors.other;
        break;
    }
    if (summary_.errorMessages.size() < kKeptErrorMessages) {
      summary_.errorMessages.push_back(std::move(failure.message));
    } else {
      ++summary_.errorsNotKept;
    }
  }

  void recordResponse(CallResponse response, Clock::duration latency) {
    ++summary_.requests;
    ++summary_.statuses[response.result_int()];
    if (auto backend = response.find("x-backend"); backend != response.end()) {
      ++summary_.backends[std::string(backend->value())];
    }
    summary_.latenciesMs.push_back(std::chrono::duration<double, std::milli>(latency).count());
    summary_.lastResponse = std::move(response);
  }

  CallSummary take() { return std::move(summary_); }

 private:
  const CallOptions& options_;
  const CallUrl& url_;
  const CallRequest& request_;
  Clock::time_point start_;
  Clock::time_point end_;
  std::uint64_t issued_ = 0;
  CallSummary summary_;
};

struct Connection {
  std::optional<beast::tcp_stream> stream;  // engaged while a connection is open
  std::string peer;                         // "10.0.0.5:8080" of the open connection
  beast::flat_buffer buffer;

  void close() {
    if (!stream) return;
    error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->socket().close(ignored);
    stream.reset();
    buffer.consume(buffer.size());
  }
};

// Opens connection.stream to the first of endpoints that accepts, by deadline.
net::awaitable<std::optional<Failure>> connect(Connection& connection,
                                               const std::vector<tcp::endpoint>& endpoints,
                                               Clock::time_point deadline,
                                               std::uint64_t timeoutMs) {
  auto executor = co_await net::this_coro::executor;
  std::string refused;
  for (const tcp::endpoint& endpoint : endpoints) {
    const std::string where = formatEndpoint(endpoint);
    connection.stream.emplace(executor);
    connection.stream->expires_at(deadline);
    error_code ec;
    co_await connection.stream->async_connect(endpoint, withError(ec));
    if (!ec) {
      connection.stream->socket().set_option(tcp::no_delay(true), ec);
      connection.peer = where;
      co_return std::nullopt;
    }
    connection.close();
    if (ec == beast::error::timeout) {
      co_return Failure{ErrorKind::timeout, timedOut("connect " + where, timeoutMs)};
    }
    refused += (refused.empty() ? "" : "; ") + ("connect " + where + ": " + ec.message());
  }
  co_return Failure{ErrorKind::connect, refused};
}

Failure transportFailure(const error_code& ec, const std::string& what, std::uint64_t timeoutMs) {
  if (ec == beast::error::timeout) return {ErrorKind::timeout, timedOut(what, timeoutMs)};
  if (ec == http::error::end_of_stream || ec == net::error::eof) {
    return {ErrorKind::reset, what + ": connection closed before a response"};
  }
  if (ec == http::error::partial_message) {
    return {ErrorKind::reset, what + ": connection closed in the middle of the response"};
  }
  if (ec == net::error::connection_reset || ec == net::error::broken_pipe ||
      ec == net::error::connection_aborted) {
    return {ErrorKind::reset, what + ": " + ec.message()};
  }
  return {ErrorKind::other, what + ": " + ec.message()};
}

struct Attempt {
  std::optional<CallResponse> response;
  std::optional<Failure> failure;
  // Failed on a reused connection with nothing of the response read: the server most likely
  // closed the idle connection as the request went out.
  bool stale = false;
};

// One request/response on connection, opening it first if it is not open.
net::awaitable<Attempt> exchange(Connection& connection, Run& run, Clock::time_point deadline) {
  const std::uint64_t timeoutMs = run.options().timeoutMs;
  Attempt attempt;
  const bool reused = connection.stream.has_value();
  if (!reused) {
    Resolved resolved = co_await resolve(run.url(), deadline, timeoutMs);
    if (resolved.failure) {
      attempt.failure = std::move(resolved.failure);
      co_return attempt;
    }
    attempt.failure = co_await connect(connection, resolved.endpoints, deadline, timeoutMs);
    if (attempt.failure) co_return attempt;
  }
  beast::tcp_stream& stream = *connection.stream;
  error_code ec;
  stream.expires_at(deadline);
  co_await http::async_write(stream, run.request(), withError(ec));
  if (ec) {
    attempt.failure = transportFailure(ec, "write to " + connection.peer, timeoutMs);
    attempt.stale = reused && attempt.failure->kind == ErrorKind::reset;
    connection.close();
    co_return attempt;
  }
  http::response_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(boost::none);
  // A response to HEAD has the headers of the GET's and no body.
  if (run.request().method() == http::verb::head) parser.skip(true);
  stream.expires_at(deadline);
  co_await http::async_read(stream, connection.buffer, parser, withError(ec));
  if (ec) {
    attempt.failure = transportFailure(ec, "read from " + connection.peer, timeoutMs);
    attempt.stale = reused && !parser.got_some() && attempt.failure->kind == ErrorKind::reset;
    connection.close();
    co_return attempt;
  }
  stream.expires_never();
  attempt.response = parser.release();
  if (!run.options().keepAlive || !attempt.response->keep_alive()) connection.close();
  co_return attempt;
}

bool retryable(const CallRequest& request) {
  return request.method() == http::verb::get || request.method() == http::verb::head;
}

net::awaitable<void> connectionLoop(Run& run) {
  auto executor = co_await net::this_coro::executor;
  Connection connection;
  net::steady_timer pacer(executor);
  const auto timeout = std::chrono::milliseconds(run.options().timeoutMs);
  while (auto due = run.nextDue()) {
    if (*due > Clock::now()) {
      pacer.expires_at(*due);
      error_code ec;
      co_await pacer.async_wait(withError(ec));
    }
    const Clock::time_point started = Clock::now();
    const Clock::time_point deadline = started + timeout;
    Attempt attempt = co_await exchange(connection, run, deadline);
    if (attempt.failure && attempt.stale && retryable(run.request())) {
      attempt = co_await exchange(connection, run, deadline);  // on a new connection
    }
    if (attempt.failure) {
      run.recordFailure(std::move(*attempt.failure));
    } else {
      run.recordResponse(std::move(*attempt.response), Clock::now() - started);
    }
  }
  connection.close();
}

// --- Output ----------------------------------------------------------------------------------

// Nearest rank: the smallest value with at least p percent of the values at or below it.
double percentile(const std::vector<double>& sorted, double p) {
  const auto rank =
      static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(sorted.size())));
  const double value = sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
  return std::round(value * 1000) / 1000;
}

void printResponse(std::ostream& out, const CallResponse& response) {
  out << "HTTP/" << response.version() / 10 << '.' << response.version() % 10 << ' '
      << response.result_int() << ' ' << response.reason() << '\n';
  for (const auto& field : response)
    out << field.name_string() << ": " << field.value() << '\n';
  out << '\n' << response.body();
  out.flush();
}

}  // namespace

net::awaitable<HostLookup> lookUpHost(const std::string& host, const std::string& port,
                                      Clock::time_point deadline, std::uint64_t timeoutMs) {
  CallUrl url;
  url.host = host;
  url.port = port;
  Resolved resolved = co_await resolve(url, deadline, timeoutMs);
  co_return HostLookup{.endpoints = std::move(resolved.endpoints),
                       .error = resolved.failure ? resolved.failure->message : std::string()};
}

CLI::App* addCallCommand(CLI::App& app, CallOptions& options) {
  CLI::App* call = app.add_subcommand(
      "call", "send HTTP/1.1 requests to URL; print the response (curl -i) or a JSON summary");
  call->add_option("url", options.url, "http://HOST[:PORT]/PATH[?QUERY]")->required();
  CLI::Option* count =
      call->add_option("--count", options.count, "requests to send (default 1)")
          ->check(CLI::Range(std::uint64_t{1}, std::numeric_limits<std::uint64_t>::max()));
  call->add_option("--concurrency", options.concurrency,
                   "connections sending in parallel (default 1)")
      ->check(CLI::Range(1u, 10000u));
  CLI::Option* duration =
      call->add_option("--duration-s", options.durationS, "send until S seconds have passed")
          ->check(CLI::PositiveNumber);
  count->excludes(duration);
  call->add_option("--rate", options.rate,
                   "requests per second across all connections (default 0: as fast as possible)")
      ->check(CLI::NonNegativeNumber);
  call->add_option("--header", options.headers, "\"name: value\" to send (repeatable)")
      ->allow_extra_args(false);
  call->add_option("--timeout-ms", options.timeoutMs,
                   "per request: resolve + connect + write + read (default 5000)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{86'400'000}));
  call->add_flag("--keep-alive,!--no-keep-alive", options.keepAlive,
                 "reuse each connection (default) or open one per request");
  call->add_option("--method", options.method, "request method (default GET)");
  call->add_flag("--summary", options.summary, "print the JSON summary even for one request");
  return call;
}

std::optional<CallUrl> parseCallUrl(std::string_view text, std::string& why) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) {
    why = "bad URL " + std::string(text) + " (want http://HOST[:PORT]/PATH)";
    return std::nullopt;
  }
  const boost::urls::url_view& url = *parsed;
  if (url.scheme_id() != boost::urls::scheme::http) {
    why = "bad URL " + std::string(text) + ": only http:// is supported";
    return std::nullopt;
  }
  if (url.has_userinfo()) {
    why = "bad URL " + std::string(text) + ": user info is not supported";
    return std::nullopt;
  }
  if (url.host_type() == boost::urls::host_type::ipvfuture || url.host_address().empty()) {
    why = "bad URL " + std::string(text) + ": no host";
    return std::nullopt;
  }
  CallUrl out;
  out.host = url.host_address();
  out.port = "80";
  if (url.has_port()) {
    const std::string_view port = url.port();
    unsigned number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc() || end != port.data() + port.size() || number == 0 || number > 65535) {
      why = "bad URL " + std::string(text) + ": bad port";
      return std::nullopt;
    }
    out.port = std::to_string(number);
  }
  out.hostHeader = url.encoded_host_and_port();
  out.target = url.encoded_target();
  if (out.target.empty() || out.target.front() != '/') out.target.insert(0, "/");
  return out;
}

std::optional<CallRequest> buildCallRequest(const CallOptions& options, const CallUrl& url,
                                            std::string& why) {
  if (!isToken(options.method)) {
    why = "bad --method \"" + options.method + "\"";
    return std::nullopt;
  }
  // Host and user-agent first, as clients send them; a --header of either name replaces it.
  std::string host = url.hostHeader;
  std::string userAgent(kUserAgent);
  std::vector<std::pair<std::string_view, std::string_view>> others;
  for (const std::string& header : options.headers) {
    const auto colon = header.find(':');
    const std::string_view name =
        colon == std::string::npos ? std::string_view() : std::string_view(header).substr(0, colon);
    const std::string_view value = colon == std::string::npos
                                       ? std::string_view()
                                       : trimmed(std::string_view(header).substr(colon + 1));
    if (!isToken(name) || value.find_first_of(std::string_view("\r\n\0", 3)) != value.npos) {
      why = "bad --header \"" + header + "\" (want \"name: value\")";
      return std::nullopt;
    }
    if (asciiEqualsIgnoreCase(name, "host")) {
      host = value;
    } else if (asciiEqualsIgnoreCase(name, "user-agent")) {
      userAgent = value;
    } else {
      others.emplace_back(name, value);
    }
  }
  CallRequest request;
  request.method_string(options.method);
  request.target(url.target);
  request.version(11);
  request.set(http::field::host, host);
  request.set(http::field::user_agent, userAgent);
  for (const auto& [name, value] : others)
    request.insert(name, value);
  request.keep_alive(options.keepAlive);
  request.prepare_payload();
  return request;
}

CallSummary runCalls(const CallOptions& options, const CallUrl& url, const CallRequest& request) {
  net::io_context io(1);
  Run run(options, url, request);
  std::uint64_t slots = std::max(1u, options.concurrency);
  if (options.durationS <= 0) slots = std::min<std::uint64_t>(slots, options.count);
  for (std::uint64_t i = 0; i < slots; ++i)
    net::co_spawn(io, connectionLoop(run), net::detached);
  io.run();
  return run.take();
}

nlohmann::ordered_json summaryJson(const CallSummary& summary) {
  nlohmann::ordered_json statuses = nlohmann::ordered_json::object();
  for (const auto& [status, n] : summary.statuses)
    statuses[std::to_string(status)] = n;
  nlohmann::ordered_json backends = nlohmann::ordered_json::object();
  for (const auto& [backend, n] : summary.backends)
    backends[backend] = n;
  nlohmann::ordered_json latency = {{"p50", nullptr}, {"p99", nullptr}};
  if (!summary.latenciesMs.empty()) {
    std::vector<double> sorted = summary.latenciesMs;
    std::sort(sorted.begin(), sorted.end());
    latency = {{"p50", percentile(sorted, 50)}, {"p99", percentile(sorted, 99)}};
  }
  return {{"requests", summary.requests},
          {"statuses", std::move(statuses)},
          {"errors",
           {{"connect", summary.errors.connect},
            {"timeout", summary.errors.timeout},
            {"reset", summary.errors.reset},
            {"other", summary.errors.other}}},
          {"backends", std::move(backends)},
          {"latency_ms", std::move(latency)}};
}

int runCallCommand(const CallOptions& options, std::ostream& out, std::ostream& err) {
  std::string why;
  const auto url = parseCallUrl(options.url, why);
  const auto request = url ? buildCallRequest(options, *url, why) : std::nullopt;
  if (!request) {
    err << "call: " << why << '\n';
    return 2;
  }
  const CallSummary summary = runCalls(options, *url, *request);
  if (!options.summary && options.durationS <= 0 && options.count == 1) {
    if (!summary.lastResponse) {
      err << "call: "
          << (summary.errorMessages.empty() ? "no response" : summary.errorMessages.front())
          << '\n';
      return 1;
    }
    printResponse(out, *summary.lastResponse);
    return 0;
  }
  for (const std::string& message : summary.errorMessages)
    err << "call: " << message << '\n';
  if (summary.errorsNotKept > 0)
    err << "call: " << summary.errorsNotKept << " more errors not shown\n";
  // Replace, not throw, on bytes that are not UTF-8 (an x-backend value could hold any).
  out << summaryJson(summary).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
      << '\n';
  out.flush();
  return 0;
}

}  // namespace meshgate::testtools
