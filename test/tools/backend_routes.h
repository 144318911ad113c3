// The routes of meshgate-test-backend (test_backend.cc): what to answer to one request, without
// any I/O, so the connection code only has to carry out the plan (delay, chunking, close).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include <boost/beast/http.hpp>

namespace meshgate::testtools {

// State shared by every connection of one backend (atomics: --threads N runs handlers in
// parallel).
struct BackendState {
  std::string name;
  std::atomic<bool> healthy{true};
  // Set by POST /control/errors?state=on: every other request is answered 503.
  std::atomic<bool> failing{false};
  // Requests read so far, except the /requests queries themselves, so a test can ask twice and
  // get the same figure. gRPC calls over HTTP/2 count too.
  std::atomic<std::uint64_t> requests{0};
  // What grpc.health.v1.Health/Check answers over HTTP/2: SERVING, or NOT_SERVING after
  // --grpc-health NOT_SERVING or POST /control/health?state=not_serving.
  std::atomic<bool> grpcServing{true};
  // gRPC calls seen per x-fail-key (backend_http2.cc: the first x-fail-times calls of a key fail).
  std::mutex failKeysMutex;
  std::unordered_map<std::string, std::uint64_t> callsByFailKey;
};

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// The answer to one request: the response, plus how the connection code must send it.
struct Reply {
  Response response;
  std::chrono::milliseconds delay{0};  // /delay: wait this long before sending (async timer)
  std::size_t chunks = 0;              // /chunked: send the body in this many chunks (0: not)
  bool close = false;                  // /close, or the client asked: close after sending
};

// True when the request is a WebSocket upgrade for /ws (served by the connection code).
bool isWebSocketRequest(const Request& request);

// Builds the reply for a (non-WebSocket) request and counts it in state.requests. Never throws
// on bad input: bad query values give 400.
Reply route(const Request& request, BackendState& state);

// The body /bytes and /chunked send: a repeating a..z pattern, so a test can check order.
std::string patternBody(std::size_t size);

}  // namespace meshgate::testtools
