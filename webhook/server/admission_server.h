// AdmissionServer is the HTTPS endpoint the kube-apiserver POSTs AdmissionReviews to (HTTP/1.1,
// keep-alive, many connections at once). meshgate-webhook's main() runs one, with the request
// router as its handler and the certificate from --cert-dir:
//
//   AdmissionServer server({.bindAddress = ":9443"}, *certificate, router);
//   auto port = server.start();
//   ...  // SIGTERM
//   server.drain(std::chrono::seconds(10));
//
// When it is slow or down the cluster cannot create pods, hence deadlines on every step, a cap on
// connections and a handler that cannot take the server down by throwing.
//
// drain() is for a replica going away (a rolling update): the apiserver keeps sending requests
// over its open keep-alive connections, and a request cut mid-way fails the admission, whereas
// one refused before its first byte is resent on another connection. So drain() lets the started
// requests finish with `Connection: close` and closes the idle connections at once, as
// controller-runtime's webhook server (Go's http.Server.Shutdown) does.
#pragma once

#include <chrono>
#include <condition_variable>
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
 * start(), drain(), stop() and activeConnections() are thread-safe; start(), drain() and stop()
 * must not be called from the handler. The server may be started again after stop() or drain().
 * `certificate` and `handler` must outlive the server.
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

  // Closes the listener and every connection, requests in flight included (a response the handler
  // returns afterwards is dropped), and joins the threads. Does nothing when not started.
  void stop();

  // Closes the listener at once, then lets every connection end: one waiting for its next request
  // closes at once; one with a request started (bytes of it received, the handler running, the
  // response being written) closes after answering it with `Connection: close`; one accepted but
  // yet to send its first request is owed that request, as the client has no other use for it
  // and does not resend a request that fails on a new connection. Returns once no connection is
  // left or `deadline` has passed, after doing what stop() does. Does nothing when not started.
  void drain(std::chrono::milliseconds deadline);

  // Connections accepted and not yet closed.
  std::size_t activeConnections() const;

 private:
  struct Running;

  const AdmissionServerOptions options_;
  ServingCertificate& certificate_;
  const HttpHandler handler_;

  std::mutex mutex_;
  std::unique_ptr<Running> running_;  // guarded by mutex_

  // The open connections, for the cap, activeConnections() and drain(); entries expire as sessions
  // end and are pruned at each accept.
  mutable std::mutex sessionsMutex_;
  std::vector<std::weak_ptr<AdmissionSession>> sessions_;  // guarded by sessionsMutex_
  // Notified as each session ends, for drain().
  std::condition_variable sessionEnded_;
};

}  // namespace meshgate::webhook
