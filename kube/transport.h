// Transport is the seam between the REST client and the network: one HTTP exchange, or one
// streamed response for watches. BeastTransport is the real one; unit tests substitute a fake.
// Implementations are thread-safe: many workers call roundTrip() at once.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "kube/result.h"

namespace kube {

struct HttpRequest {
  std::string method = "GET";
  std::string target;  // path and query, already escaped: /api/v1/namespaces/a/pods?limit=5
  std::string contentType;
  std::string accept = "application/json";
  std::string body;
  std::chrono::milliseconds timeout{0};  // 0: the transport's default
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string header(const std::string& lowerName) const {
    auto it = headers.find(lowerName);
    return it == headers.end() ? std::string() : it->second;
  }
};

// A response whose body arrives over time (a watch). The status was 2xx: errors before the body
// are returned by Transport::stream() instead.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Blocks until body bytes arrive; an empty string means the body ended cleanly. Fails with
  // isTimeout() when no byte arrives within `idleTimeout`, isNetwork() on a network error, and
  // isCancelled() after cancel().
  virtual Result<std::string> read(std::chrono::milliseconds idleTimeout) = 0;
  // Callable from any thread; a blocked read() returns promptly with an isCancelled() error.
  virtual void cancel() = 0;
};
using ResponseStreamPtr = std::unique_ptr<ResponseStream>;

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<HttpResponse> roundTrip(const HttpRequest& request) = 0;
  virtual Result<ResponseStreamPtr> stream(const HttpRequest& request) = 0;
};
using TransportPtr = std::unique_ptr<Transport>;
using TransportSharedPtr = std::shared_ptr<Transport>;

}  // namespace kube
