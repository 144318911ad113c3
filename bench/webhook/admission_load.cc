// meshgate-admission-load: the kube-apiserver's side of the webhook benchmark. POSTs one
// AdmissionReview over a few keep-alive TLS connections at a fixed rate and prints the latency
// distribution as one line of key=value, for the benchmark scripts to tabulate:
//
//   meshgate-admission-load --url https://127.0.0.1:9443/mutate-v1-pod --ca ca.crt
//       --body review.json --rate 500 --duration 10 --connections 8   (one command line)
//   requests=5000 errors=0 p50_ms=0.412 p90_ms=0.587 p99_ms=1.204 max_ms=3.918 achieved_rps=500.0
//
// Open loop, without coordinated omission: request i is due at t0 + i/rate whatever happened to
// the previous ones, and its latency runs from that due time to the end of its response. When
// every connection is busy a due request waits for one, and the wait counts — a server that
// stalls for a second shows as a second of latency on every request due meanwhile, not as one slow
// sample. A request is an error unless answered 2xx before the run's deadline (duration + 10 s),
// after which the tool stops whatever is still pending.
//
// With --cert/--key it authenticates by client certificate, so the same load can POST pods to the
// kube-apiserver itself (201 Created), which then calls the webhook: the end-to-end figure.
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include "base/expected.h"
#include "base/read_file.h"

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;
using Stream = beast::ssl_stream<beast::tcp_stream>;

// After the last request is due, how long answers are still waited for.
constexpr std::chrono::seconds kGracePeriod{10};

struct Target {
  std::string host;  // for the resolver: a name or an IP literal without brackets
  std::string port;
  std::string hostHeader;
  std::string path;
};

meshgate::Expected<Target, std::string> parseUrl(const std::string& text) {
  auto url = boost::urls::parse_uri(text);
  if (!url) return "--url " + text + ": " + url.error().message();
  if (url->scheme() != "https") return "--url " + text + ": the scheme must be https";
  Target target;
  target.host = url->host_address();
  if (target.host.empty()) return "--url " + text + ": no host";
  target.port = url->has_port() ? std::string(url->port()) : "443";
  target.hostHeader = url->encoded_host_and_port();
  target.path = url->encoded_path().empty() ? "/" : std::string(url->encoded_path());
  if (url->has_query()) target.path += "?" + std::string(url->encoded_query());
  return target;
}

struct Settings {
  Target target;
  std::string caFile;
  std::string certFile;  // client certificate and key, both or neither
  std::string keyFile;
  std::string body;
  double rate = 0;
  double durationSeconds = 0;
  std::size_t connections = 8;
  std::string serverName;
};

class LoadRun {
 public:
  explicit LoadRun(Settings settings)
      : settings_(std::move(settings)),
        total_(static_cast<std::size_t>(std::llround(settings_.rate * settings_.durationSeconds))) {
    SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
    tls_.set_verify_mode(asio::ssl::verify_peer);
    request_.set(http::field::host, settings_.target.hostHeader);
    request_.set(http::field::content_type, "application/json");
    request_.set(http::field::accept, "application/json");
    request_.set(http::field::user_agent, "meshgate-admission-load");
    request_.keep_alive(true);
    request_.body() = settings_.body;
    request_.prepare_payload();
    latenciesMs_.reserve(total_);
  }

  // Runs the whole benchmark; false (and a message on stderr) when it could not start.
  bool run() {
    boost::system::error_code ec;
    tls_.load_verify_file(settings_.caFile, ec);
    if (ec) {
      std::cerr << "--ca " << settings_.caFile << ": " << ec.message() << "\n";
      return false;
    }
    if (!settings_.certFile.empty()) {
      tls_.use_certificate_chain_file(settings_.certFile, ec);
      if (!ec) tls_.use_private_key_file(settings_.keyFile, asio::ssl::context::pem, ec);
      if (ec) {
        std::cerr << "--cert/--key: " << ec.message() << "\n";
        return false;
      }
    }
    bool started = false;
    asio::co_spawn(ioc_, start(started), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    ioc_.run();
    return started;
  }

  void printSummary() const {
    std::vector<double> sorted = latenciesMs_;
    std::sort(sorted.begin(), sorted.end());
    const auto percentile = [&](double p) {
      if (sorted.empty()) return 0.0;
      const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
      return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
    };
    // Over the run's duration at least: a server that stalls and then answers nothing more must not
    // look as fast as it was before the stall.
    const double elapsed = std::max(settings_.durationSeconds,
                                    std::chrono::duration<double>(lastAnswer_ - t0_).count());
    const double achieved = static_cast<double>(sorted.size()) / elapsed;
    std::printf(
        "requests=%zu errors=%zu p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
        "achieved_rps=%.1f\n",
        total_, total_ - sorted.size(), percentile(0.50), percentile(0.90), percentile(0.99),
        sorted.empty() ? 0.0 : sorted.back(), achieved);
  }

 private:
  // Opens the connections, then starts the clock and the connection loops. Connection setup is
  // not part of what is measured, as the apiserver keeps its connections open.
  asio::awaitable<void> start(bool& started) {
    deadline_ = Clock::now() + std::chrono::seconds(10);
    boost::system::error_code ec;
    asio::ip::tcp::resolver resolver(ioc_);
    endpoints_ = co_await resolver.async_resolve(settings_.target.host, settings_.target.port,
                                                 asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      std::cerr << "resolving " << settings_.target.host << ": " << ec.message() << "\n";
      co_return;
    }
    std::vector<std::unique_ptr<Stream>> streams;
    for (std::size_t i = 0; i < settings_.connections; ++i) {
      auto stream = co_await connect(ec);
      if (!stream) {
        std::cerr << "connecting to " << settings_.target.hostHeader << ": " << ec.message()
                  << "\n";
        co_return;
      }
      streams.push_back(std::move(stream));
    }
    started = true;
    t0_ = Clock::now();
    lastAnswer_ = t0_;
    const auto lastDue = t0_ + dueOffset(total_ == 0 ? 0 : total_ - 1);
    deadline_ = lastDue + kGracePeriod;
    // Every I/O below also expires at deadline_; this stops what a bug would leave waiting.
    stopTimer_.expires_at(deadline_ + std::chrono::seconds(1));
    stopTimer_.async_wait([this](boost::system::error_code waitError) {
      if (!waitError) ioc_.stop();
    });
    pending_ = streams.size();
    for (auto& stream : streams) {
      asio::co_spawn(ioc_, drive(std::move(stream)), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
    }
  }

  Clock::duration dueOffset(std::size_t i) const {
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(static_cast<double>(i) / settings_.rate));
  }

  asio::awaitable<std::unique_ptr<Stream>> connect(boost::system::error_code& ec) {
    auto stream = std::make_unique<Stream>(ioc_, tls_);
    SSL* ssl = stream->native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    // The apiserver checks SANs only, never the subject's common name.
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    boost::system::error_code notAnAddress;
    asio::ip::make_address(settings_.serverName, notAnAddress);
    if (notAnAddress) {
      SSL_set_tlsext_host_name(ssl, settings_.serverName.c_str());
      X509_VERIFY_PARAM_set1_host(param, settings_.serverName.c_str(), settings_.serverName.size());
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(param, settings_.serverName.c_str());
    }
    auto& tcp = beast::get_lowest_layer(*stream);
    tcp.expires_at(deadline_);
    co_await tcp.async_connect(endpoints_, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return nullptr;
    tcp.socket().set_option(asio::ip::tcp::no_delay(true), ec);
    co_await stream->async_handshake(asio::ssl::stream_base::client,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return nullptr;
    co_return stream;
  }

  // One connection's loop: take the next due request, wait for its time, send it, read the answer.
  asio::awaitable<void> drive(std::unique_ptr<Stream> stream) {
    asio::steady_timer timer(ioc_);
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    while (next_ < total_) {
      const auto due = t0_ + dueOffset(next_++);
      if (Clock::now() < due) {
        timer.expires_at(due);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      if (Clock::now() >= deadline_) break;
      if (!stream) {
        buffer.clear();
        stream = co_await connect(ec);
        if (!stream) continue;
      }
      bool reusable = false;
      if (co_await exchange(*stream, buffer, reusable)) {
        const auto answeredAt = Clock::now();
        latenciesMs_.push_back(std::chrono::duration<double, std::milli>(answeredAt - due).count());
        lastAnswer_ = std::max(lastAnswer_, answeredAt);
      }
      if (!reusable) stream.reset();
    }
    if (--pending_ == 0) stopTimer_.cancel();
  }

  // True when answered 2xx; `reusable` when the connection may carry the next request.
  asio::awaitable<bool> exchange(Stream& stream, beast::flat_buffer& buffer, bool& reusable) {
    boost::system::error_code ec;
    beast::get_lowest_layer(stream).expires_at(deadline_);
    co_await http::async_write(stream, request_, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    reusable = parser.get().keep_alive();
    co_return http::to_status_class(parser.get().result()) == http::status_class::successful;
  }

  const Settings settings_;
  const std::size_t total_;
  asio::io_context ioc_{1};
  asio::ssl::context tls_{asio::ssl::context::tls_client};
  http::request<http::string_body> request_{http::verb::post, settings_.target.path, 11};
  asio::ip::tcp::resolver::results_type endpoints_;
  asio::steady_timer stopTimer_{ioc_};
  Clock::time_point t0_;
  Clock::time_point deadline_;
  Clock::time_point lastAnswer_;
  std::size_t next_ = 0;  // the next request to send; all on the one io_context thread
  std::size_t pending_ = 0;
  std::vector<double> latenciesMs_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Open-loop HTTPS load for the meshgate admission webhook"};
  std::string url;
  std::string bodyFile;
  Settings settings;
  app.add_option("--url", url, "https://HOST:PORT/PATH to POST to")->required();
  app.add_option("--ca", settings.caFile, "PEM file of the CA the server's certificate chains to")
      ->required()
      ->check(CLI::ExistingFile);
  auto* cert = app.add_option("--cert", settings.certFile,
                              "client certificate (PEM), e.g. for the apiserver")
                   ->check(CLI::ExistingFile);
  auto* key = app.add_option("--key", settings.keyFile, "the client certificate's key (PEM)")
                  ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  app.add_option("--body", bodyFile, "file holding the AdmissionReview to POST")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--rate", settings.rate, "requests per second")
      ->required()
      ->check(CLI::PositiveNumber);
  app.add_option("--duration", settings.durationSeconds, "seconds of load")
      ->default_val(10)
      ->check(CLI::PositiveNumber);
  app.add_option("--connections", settings.connections, "keep-alive TLS connections")
      ->default_val(8)
      ->check(CLI::Range(1, 10000));
  app.add_option("--server-name", settings.serverName,
                 "name sent as SNI and checked against the certificate's SANs (default: the URL's "
                 "host)");
  CLI11_PARSE(app, argc, argv);

  auto target = parseUrl(url);
  if (!target) {
    std::cerr << target.error() << "\n";
    return 2;
  }
  settings.target = std::move(*target);
  if (settings.serverName.empty()) settings.serverName = settings.target.host;
  std::string error;
  auto body = meshgate::readFileText(bodyFile, error);
  if (!body) {
    std::cerr << "--body " << bodyFile << ": " << error << "\n";
    return 2;
  }
  settings.body = std::move(*body);

  LoadRun run(std::move(settings));
  if (!run.run()) return 1;
  run.printSummary();
  return 0;
}
