// AdmissionServer is the HTTPS endpoint the kube-apiserver POSTs AdmissionReviews to (HTTP/1.1,
// keep-alive, many connections at once). meshgate-webhook's main() runs one, with the request
// router as its handler and the certificate from --cert-dir:
//
//   AdmissionServer server({.bindAddress = ":9443"}, *certificate, router);
//   auto port = server.start();
//
// When it is slow or down the cluster cannot create pods, hence deadlines on every step, a cap on
// connections and a handler that cannot take the server down by throwing.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/expected.h"
#include "webhook/server/http_handler.h"
#include "webhook/server/serving_certificate.h"

namespace meshgate::webhook {

class AdmissionSession;

struct AdmissionServerOptions {
  // "127.0.0.1:9443", "[::1]:0", ":9443" (every IPv4 interface); see metrics/bind_address.h.
  std::string bindAddress = ":9443";
  // Threads running the handshakes, the parsing and the handler; at least 1.
  std::size_t threads = 2;
  // For the TLS handshake after the accept: a client that connects and says nothing is dropped.
  std::chrono::milliseconds handshakeTimeout{5000};
  // To receive one whole request, idle keep-alive wait included.
  std::chrono::milliseconds readTimeout{10000};
  std::chrono::milliseconds writeTimeout{10000};
  // The apiserver's own limit on an AdmissionReview request; larger bodies are answered 413.
  std::size_t maxBodyBytes = 3 * 1024 * 1024;
  // Connections beyond this are closed as soon as they are accepted.
  std::size_t maxConnections = 1024;
};

/**
 * start(), stop() and activeConnections() are thread-safe; start() and stop() must not be called
 * from the handler. The server may be started again after stop(). `certificate` and `handler`
 * must outlive the server.
 */
class AdmissionServer {
 public:
  AdmissionServer(AdmissionServerOptions options, ServingCertificate& certificate,
                  HttpHandler handler);
  // Stops the server.
  ~AdmissionServer();
  AdmissionServer(const AdmissionServer&) = delete;
  AdmissionServer& operator=(const AdmissionServer&) = delete;

  // Listens on options.bindAddress and starts the threads. Returns the bound port (the ephemeral
  // one for port 0) or why it cannot listen.
  meshgate::Expected<unsigned short, std::string> start();

  // Closes the listener and every connection, requests in flight included, and joins the threads.
  // Does nothing when not started.
  void stop();

  // Connections accepted and not yet closed.
  std::size_t activeConnections() const;

 private:
  struct Running;

  const AdmissionServerOptions options_;
  ServingCertificate& certificate_;
  const HttpHandler handler_;

  std::mutex mutex_;
  std::unique_ptr<Running> running_;  // guarded by mutex_

  // The open connections, for the cap and activeConnections(); entries expire as sessions end and
  // are pruned at each accept.
  mutable std::mutex sessionsMutex_;
  std::vector<std::weak_ptr<AdmissionSession>> sessions_;  // guarded by sessionsMutex_
};

}  // namespace meshgate::webhook
