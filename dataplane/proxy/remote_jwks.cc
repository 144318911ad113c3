// RemoteJwks: the fetch loop and one HTTPS GET per fetch (Boost.Beast over asio::ssl::stream), all
// on the io_context's thread. A fetch's I/O objects live in a Fetch that a deadline timer and
// stop() reach to close, which ends whatever the fetch waits for.
#include "dataplane/proxy/remote_jwks.h"

#include <algorithm>
#include <exception>
#include <limits>
#include <utility>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include "dataplane/proxy/tls_contexts.h"

namespace meshgate::dp {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();
constexpr std::chrono::milliseconds kBackoffBase{1'000};
constexpr std::uint32_t kMaxResponseHeadBytes = 64 * 1024;

std::int64_t steadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// 1 s, 2 s, 4 s, ... after `failures` consecutive failures (1: the first), never above `cap`.
std::chrono::milliseconds backoffDelay(unsigned failures, std::chrono::milliseconds cap) {
  auto delay = kBackoffBase;
  for (unsigned i = 1; i < failures && delay < cap; ++i)
    delay *= 2;
  return std::min(delay, cap);
}

std::shared_ptr<asio::ssl::context> systemTrustContext() {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
  error_code ec;
  context->set_default_verify_paths(ec);
  if (ec) spdlog::warn("jwks: cannot load the system's trusted roots: {}", ec.message());
  return context;
}

}  // namespace

// Where `uri` points, parsed once.
struct RemoteJwks::Target {
  std::string host;  // a DNS name or an IP literal (IPv6 without brackets)
  bool hostIsIpAddress = false;
  std::string port;
  std::string hostHeader;  // host[:port] as the URI has it
  std::string target;      // path and query, "/" when empty
};

// One fetch's I/O objects. abort() closes them: whatever the fetch awaits completes with an error.
struct RemoteJwks::Fetch {
  Fetch(asio::io_context& context, asio::ssl::context& tls)
      : resolver(context), stream(context, tls), deadline(context) {}

  void abort() {
    resolver.cancel();
    error_code ignored;
    stream.lowest_layer().close(ignored);
  }

  tcp::resolver resolver;
  asio::ssl::stream<tcp::socket> stream;
  asio::steady_timer deadline;
  bool timedOut = false;
};

RemoteJwks::RemoteJwks(asio::io_context& context, std::string uri, RemoteJwksSettings settings,
                       metrics::CounterFamily* fetches, std::shared_ptr<asio::ssl::context> tls)
    : context_(context),
      uri_(std::move(uri)),
      settings_(settings),
      tls_(tls ? std::move(tls) : systemTrustContext()),
      lastOnDemand_(kNever),
      wake_(context) {
  if (fetches != nullptr) {
    okCount_ = &fetches->with({uri_, "ok"});
    errorCount_ = &fetches->with({uri_, "error"});
  }
  auto parsed = boost::urls::parse_uri(uri_);
  if (!parsed) {
    uriError_ = "not a URI";
    return;
  }
  const auto& url = *parsed;
  if (url.scheme_id() != boost::urls::scheme::https) {
    uriError_ = "the scheme must be https";
    return;
  }
  auto out = std::make_unique<Target>();
  switch (url.host_type()) {
    case boost::urls::host_type::name:
      out->host = url.host_name();
      break;
    case boost::urls::host_type::ipv4:
      out->host = url.host_ipv4_address().to_string();
      out->hostIsIpAddress = true;
      break;
    case boost::urls::host_type::ipv6:
      out->host = url.host_ipv6_address().to_string();
      out->hostIsIpAddress = true;
      break;
    default:
      break;
  }
  if (out->host.empty()) {
    uriError_ = "no usable host";
    return;
  }
  out->port = "443";
  if (url.has_port() && !url.port().empty()) {
    if (url.port_number() == 0) {
      uriError_ = "bad port";
      return;
    }
    out->port = std::to_string(url.port_number());
  }
  out->hostHeader = std::string(url.encoded_host_and_port());
  out->target = std::string(url.encoded_target());
  if (out->target.empty() || out->target.front() != '/') out->target.insert(0, "/");
  target_ = std::move(out);
}

RemoteJwks::~RemoteJwks() = default;

void RemoteJwks::start() {
  if (stopped_.load() || started_.exchange(true)) return;
  // The frame holds the reference from its creation: the context may run it after the owner let go.
  asio::co_spawn(context_, run(shared_from_this()), [uri = uri_](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& error) {
      spdlog::error("jwks {}: fetching stopped by an unexpected error: {}", uri, error.what());
    }
  });
}

void RemoteJwks::stop() {
  {
    std::lock_guard lock(publishMutex_);
    if (stopped_.exchange(true)) return;
  }
  if (!started_.load()) return;
  if (context_.get_executor().running_in_this_thread()) {
    cancelAll();
    return;
  }
  // The I/O objects belong to the context's thread; the loop sees stopped_ when it wakes.
  asio::post(context_, [self = shared_from_this()] { self->cancelAll(); });
}

void RemoteJwks::cancelAll() {
  wake_.cancel();
  if (inFlight_) inFlight_->abort();
}

std::shared_ptr<const auth::JwkSet> RemoteJwks::current() const {
  std::lock_guard lock(keysMutex_);
  return keys_;
}

void RemoteJwks::unknownKeyId() const {
  if (!started_.load(std::memory_order_relaxed) || stopped_.load(std::memory_order_relaxed)) return;
  // Decided on the caller's thread, so a flood of tokens with unknown kids costs one atomic load
  // each and posts at most one refetch per gap to the main thread.
  const std::int64_t now = steadyNanos();
  std::int64_t last = lastOnDemand_.load(std::memory_order_relaxed);
  const std::int64_t gap =
      std::chrono::duration_cast<std::chrono::nanoseconds>(settings_.minRefetchGap).count();
  if (last != kNever && now - last < gap) return;
  if (!lastOnDemand_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  // Asking for keys is logically a read of this source; the refetch is its own business.
  auto self = std::const_pointer_cast<RemoteJwks>(shared_from_this());
  asio::post(context_, [self = std::move(self)] { self->refetchSoon(); });
}

void RemoteJwks::refetchSoon() {
  if (stopped_.load()) return;
  if (inFlight_) {
    refetchAfterThis_ = true;  // the fetch in flight may have left before the issuer rotated
    return;
  }
  wake_.cancel();
}

asio::awaitable<void> RemoteJwks::run([[maybe_unused]] std::shared_ptr<RemoteJwks> self) {
  unsigned failures = 0;
  while (!stopped_.load()) {
    auto fetch = std::make_shared<Fetch>(context_, *tls_);
    inFlight_ = fetch;
    refetchAfterThis_ = false;
    fetch->deadline.expires_after(settings_.fetchTimeout);
    fetch->deadline.async_wait([weak = std::weak_ptr<Fetch>(fetch)](const error_code& ec) {
      if (ec) return;
      if (auto live = weak.lock()) {
        live->timedOut = true;
        live->abort();
      }
    });
    FetchResult result = std::string("unknown failure");
    try {
      result = co_await fetchOnce(fetch);
    } catch (const std::exception& e) {
      result = std::string("unexpected error: ") + e.what();
    }
    fetch->deadline.cancel();
    inFlight_.reset();
    if (!record(result)) break;

    std::chrono::milliseconds delay = settings_.refreshInterval;
    if (result.ok()) {
      failures = 0;
    } else {
      if (failures < 64) ++failures;
      delay = backoffDelay(failures, settings_.refreshInterval);
    }
    if (refetchAfterThis_) delay = std::chrono::milliseconds(0);
    wake_.expires_after(delay);
    co_await wake_.async_wait(kNoThrow);  // cancelled by refetchSoon() and stop(): fetch or end
  }
}

asio::awaitable<RemoteJwks::FetchResult> RemoteJwks::fetchOnce(std::shared_ptr<Fetch> fetch) {
  if (!target_) co_return uriError_;
  const Target& to = *target_;
  const auto failure = [&](const std::string& what, const error_code& ec) -> std::string {
    if (fetch->timedOut)
      return what + ": timed out (the fetch takes over " +
             std::to_string(settings_.fetchTimeout.count()) + " ms)";
    return what + ": " + ec.message();
  };

  auto [resolveError, addresses] =
      co_await fetch->resolver.async_resolve(to.host, to.port, kNoThrow);
  if (stopped_.load()) co_return std::string("stopped");
  if (resolveError || fetch->timedOut) co_return failure("resolve " + to.host, resolveError);

  auto [connectError, connected] =
      co_await asio::async_connect(fetch->stream.next_layer(), addresses, kNoThrow);
  if (stopped_.load()) co_return std::string("stopped");
  if (connectError || fetch->timedOut) co_return failure("connect " + to.hostHeader, connectError);

  // SNI, and the host checked against the certificate's SAN only (a matching CN is not enough).
  SSL* ssl = fetch->stream.native_handle();
  if (!to.hostIsIpAddress && SSL_set_tlsext_host_name(ssl, to.host.c_str()) != 1)
    co_return "cannot set SNI " + to.host;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  const int hostSet = to.hostIsIpAddress ? X509_VERIFY_PARAM_set1_ip_asc(param, to.host.c_str())
                                         : X509_VERIFY_PARAM_set1_host(param, to.host.c_str(), 0);
  if (hostSet != 1) co_return "cannot verify the server as " + to.host;
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  auto [tlsError] =
      co_await fetch->stream.async_handshake(asio::ssl::stream_base::client, kNoThrow);
  if (stopped_.load()) co_return std::string("stopped");
  if (fetch->timedOut) co_return failure("TLS handshake", tlsError);
  if (tlsError) co_return describeTlsFailure(ssl, tlsError);

  http::request<http::empty_body> request(http::verb::get, to.target, 11);
  request.set(http::field::host, to.hostHeader);
  request.set(http::field::accept, "application/json");
  request.set(http::field::connection, "close");
  request.set(http::field::user_agent, "meshgate-proxy");
  auto [writeError, written] = co_await http::async_write(fetch->stream, request, kNoThrow);
  if (stopped_.load()) co_return std::string("stopped");
  if (writeError || fetch->timedOut) co_return failure("send request", writeError);

  const std::string tooLarge = "the body is over " + std::to_string(kMaxBodyBytes) + " bytes";
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxResponseHeadBytes);
  parser.body_limit(kMaxBodyBytes);
  auto [headerError, headerBytes] =
      co_await http::async_read_header(fetch->stream, buffer, parser, kNoThrow);
  if (stopped_.load()) co_return std::string("stopped");
  if (headerError == http::error::body_limit) co_return tooLarge;  // by its Content-Length
  if (headerError || fetch->timedOut) co_return failure("read response", headerError);
  // A status other than 200 is not read further: its body is not a key set.
  if (const unsigned status = parser.get().result_int(); status != 200)
    co_return "HTTP status " + std::to_string(status);

  auto [bodyError, bodyBytes] = co_await http::async_read(fetch->stream, buffer, parser, kNoThrow);
  if (stopped_.load()) co_return std::string("stopped");
  if (bodyError == http::error::body_limit) co_return tooLarge;
  if (bodyError || fetch->timedOut) co_return failure("read response body", bodyError);

  auto keys = auth::JwkSet::parse(parser.get().body());
  if (!keys) co_return "bad JWKS: " + keys.error();
  co_return std::move(keys).value();
}

bool RemoteJwks::record(const FetchResult& result) {
  std::lock_guard lock(publishMutex_);
  if (stopped_.load()) return false;
  if (result.ok()) {
    {
      // Counted under the same lock as the set is published, so whoever sees the new set also
      // sees it counted.
      std::lock_guard keysLock(keysMutex_);
      keys_ = result.value();
      if (okCount_ != nullptr) okCount_->inc();
      fetchCount_.fetch_add(1, std::memory_order_release);
    }
    spdlog::debug("jwks {}: fetched {} key(s)", uri_, result.value()->keys().size());
  } else {
    if (errorCount_ != nullptr) errorCount_->inc();
    spdlog::warn("jwks {}: fetch failed: {}; {}", uri_, result.error(),
                 current() ? "keeping the last good set" : "no keys yet");
    fetchCount_.fetch_add(1, std::memory_order_release);
  }
  return true;
}

}  // namespace meshgate::dp
