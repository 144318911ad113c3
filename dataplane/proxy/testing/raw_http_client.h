// RawHttpClient: the client end of the proxy's request-path tests (request_path_test.cc). A plain
// socket to the proxy on loopback that writes raw bytes — in as many pieces as the test likes, so
// it can wait between a head and its body — and reads raw bytes back. Every call is bounded by a
// deadline (5 s unless told), so a proxy that does not answer fails the test instead of hanging
// it. readResponse() takes one response off the stream, interim 1xx ones included, framed by its
// own head (so a wrong Content-Length shows up in the next response or at the close);
// readUntilClosed() takes everything up to the proxy's close. Header-only, test code, used on the
// test thread only.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/ascii.h"
#include "dataplane/http/chunked_decoder.h"
#include "dataplane/http/http1_parser.h"
#include "dataplane/proxy/testing/loopback_client_socket.h"

namespace meshgate::dp::testing {

// One response as it came off the wire.
struct RawResponse {
  unsigned status = 0;
  std::string statusLine;                                    // "HTTP/1.1 404 Not Found"
  std::string head;                                          // the raw head, through the empty line
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  std::string body;  // the body's raw bytes (chunked framing included)

  // The first value of header `name` (lower case), or nullopt.
  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (n == name) return v;
    return std::nullopt;
  }
  size_t headerCount(std::string_view name) const {
    size_t count = 0;
    for (const auto& [n, v] : headers)
      count += n == name ? 1 : 0;
    return count;
  }
};

// What arrived before the connection ended (or the deadline passed).
struct RawTail {
  std::string bytes;
  bool closed = false;  // the proxy closed the connection (FIN or reset); false: deadline
};

class RawHttpClient {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RawHttpClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : timeout_(timeout) {
    fd_ = connectToLoopback(port, Clock::now() + timeout_, error_);
  }
  ~RawHttpClient() { closeSocket(); }
  RawHttpClient(const RawHttpClient&) = delete;
  RawHttpClient& operator=(const RawHttpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // What the last failed call ran into ("connect: Connection refused", "read: timed out", …).
  const std::string& error() const { return error_; }

  // Writes all of `bytes`; false on an error or the deadline.
  bool send(std::string_view bytes) {
    const auto deadline = Clock::now() + timeout_;
    while (!bytes.empty()) {
      if (fd_ < 0) return fail("write", "not connected");
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return fail("write");
      if (!pollUntil(fd_, POLLOUT, deadline)) return fail("write", "timed out");
    }
    return true;
  }

  // Half-close: the proxy reads the end of the stream; the client can still read.
  void shutdownSend() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
  }
  void close() { closeSocket(); }

  // The next response on the stream (an interim 1xx is one too); `requestMethod` is the method
  // of the request it answers (a response to HEAD has no body). nullopt, with error() set, when
  // the bytes are not a response, the connection ends first, or the deadline passes. A body that
  // runs until the close is read until the close.
  std::optional<RawResponse> readResponse(std::string_view requestMethod = "GET") {
    const auto deadline = Clock::now() + timeout_;
    http::ResponseHead head;
    for (;;) {
      const http::ParseStatus status =
          http::parseResponseHead(buffer_, requestMethod, http::Limits{}, head);
      if (status == http::ParseStatus::Complete) break;
      if (status != http::ParseStatus::NeedMore)
        return failed("parse response head: " + std::string(http::describe(status)));
      if (!readMore(deadline)) return std::nullopt;
    }
    RawResponse response;
    response.status = head.status;
    response.head = buffer_.substr(0, head.headBytes);
    response.statusLine = response.head.substr(0, response.head.find("\r\n"));
    for (const auto& header : head.headers)
      response.headers.emplace_back(asciiLower(std::string(header.name)),
                                    std::string(header.value));
    const http::BodyFraming framing = head.framing;
    const uint64_t contentLength = head.contentLength;
    buffer_.erase(0, head.headBytes);  // head's views die here

    size_t bodyBytes = 0;
    switch (framing) {
      case http::BodyFraming::None:
        break;
      case http::BodyFraming::ContentLength:
        while (buffer_.size() < contentLength)
          if (!readMore(deadline)) return std::nullopt;
        bodyBytes = static_cast<size_t>(contentLength);
        break;
      case http::BodyFraming::Chunked: {
        http::ChunkedDecoder decoder;
        size_t scanned = 0;
        for (;;) {
          const auto result = decoder.consume(std::string_view(buffer_).substr(scanned));
          if (result.status == http::ChunkedDecoder::Status::Error)
            return failed("chunked body: " + std::string(decoder.error()));
          scanned += result.consumed;
          if (result.status == http::ChunkedDecoder::Status::Done) break;
          if (!readMore(deadline)) return std::nullopt;
        }
        bodyBytes = scanned;
        break;
      }
      case http::BodyFraming::UntilClose: {
        const RawTail tail = readUntilClosed();
        if (!tail.closed) return std::nullopt;
        buffer_ = tail.bytes;
        bodyBytes = buffer_.size();
        break;
      }
    }
    response.body = buffer_.substr(0, bodyBytes);
    buffer_.erase(0, bodyBytes);
    return response;
  }

  // Everything not read yet, up to the proxy's close or the deadline.
  RawTail readUntilClosed() {
    const auto deadline = Clock::now() + timeout_;
    while (readMore(deadline)) {
    }
    RawTail tail{std::move(buffer_), peerClosed_};
    buffer_.clear();
    return tail;
  }

 private:
  // Appends what arrives to buffer_; false on the close, an error or the deadline.
  bool readMore(Clock::time_point deadline) {
    if (peerClosed_) return fail("read", "connection closed by the proxy");
    for (;;) {
      if (fd_ < 0) return fail("read", "not connected");
      char chunk[16 * 1024];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<size_t>(n));
        return true;
      }
      if (n == 0 || errno == ECONNRESET) {
        peerClosed_ = true;
        return fail("read", n == 0 ? "connection closed by the proxy" : "connection reset");
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return fail("read");
      if (!pollUntil(fd_, POLLIN, deadline)) return fail("read", "timed out");
    }
  }

  // Waits until the socket is ready for `events`; false at the deadline.
  bool fail(std::string_view what, std::string_view why = {}) {
    error_ = std::string(what) + ": " + (why.empty() ? std::strerror(errno) : std::string(why));
    return false;
  }
  std::optional<RawResponse> failed(std::string why) {
    error_ = std::move(why);
    return std::nullopt;
  }
  void closeSocket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buffer_;  // received, not yet taken
  bool peerClosed_ = false;
  std::string error_;
};

}  // namespace meshgate::dp::testing
