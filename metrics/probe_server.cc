// The listener and thread of a ProbeServer.
#include "metrics/probe_server.h"

#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "metrics/bind_address.h"
#include "metrics/probe_session.h"

namespace metrics {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// After a failed accept (out of file descriptors, typically) retrying at once would spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
}  // namespace

/**
 * What exists between start() and stop(). Declaration order matters: the io_context is destroyed
 * last, and destroying it destroys the handlers still pending — and with them the sessions.
 * Everything but the constructor runs on thread.
 */
struct ProbeServer::Running {
  Running(const ProbeHandler& handler, const ProbeServerOptions& options)
      : handler(handler),
        timeouts{options.readTimeout, options.writeTimeout},
        maxConnections(options.maxConnections) {}

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      onAccept(ec, std::move(socket));
    });
  }

  void onAccept(boost::system::error_code ec, tcp::socket socket) {
    // The acceptor was closed by shutdown().
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      spdlog::warn("probe server: accept: {}", ec.message());
      acceptRetry.expires_after(kAcceptRetryDelay);
      acceptRetry.async_wait([this](boost::system::error_code waitError) {
        if (!waitError) accept();
      });
      return;
    }
    std::erase_if(sessions, [](const auto& session) { return session.expired(); });
    if (sessions.size() >= maxConnections) {
      spdlog::debug("probe server: {} connections open, refusing another", sessions.size());
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      auto session = std::make_shared<ProbeSession>(std::move(socket), handler, timeouts);
      sessions.push_back(session);
      session->start();
    }
    accept();
  }

  void shutdown() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    acceptRetry.cancel();
    // Closing rather than abandoning the connections tells keep-alive clients at once.
    for (const auto& weak : sessions) {
      if (auto session = weak.lock()) session->close();
    }
    ioc.stop();
  }

  const ProbeHandler& handler;
  const ProbeSessionTimeouts timeouts;
  const std::size_t maxConnections;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer acceptRetry{ioc};
  // The open connections, to close them on stop; expired entries are pruned on accept.
  std::vector<std::weak_ptr<ProbeSession>> sessions;
  std::thread thread;
};

ProbeServer::ProbeServer(ProbeServerOptions options)
    : options_(std::move(options)), handler_(options_.routes) {}

ProbeServer::~ProbeServer() {
  stop();
}

meshgate::Expected<unsigned short, std::string> ProbeServer::start(std::string_view bindAddress) {
  auto endpoint = parseBindAddress(bindAddress);
  if (!endpoint) return endpoint.error();

  std::lock_guard lock(mutex_);
  if (running_) return std::string("probe server already started");

  auto running = std::make_unique<Running>(handler_, options_);
  auto listening = listenOn(running->acceptor, *endpoint);
  if (!listening) return "probe server: " + listening.error();
  const tcp::endpoint bound = *listening;

  running->accept();
  running->thread = std::thread([r = running.get()] {
    // Handlers do not throw by design; should one, keep serving rather than terminate the process.
    for (;;) {
      try {
        r->ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("probe server: handler threw: {}", e.what());
      }
    }
  });
  running_ = std::move(running);
  spdlog::info("probe server listening on {}:{}", bound.address().to_string(), bound.port());
  return bound.port();
}

void ProbeServer::stop() {
  std::lock_guard lock(mutex_);
  if (!running_) return;
  asio::post(running_->ioc, [r = running_.get()] { r->shutdown(); });
  running_->thread.join();
  running_.reset();
}

}  // namespace metrics
