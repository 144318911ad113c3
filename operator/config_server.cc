// The listener, TLS credentials and threads of the ConfigServer; see config_server.h.
//
// Threading: one io_context run by `threads` threads, each connection on a strand of its own, as
// in the webhook's AdmissionServer. Snapshot notifications arrive on the publisher's thread; they
// are posted to the io_context, where the open sessions are told, each on its own strand.
#include "operator/config_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "metrics/bind_address.h"
#include "operator/config_session.h"
#include "pki/certificate.h"
#include "pki/openssl_error.h"
#include "pki/private_key.h"

namespace meshgate::op {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// After a failed accept (out of file descriptors, typically) retrying at once would spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
// How long stop() lets the sessions end on their own threads before destroying what is left.
constexpr auto kStopTimeout = std::chrono::seconds(2);

// TLS 1.2 suites of Mozilla's "intermediate" profile: forward secret AEAD only. TLS 1.3 keeps
// OpenSSL's defaults, which are all of that kind.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// A server context for `credentials`, or why they do not load.
meshgate::Expected<std::shared_ptr<ssl::context>, std::string> buildContext(
    const ConfigServerCredentials& credentials) {
  auto chain = pki::parseCertificates(credentials.certificatePem);
  if (!chain) return "certificate: " + chain.error().message;
  const pki::Certificate& leaf = chain->front();
  if (leaf.notAfter() <= std::chrono::system_clock::now()) {
    return "certificate: serial " + leaf.serialHex() + " has expired";
  }
  auto key = pki::PrivateKey::fromPem(credentials.privateKeyPem);
  if (!key) return "private key: " + key.error().message;
  if (!leaf.matchesKey(*key)) {
    return "private key: it does not belong to the certificate (serial " + leaf.serialHex() + ")";
  }
  auto roots = pki::parseCertificates(credentials.trustBundlePem);
  if (!roots) return "trust bundle: " + roots.error().message;

  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // No resumption: every connection presents and verifies its client certificate, and a context
  // replaced by setCredentials() could not open its predecessor's tickets anyway.
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  // Thousands of mostly idle connections: OpenSSL's 16 KiB read and write buffers are given
  // back between records instead of being held by every connection.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_num_tickets(native, 0);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return "setting the TLS 1.2 cipher list: " + pki::drainOpenSslErrors();
  }
  if (SSL_CTX_use_certificate(native, leaf.get()) != 1)
    return "certificate: " + pki::drainOpenSslErrors();
  for (std::size_t i = 1; i < chain->size(); ++i) {
    if (SSL_CTX_add1_chain_cert(native, (*chain)[i].get()) != 1) {
      return "certificate: chain certificate " + std::to_string(i) + ": " +
             pki::drainOpenSslErrors();
    }
  }
  if (SSL_CTX_use_PrivateKey(native, key->get()) != 1 || SSL_CTX_check_private_key(native) != 1) {
    return "private key: it does not belong to the certificate: " + pki::drainOpenSslErrors();
  }

  X509_STORE* store = SSL_CTX_get_cert_store(native);
  for (const auto& root : *roots) {
    if (X509_STORE_add_cert(store, root.get()) != 1) {
      return "trust bundle: certificate " + root.subjectName() + ": " + pki::drainOpenSslErrors();
    }
    // Named in the CertificateRequest, so that a client holding several identities picks ours.
    SSL_CTX_add_client_CA(native, root.get());
  }
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return context;
}

}  // namespace

/**
 * What exists between start() and stop(). Declaration order matters: the io_context is destroyed
 * after the acceptor, and destroying it destroys the handlers still pending — and with them the
 * sessions, whose sockets close then. accept(), onAccept() and closeListener() run on the
 * acceptor's strand.
 */
struct ConfigServer::Running {
  Running(ConfigServer& server, std::size_t threadCount)
      : server(server), ioc(static_cast<int>(threadCount)) {}

  void accept() {
    // Once stop() has closed the acceptor, accepting again would fail and retry forever.
    if (!acceptor.is_open()) return;
    acceptor.async_accept(asio::make_strand(ioc),
                          [this](boost::system::error_code ec, tcp::socket socket) {
                            onAccept(ec, std::move(socket));
                          });
  }

  void onAccept(boost::system::error_code ec, tcp::socket socket) {
    // The acceptor was closed by closeListener().
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      spdlog::warn("config server: accept: {}", ec.message());
      acceptRetry.expires_after(kAcceptRetryDelay);
      acceptRetry.async_wait([this](boost::system::error_code waitError) {
        if (!waitError) accept();
      });
      return;
    }
    auto tls = server.currentTls();
    std::shared_ptr<ConfigSession> session;
    if (tls) {
      std::lock_guard lock(server.sessionsMutex_);
      std::erase_if(server.sessions_, [](const auto& weak) { return weak.expired(); });
      if (!closing && server.sessions_.size() < server.options_.maxConnections) {
        // Snapshots are single writes that nothing follows: don't let Nagle hold their tail.
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        try {
          session =
              std::make_shared<ConfigSession>(std::move(socket), std::move(tls), server.options_,
                                              server.source_, server.registry_, [&server = server] {
                                                std::lock_guard ended(server.sessionsMutex_);
                                                server.sessionEnded_.notify_all();
                                              });
          server.sessions_.push_back(session);
        } catch (const std::exception& e) {
          // No SSL object (out of memory): this connection is dropped, the server goes on.
          spdlog::warn("config server: dropping a connection: {}", e.what());
        }
      }
    }
    if (session) {
      session->start();
    } else {
      spdlog::debug("config server: refusing a connection: {}",
                    tls ? "too many connections" : "no credentials yet");
      boost::system::error_code ignored;
      socket.close(ignored);
    }
    accept();
  }

  // Runs on an io_context thread after the SnapshotSource notified.
  void broadcast() {
    std::vector<std::shared_ptr<ConfigSession>> open;
    {
      std::lock_guard lock(server.sessionsMutex_);
      open.reserve(server.sessions_.size());
      for (const auto& weak : server.sessions_) {
        if (auto session = weak.lock()) open.push_back(std::move(session));
      }
    }
    for (const auto& session : open)
      session->snapshotsChanged();
  }

  void closeListener() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    acceptRetry.cancel();
  }

  ConfigServer& server;
  asio::io_context ioc;
  tcp::acceptor acceptor{asio::make_strand(ioc)};
  asio::steady_timer acceptRetry{acceptor.get_executor()};
  std::vector<std::thread> threads;
  // Set by stop(): no session is created any more. Guarded by server.sessionsMutex_.
  bool closing = false;

  // The SnapshotSource's listener posts broadcast() while `notifying`; stop() clears it (under
  // notifyMutex) before the io_context goes, so a late notification posts nothing.
  std::mutex notifyMutex;
  bool notifying = true;
  SubscriptionPtr subscription;
};

ConfigServer::ConfigServer(ConfigServerOptions options, SnapshotSource& source,
                           DataplaneRegistry& registry)
    : options_(std::move(options)), source_(source), registry_(registry) {}

ConfigServer::~ConfigServer() {
  stop();
}

std::string ConfigServer::setCredentials(const ConfigServerCredentials& credentials) {
  auto context = buildContext(credentials);
  if (!context) {
    spdlog::warn("config server: credentials refused, {}: {}",
                 hasCredentials() ? "the previous ones keep serving" : "none are serving",
                 context.error());
    return context.error();
  }
  std::lock_guard lock(tlsMutex_);
  tls_ = std::move(*context);
  return {};
}

bool ConfigServer::hasCredentials() const {
  std::lock_guard lock(tlsMutex_);
  return tls_ != nullptr;
}

std::shared_ptr<ssl::context> ConfigServer::currentTls() const {
  std::lock_guard lock(tlsMutex_);
  return tls_;
}

meshgate::Expected<unsigned short, std::string> ConfigServer::start() {
  if (options_.threads == 0) return std::string("config server: threads must be at least 1");
  auto endpoint = metrics::parseBindAddress(options_.bindAddress);
  if (!endpoint) return "config server: " + endpoint.error();

  std::lock_guard lock(mutex_);
  if (running_) return std::string("config server already started");

  auto running = std::make_unique<Running>(*this, options_.threads);
  auto listening = metrics::listenOn(running->acceptor, *endpoint);
  if (!listening) return "config server: " + listening.error();
  const tcp::endpoint bound = *listening;

  running->subscription = source_.subscribe([r = running.get()] {
    std::lock_guard notifyLock(r->notifyMutex);
    if (r->notifying) asio::post(r->ioc, [r] { r->broadcast(); });
  });
  running->accept();
  for (std::size_t i = 0; i < options_.threads; ++i) {
    running->threads.emplace_back([r = running.get()] {
      // Sessions log what escapes them; should anything else throw, keep serving rather than
      // terminate the process.
      for (;;) {
        try {
          r->ioc.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("config server: uncaught exception: {}", e.what());
        }
      }
    });
  }
  running_ = std::move(running);
  spdlog::info("config server listening on {}:{} ({} threads)", bound.address().to_string(),
               bound.port(), options_.threads);
  return bound.port();
}

void ConfigServer::stop() {
  std::lock_guard lock(mutex_);
  if (!running_) return;
  {
    std::lock_guard notifyLock(running_->notifyMutex);
    running_->notifying = false;
  }
  running_->subscription.reset();
  asio::post(running_->acceptor.get_executor(), [r = running_.get()] { r->closeListener(); });

  // Each session closes its socket on its strand, so its coroutines end and it reports its
  // disconnection on the server's threads, as any other end of a connection does.
  std::vector<std::shared_ptr<ConfigSession>> open;
  {
    std::lock_guard sessionsLock(sessionsMutex_);
    running_->closing = true;
    for (const auto& weak : sessions_) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
  }
  for (const auto& session : open)
    session->abort();
  // Released outside sessionsMutex_: the last reference may go with it, and onClosed takes it.
  open.clear();
  {
    std::unique_lock sessionsLock(sessionsMutex_);
    sessionEnded_.wait_for(sessionsLock, kStopTimeout, [this] {
      return std::ranges::all_of(sessions_, [](const auto& weak) { return weak.expired(); });
    });
  }

  // Whatever is left (threads all busy past the deadline) is destroyed with the io_context.
  running_->ioc.stop();
  for (auto& thread : running_->threads)
    thread.join();
  running_.reset();
  {
    std::lock_guard sessionsLock(sessionsMutex_);
    sessions_.clear();
  }
  spdlog::info("config server stopped");
}

std::size_t ConfigServer::activeConnections() const {
  std::lock_guard lock(sessionsMutex_);
  return static_cast<std::size_t>(std::count_if(sessions_.begin(), sessions_.end(),
                                                [](const auto& weak) { return !weak.expired(); }));
}

}  // namespace meshgate::op
