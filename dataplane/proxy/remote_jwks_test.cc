// Tests of RemoteJwks against an in-process HTTPS server on 127.0.0.1 (JwksServer, below) whose
// certificate comes from a throwaway CA the fetcher is told to trust; each test says what the
// server answers next. The fetcher's io_context runs on a thread of the fixture, as the proxy's
// main thread would; the test thread awaits conditions with a deadline.
#include "dataplane/proxy/remote_jwks.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "base/testing/eventually.h"
#include "dataplane/auth/base64url.h"
#include "metrics/registry.h"
#include "pki/certificate_authority.h"
#include "pki/certificate_template.h"
#include "pki/private_key.h"

namespace meshgate::dp {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using meshgate::testing::eventually;
using namespace std::chrono_literals;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

template <class T>
T must(pki::Result<T> result) {
  if (!result) throw std::runtime_error(result.error().message);
  return std::move(result).value();
}

// An Ed25519 public JWK with a fresh key; `x` is its key material (the logs must never show it).
struct TestJwk {
  std::string kid;
  std::string x;
  std::string json() const {
    return R"({"kty":"OKP","crv":"Ed25519","use":"sig","kid":")" + kid + R"(","x":")" + x + R"("})";
  }
};

TestJwk makeJwk(const std::string& kid) {
  const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), EVP_PKEY_free);
  if (!key) throw std::runtime_error("Ed25519 key generation failed");
  unsigned char raw[32];
  size_t size = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key.get(), raw, &size) != 1)
    throw std::runtime_error("no raw Ed25519 public key");
  return {kid, auth::base64UrlEncode(std::string_view(reinterpret_cast<const char*>(raw), size))};
}

std::string jwksOf(const std::vector<TestJwk>& keys) {
  std::string out = R"({"keys":[)";
  for (size_t i = 0; i < keys.size(); ++i)
    out += (i == 0 ? "" : ",") + keys[i].json();
  return out + "]}";
}

// The HTTPS issuer. Every connection takes the Reply set at the time it is accepted.
class JwksServer {
 public:
  enum class Certificate { Good, ForAnotherName, FromUntrustedCa };
  enum class Behavior { Answer, HangBeforeTls, HangAfterRequest };
  struct Reply {
    unsigned status = 200;
    std::string body{};
    Behavior behavior = Behavior::Answer;
    Certificate certificate = Certificate::Good;
  };

  JwksServer()
      : ca_(must(
            pki::CertificateAuthority::generate("jwks test CA", std::chrono::system_clock::now()))),
        good_(serverContext(ca_, {"localhost", "127.0.0.1"})),
        otherName_(serverContext(ca_, {"other.example"})),
        untrusted_(serverContext(must(pki::CertificateAuthority::generate(
                                     "untrusted CA", std::chrono::system_clock::now())),
                                 {"localhost", "127.0.0.1"})),
        acceptor_(context_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(context_, acceptLoop(), asio::detached);
    thread_ = std::thread([this] { context_.run(); });
  }
  ~JwksServer() {
    context_.stop();
    thread_.join();
  }
  JwksServer(const JwksServer&) = delete;
  JwksServer& operator=(const JwksServer&) = delete;

  std::string uri(const std::string& host = "localhost",
                  const std::string& target = "/.well-known/jwks.json") const {
    return "https://" + host + ":" + std::to_string(acceptor_.local_endpoint().port()) + target;
  }
  // A client context that trusts this server's CA (and nothing else).
  std::shared_ptr<ssl::context> clientTls() const {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    const std::string caPem = ca_.certificatePem();
    context->add_certificate_authority(asio::buffer(caPem));
    return context;
  }

  void reply(Reply next) {
    std::lock_guard lock(mutex_);
    reply_ = std::move(next);
  }
  void serve(const std::string& body) { reply({.body = body}); }

  int requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  struct Seen {
    std::string serverName, host, target, accept, connection;
  };
  Seen lastRequest() const {
    std::lock_guard lock(mutex_);
    return last_;
  }

 private:
  static ssl::context serverContext(const pki::CertificateAuthority& ca,
                                    std::vector<std::string> hosts) {
    const auto key = must(pki::PrivateKey::generateEcdsaP256());
    const auto certificate = must(ca.issue(pki::CertificateTemplate::forHosts(std::move(hosts)),
                                           key, std::chrono::system_clock::now()));
    const std::string certificatePem = certificate.toPem();
    const std::string keyPem = must(key.toPem());
    ssl::context context(ssl::context::tls_server);
    context.use_certificate_chain(asio::buffer(certificatePem));
    context.use_private_key(asio::buffer(keyPem), ssl::context::pem);
    return context;
  }

  ssl::context& contextFor(Certificate certificate) {
    switch (certificate) {
      case Certificate::ForAnotherName:
        return otherName_;
      case Certificate::FromUntrustedCa:
        return untrusted_;
      case Certificate::Good:
        break;
    }
    return good_;
  }

  asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [error, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (error) co_return;
      Reply reply;
      {
        std::lock_guard lock(mutex_);
        reply = reply_;
      }
      asio::co_spawn(context_, session(std::move(socket), std::move(reply)), asio::detached);
    }
  }

  // Until the server goes away.
  asio::awaitable<void> hang() {
    asio::steady_timer forever(context_);
    forever.expires_at(asio::steady_timer::time_point::max());
    co_await forever.async_wait(kNoThrow);
  }

  asio::awaitable<void> session(tcp::socket socket, Reply reply) {
    if (reply.behavior == Behavior::HangBeforeTls) {
      co_await hang();
      co_return;
    }
    ssl::stream<tcp::socket> stream(std::move(socket), contextFor(reply.certificate));
    auto [handshakeError] = co_await stream.async_handshake(ssl::stream_base::server, kNoThrow);
    if (handshakeError) co_return;
    const char* serverName = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [readError, readBytes] = co_await http::async_read(stream, buffer, request, kNoThrow);
    if (readError) co_return;
    {
      std::lock_guard lock(mutex_);
      ++requests_;
      last_ = {serverName != nullptr ? serverName : "", std::string(request[http::field::host]),
               std::string(request.target()), std::string(request[http::field::accept]),
               std::string(request[http::field::connection])};
    }
    if (reply.behavior == Behavior::HangAfterRequest) {
      co_await hang();
      co_return;
    }
    http::response<http::string_body> response(static_cast<http::status>(reply.status), 11);
    response.set(http::field::content_type, "application/json");
    response.keep_alive(false);
    response.body() = std::move(reply.body);
    response.prepare_payload();
    co_await http::async_write(stream, response, kNoThrow);
    boost::system::error_code ignored;
    stream.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
  }

  pki::CertificateAuthority ca_;
  ssl::context good_;
  ssl::context otherName_;
  ssl::context untrusted_;
  asio::io_context context_;  // after the TLS contexts: its sessions use them until it is gone
  tcp::acceptor acceptor_;
  std::thread thread_;

  mutable std::mutex mutex_;
  Reply reply_;
  int requests_ = 0;
  Seen last_;
};

// Collects the warning lines of the default logger while a test runs.
class WarningLog : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    if (message.level >= spdlog::level::warn)
      lines_.emplace_back(message.payload.begin(), message.payload.end());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

class RemoteJwksTest : public ::testing::Test {
 protected:
  RemoteJwksTest()
      : fetches_(registry_.counter("jwks_fetches_total", "test", {"uri", "result"})),
        work_(asio::make_work_guard(context_)),
        previousLogger_(spdlog::default_logger()),
        log_(std::make_shared<WarningLog>()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("remote-jwks-test", log_));
    thread_ = std::thread([this] {
      context_.run();
      contextDone_ = true;
    });
  }
  ~RemoteJwksTest() override {
    if (jwks_) jwks_->stop();
    work_.reset();
    if (!eventually([this] { return contextDone_.load(); }, 10s)) context_.stop();
    thread_.join();
    spdlog::set_default_logger(previousLogger_);
  }

  RemoteJwks& start(RemoteJwksSettings settings, std::optional<std::string> uri = std::nullopt) {
    jwks_ = std::make_shared<RemoteJwks>(context_, uri ? *uri : server_.uri(), settings, &fetches_,
                                         server_.clientTls());
    jwks_->start();
    return *jwks_;
  }

  double counted(const std::string& result) const {
    return fetches_.with({jwks_->uri(), result}).value();
  }
  bool awaitFetches(uint64_t count) {
    return eventually([&] { return jwks_->fetches() >= count; });
  }
  bool hasKey(const std::string& kid) const {
    const auto keys = jwks_->current();
    return keys && keys->find(kid) != nullptr;
  }

  JwksServer server_;
  metrics::Registry registry_;
  metrics::CounterFamily& fetches_;
  asio::io_context context_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::atomic<bool> contextDone_{false};
  std::shared_ptr<spdlog::logger> previousLogger_;
  std::shared_ptr<WarningLog> log_;
  std::shared_ptr<RemoteJwks> jwks_;
};

TEST_F(RemoteJwksTest, FirstFetchYieldsTheSet) {
  const auto k1 = makeJwk("k1");
  const auto k2 = makeJwk("k2");
  server_.serve(jwksOf({k1, k2}));
  const std::string uri = server_.uri("localhost", "/keys/jwks.json?tenant=a");
  auto& jwks = start({}, uri);
  ASSERT_TRUE(awaitFetches(1));

  const auto keys = jwks.current();
  ASSERT_NE(keys, nullptr);
  EXPECT_EQ(keys->keys().size(), 2u);
  EXPECT_NE(keys->find("k1"), nullptr);
  EXPECT_NE(keys->find("k2"), nullptr);
  EXPECT_EQ(keys->find("k3"), nullptr);
  EXPECT_EQ(counted("ok"), 1);
  EXPECT_EQ(counted("error"), 0);
  EXPECT_EQ(jwks.uri(), uri);

  const auto seen = server_.lastRequest();
  EXPECT_EQ(seen.serverName, "localhost");
  EXPECT_EQ(seen.host, uri.substr(8, uri.find('/', 8) - 8));  // localhost:PORT
  EXPECT_EQ(seen.target, "/keys/jwks.json?tenant=a");
  EXPECT_EQ(seen.accept, "application/json");
  EXPECT_EQ(seen.connection, "close");
  EXPECT_TRUE(log_->lines().empty());
}

TEST_F(RemoteJwksTest, VerifiesAnIpAddressAgainstTheCertificatesIpSan) {
  server_.serve(jwksOf({makeJwk("k1")}));
  start({}, server_.uri("127.0.0.1"));
  ASSERT_TRUE(awaitFetches(1));
  EXPECT_TRUE(hasKey("k1"));
  EXPECT_EQ(server_.lastRequest().serverName, "");  // no SNI for an IP address
  EXPECT_EQ(server_.lastRequest().target, "/.well-known/jwks.json");
}

TEST_F(RemoteJwksTest, RefreshPicksUpARotatedSet) {
  server_.serve(jwksOf({makeJwk("k1")}));
  auto& jwks = start({.refreshInterval = 50ms});
  ASSERT_TRUE(eventually([&] { return hasKey("k1"); }));
  server_.serve(jwksOf({makeJwk("k2")}));
  ASSERT_TRUE(eventually([&] { return hasKey("k2"); }));
  EXPECT_FALSE(hasKey("k1"));
  EXPECT_GE(jwks.fetches(), 2u);
  EXPECT_EQ(counted("error"), 0);
}

TEST_F(RemoteJwksTest, UnknownKeyIdRefetchesAtOnceButAtMostOncePerGap) {
  server_.serve(jwksOf({makeJwk("k1")}));
  const auto gap = 400ms;
  auto& jwks = start({.refreshInterval = 1h, .minRefetchGap = gap});
  ASSERT_TRUE(awaitFetches(1));

  server_.serve(jwksOf({makeJwk("k2")}));
  const auto firstAsked = std::chrono::steady_clock::now();
  jwks.unknownKeyId();
  jwks.unknownKeyId();  // within the gap: no second refetch
  ASSERT_TRUE(eventually([&] { return hasKey("k2"); }));
  EXPECT_EQ(jwks.fetches(), 2u);

  // Asked continuously, the next refetch comes only once the gap has passed.
  server_.serve(jwksOf({makeJwk("k3")}));
  ASSERT_TRUE(eventually([&] {
    jwks.unknownKeyId();
    return hasKey("k3");
  }));
  EXPECT_GE(std::chrono::steady_clock::now() - firstAsked, gap);
  EXPECT_EQ(jwks.fetches(), 3u);
  EXPECT_EQ(server_.requests(), 3);
}

TEST_F(RemoteJwksTest, RetriesAfterAFailureUntilItGetsASet) {
  server_.reply({.status = 503, .body = "{}"});
  auto& jwks = start({.refreshInterval = 50ms});
  ASSERT_TRUE(eventually([&] { return counted("error") >= 2; }));
  EXPECT_EQ(jwks.current(), nullptr);
  server_.serve(jwksOf({makeJwk("k1")}));
  ASSERT_TRUE(eventually([&] { return hasKey("k1"); }));
  EXPECT_EQ(counted("ok"), 1);
  const auto lines = log_->lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.front().find("HTTP status 503"), std::string::npos) << lines.front();
  EXPECT_NE(lines.front().find("no keys yet"), std::string::npos) << lines.front();
}

TEST_F(RemoteJwksTest, ANonHttpsUriCountsErrorsAndNeverHasKeys) {
  auto& jwks = start({}, "http://localhost/jwks.json");
  ASSERT_TRUE(awaitFetches(1));
  EXPECT_EQ(jwks.current(), nullptr);
  EXPECT_EQ(counted("error"), 1);
  EXPECT_EQ(server_.requests(), 0);
  const auto lines = log_->lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("https"), std::string::npos) << lines[0];
}

TEST_F(RemoteJwksTest, StopWhileAFetchHangsReturnsPromptlyAndNothingRunsAfterIt) {
  server_.reply({.behavior = JwksServer::Behavior::HangAfterRequest});
  auto& jwks = start({.fetchTimeout = 60s});
  ASSERT_TRUE(eventually([&] { return server_.requests() == 1; }));

  const auto before = std::chrono::steady_clock::now();
  jwks.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);
  // The loop ends and lets go of the fetcher: with the work guard gone the context runs dry.
  work_.reset();
  ASSERT_TRUE(eventually([&] { return contextDone_.load(); }, 5s));
  EXPECT_EQ(jwks_.use_count(), 1);
  EXPECT_EQ(jwks.fetches(), 0u);  // the aborted fetch is neither counted nor logged
  EXPECT_EQ(counted("ok") + counted("error"), 0);
  EXPECT_TRUE(log_->lines().empty());
  jwks.unknownKeyId();  // after stop: nothing
  jwks.start();
  EXPECT_EQ(jwks_.use_count(), 1);
}

TEST_F(RemoteJwksTest, StopDuringTheTlsHandshakeAndBeforeAnyFetch) {
  server_.reply({.behavior = JwksServer::Behavior::HangBeforeTls});
  auto& jwks = start({.fetchTimeout = 60s});
  auto idle = std::make_shared<RemoteJwks>(context_, server_.uri(), RemoteJwksSettings{}, nullptr,
                                           server_.clientTls());
  idle->stop();  // never started
  jwks.unknownKeyId();
  jwks.stop();
  jwks.stop();  // idempotent
  work_.reset();
  ASSERT_TRUE(eventually([&] { return contextDone_.load(); }, 5s));
  EXPECT_EQ(jwks_.use_count(), 1);
  EXPECT_EQ(jwks.fetches(), 0u);
  EXPECT_EQ(jwks.current(), nullptr);
}

// A fetch that fails in one way, after a good one.
enum class Failure {
  Status500,
  BadJson,
  NotAKeySet,
  BodyTooLarge,
  CertificateForAnotherName,
  UntrustedCa,
  NeverAnswers,
  AnswersTooSlowly,
};

struct FailureCase {
  Failure failure;
  const char* name;
  const char* reason;  // in the warning line
};

class RemoteJwksFailureTest : public RemoteJwksTest,
                              public ::testing::WithParamInterface<FailureCase> {};

TEST_P(RemoteJwksFailureTest, KeepsTheLastGoodSetAndCountsAnError) {
  const auto k1 = makeJwk("k1");
  server_.serve(jwksOf({k1}));
  auto& jwks = start({.refreshInterval = 1h, .fetchTimeout = 1s, .minRefetchGap = 0ms});
  ASSERT_TRUE(eventually([&] { return hasKey("k1"); }));
  const auto good = jwks.current();

  const auto k2 = makeJwk("k2");
  const std::string rotated = jwksOf({k2});
  using Server = JwksServer;
  switch (GetParam().failure) {
    case Failure::Status500:
      server_.reply({.status = 500, .body = rotated});
      break;
    case Failure::BadJson:
      server_.serve(rotated.substr(0, rotated.size() - 3));
      break;
    case Failure::NotAKeySet:
      server_.serve(R"({"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k2","x":"!!"}]})");
      break;
    case Failure::BodyTooLarge:
      server_.serve(rotated + std::string(RemoteJwks::kMaxBodyBytes, ' '));
      break;
    case Failure::CertificateForAnotherName:
      server_.reply({.body = rotated, .certificate = Server::Certificate::ForAnotherName});
      break;
    case Failure::UntrustedCa:
      server_.reply({.body = rotated, .certificate = Server::Certificate::FromUntrustedCa});
      break;
    case Failure::NeverAnswers:
      server_.reply({.body = rotated, .behavior = Server::Behavior::HangBeforeTls});
      break;
    case Failure::AnswersTooSlowly:
      server_.reply({.body = rotated, .behavior = Server::Behavior::HangAfterRequest});
      break;
  }
  jwks.unknownKeyId();
  ASSERT_TRUE(awaitFetches(2));

  EXPECT_EQ(jwks.current(), good);
  EXPECT_TRUE(hasKey("k1"));
  EXPECT_FALSE(hasKey("k2"));
  EXPECT_EQ(counted("ok"), 1);
  EXPECT_EQ(counted("error"), 1);
  const auto lines = log_->lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(jwks.uri()), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(GetParam().reason), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("keeping the last good set"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find(k2.x), std::string::npos) << "key material in the log";
  EXPECT_EQ(lines[0].find(k1.x), std::string::npos) << "key material in the log";
}

INSTANTIATE_TEST_SUITE_P(
    RemoteJwks, RemoteJwksFailureTest,
    ::testing::Values(FailureCase{Failure::Status500, "Status500", "HTTP status 500"},
                      FailureCase{Failure::BadJson, "BadJson", "bad JWKS"},
                      FailureCase{Failure::NotAKeySet, "NotAKeySet", "bad JWKS"},
                      FailureCase{Failure::BodyTooLarge, "BodyTooLarge", "over 1048576 bytes"},
                      FailureCase{Failure::CertificateForAnotherName, "CertificateForAnotherName",
                                  "server certificate refused"},
                      FailureCase{Failure::UntrustedCa, "UntrustedCa",
                                  "server certificate refused"},
                      FailureCase{Failure::NeverAnswers, "NeverAnswers", "timed out"},
                      FailureCase{Failure::AnswersTooSlowly, "AnswersTooSlowly", "timed out"}),
    [](const ::testing::TestParamInfo<FailureCase>& info) { return info.param.name; });

}  // namespace
}  // namespace meshgate::dp
