// The listener and threads of an AdmissionServer.
//
// Threading: one io_context run by `threads` threads, each connection on a strand of its own.
// The work per request (TLS record decryption, JSON decode, the handler's patch) is CPU-bound and
// arrives on a few long-lived apiserver connections; with a shared queue an idle thread picks up
// whichever connection has work, whereas an io_context per thread would pin each connection to
// one thread and leave the others idle when the apiserver happens to favour one connection.
#include "webhook/server/admission_server.h"

#include <algorithm>
#include <future>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "metrics/bind_address.h"
#include "webhook/server/admission_session.h"

namespace meshgate::webhook {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// After a failed accept (out of file descriptors, typically) retrying at once would spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
}  // namespace

/**
 * What exists between start() and stop(). Declaration order matters: the io_context is destroyed
 * after the acceptor and before `phase`, and destroying it destroys the handlers still pending —
 * and with them the sessions, whose sockets close then. accept(), onAccept(), closeListener() and
 * shutdown() run on the acceptor's strand.
 */
struct AdmissionServer::Running {
  Running(AdmissionServer& server, std::size_t threadCount)
      : server(server),
        limits{server.options_.handshakeTimeout, server.options_.readTimeout,
               server.options_.writeTimeout, server.options_.maxBodyBytes},
        ioc(static_cast<int>(threadCount)) {}

  void accept() {
    // Once drain() has closed the acceptor, accepting again would fail and retry forever.
    if (!acceptor.is_open()) return;
    acceptor.async_accept(asio::make_strand(ioc),
                          [this](boost::system::error_code ec, tcp::socket socket) {
                            onAccept(ec, std::move(socket));
                          });
  }

  void onAccept(boost::system::error_code ec, tcp::socket socket) {
    // The acceptor was closed by shutdown().
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      spdlog::warn("admission server: accept: {}", ec.message());
      acceptRetry.expires_after(kAcceptRetryDelay);
      acceptRetry.async_wait([this](boost::system::error_code waitError) {
        if (!waitError) accept();
      });
      return;
    }
    std::shared_ptr<AdmissionSession> session;
    {
      std::lock_guard lock(server.sessionsMutex_);
      std::erase_if(server.sessions_, [](const auto& weak) { return weak.expired(); });
      if (server.sessions_.size() < server.options_.maxConnections) {
        // Requests and responses are single small writes: without TCP_NODELAY a response split
        // across TLS records can wait on the client's delayed ACK.
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        session =
            std::make_shared<AdmissionSession>(std::move(socket), server.certificate_.current(),
                                               server.handler_, limits, phase, [&server = server] {
                                                 std::lock_guard ended(server.sessionsMutex_);
                                                 server.sessionEnded_.notify_all();
                                               });
        server.sessions_.push_back(session);
      }
    }
    if (session) {
      session->start();
    } else {
      spdlog::debug("admission server: {} connections open, refusing another",
                    server.options_.maxConnections);
      boost::system::error_code ignored;
      socket.close(ignored);
    }
    accept();
  }

  void closeListener() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    acceptRetry.cancel();
  }

  void shutdown() {
    closeListener();
    // Sessions are not closed one by one: each belongs to its own strand, possibly busy on another
    // thread. Stopping the io_context and destroying it afterwards closes them all.
    ioc.stop();
  }

  AdmissionServer& server;
  const AdmissionSessionLimits limits;
  std::atomic<ServingPhase> phase{ServingPhase::kServing};
  asio::io_context ioc;
  tcp::acceptor acceptor{asio::make_strand(ioc)};
  asio::steady_timer acceptRetry{acceptor.get_executor()};
  std::vector<std::thread> threads;
};

AdmissionServer::AdmissionServer(AdmissionServerOptions options, ServingCertificate& certificate,
                                 HttpHandler handler)
    : options_(std::move(options)), certificate_(certificate), handler_(std::move(handler)) {}

AdmissionServer::~AdmissionServer() {
  stop();
}

meshgate::Expected<unsigned short, std::string> AdmissionServer::start() {
  if (options_.threads == 0) return std::string("admission server: threads must be at least 1");
  auto endpoint = metrics::parseBindAddress(options_.bindAddress);
  if (!endpoint) return "admission server: " + endpoint.error();

  std::lock_guard lock(mutex_);
  if (running_) return std::string("admission server already started");

  auto running = std::make_unique<Running>(*this, options_.threads);
  auto listening = metrics::listenOn(running->acceptor, *endpoint);
  if (!listening) return "admission server: " + listening.error();
  const tcp::endpoint bound = *listening;

  running->accept();
  for (std::size_t i = 0; i < options_.threads; ++i) {
    running->threads.emplace_back([r = running.get()] {
      // Sessions catch what the handler throws; should anything else throw, keep serving rather
      // than terminate the process.
      for (;;) {
        try {
          r->ioc.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("admission server: uncaught exception: {}", e.what());
        }
      }
    });
  }
  running_ = std::move(running);
  spdlog::info("admission server listening on {}:{} ({} threads)", bound.address().to_string(),
               bound.port(), options_.threads);
  return bound.port();
}

void AdmissionServer::drain(std::chrono::milliseconds deadline) {
  const auto giveUpAt = std::chrono::steady_clock::now() + deadline;
  {
    // Held until the sessions below are released: stop() must not destroy the io_context while
    // they are referenced from here.
    std::lock_guard lock(mutex_);
    if (!running_) return;
    Running& running = *running_;
    // Set before anything else, so that a session reading it afterwards behaves as drained and
    // one that read it before gets closeIfIdle() below.
    running.phase.store(ServingPhase::kDraining);

    // Waited for, so that no session is accepted after the ones told below. The wait is bounded:
    // the threads may all be busy in the handler.
    auto closed = std::make_shared<std::promise<void>>();
    auto listenerClosed = closed->get_future();
    asio::post(running.acceptor.get_executor(), [&running, closed] {
      running.closeListener();
      closed->set_value();
    });
    listenerClosed.wait_until(giveUpAt);

    // Released outside sessionsMutex_: the last reference to a session may be dropped with it, and
    // the session's destructor takes that mutex.
    std::vector<std::shared_ptr<AdmissionSession>> open;
    {
      std::lock_guard sessionsLock(sessionsMutex_);
      for (const auto& weak : sessions_) {
        if (auto session = weak.lock()) open.push_back(std::move(session));
      }
    }
    for (const auto& session : open)
      session->closeIfIdle();
  }
  {
    std::unique_lock lock(sessionsMutex_);
    sessionEnded_.wait_until(lock, giveUpAt, [this] {
      return std::ranges::all_of(sessions_, [](const auto& weak) { return weak.expired(); });
    });
  }
  stop();
}

void AdmissionServer::stop() {
  std::lock_guard lock(mutex_);
  if (!running_) return;
  running_->phase.store(ServingPhase::kStopping);
  asio::post(running_->acceptor.get_executor(), [r = running_.get()] { r->shutdown(); });
  for (auto& thread : running_->threads)
    thread.join();
  running_.reset();
  std::lock_guard sessionsLock(sessionsMutex_);
  sessions_.clear();
}

std::size_t AdmissionServer::activeConnections() const {
  std::lock_guard lock(sessionsMutex_);
  return static_cast<std::size_t>(std::count_if(sessions_.begin(), sessions_.end(),
                                                [](const auto& weak) { return !weak.expired(); }));
}

}  // namespace meshgate::webhook
