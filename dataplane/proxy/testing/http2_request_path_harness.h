// Shared pieces of the HTTP/2 request-path tests (http2_request_path_test.cc,
// http2_request_body_test.cc, http2_local_reply_test.cc, http2_stream_lifecycle_test.cc): what
// the scripted HTTP/1.1 upstream received, parsed back (Received, parseReceived); an echoing
// upstream script; byte patterns for bodies and a readable first difference; a description of an
// HTTP/2 response for failure messages; raw HEADERS and RST_STREAM frames for floods; counting
// the upstream's requests; a listener's bound port; and DrainingProxy, a proxy whose drain a test
// starts. Header-only, test code.
#pragma once

#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <nghttp2/nghttp2.h>

#include "base/ascii.h"
#include "base/testing/eventually.h"
#include "dataplane/http/chunked_decoder.h"
#include "dataplane/http/http1_parser.h"
#include "dataplane/proxy/proxy_server.h"
#include "dataplane/proxy/testing/http2_client.h"
#include "dataplane/proxy/testing/raw_http_client.h"
#include "dataplane/proxy/testing/scripted_upstream.h"
#include "dataplane/proxy/testing/standalone_proxy.h"

namespace meshgate::dp::testing {

// A request as the upstream received it, its body without chunked framing.
struct Received {
  std::string method;
  std::string target;
  Http2Fields headers;  // names lowercased, in order
  http::BodyFraming framing = http::BodyFraming::None;
  std::string body;
  std::string trailers;  // a chunked body's trailer section, as sent
  std::string error;     // not a whole request

  std::optional<std::string> header(std::string_view name) const {
    return testing::findField(headers, name);
  }
  size_t headerCount(std::string_view name) const {
    size_t count = 0;
    for (const auto& [n, v] : headers)
      count += n == name ? 1 : 0;
    return count;
  }
};

class PayloadSink final : public http::ChunkedDecoder::Sink {
 public:
  void payload(std::string_view data) override { bytes.append(data); }
  void trailerText(std::string_view text) override { trailers.append(text); }
  std::string bytes;
  std::string trailers;
};

inline Received parseReceived(const std::string& raw) {
  Received out;
  http::RequestHead head;
  if (http::parseRequestHead(raw, http::Limits{}, head) != http::ParseStatus::Complete) {
    out.error = "not a request head";
    return out;
  }
  out.method = std::string(head.method);
  out.target = std::string(head.target);
  for (const auto& header : head.headers)
    out.headers.emplace_back(asciiLower(std::string(header.name)), std::string(header.value));
  out.framing = head.framing;
  const std::string_view body = std::string_view(raw).substr(head.headBytes);
  if (head.framing == http::BodyFraming::Chunked) {
    http::ChunkedDecoder decoder;
    PayloadSink sink;
    if (decoder.consume(body, &sink).status != http::ChunkedDecoder::Status::Done)
      out.error = "chunked body not whole";
    out.body = std::move(sink.bytes);
    out.trailers = std::move(sink.trailers);
  } else {
    out.body = std::string(body);
  }
  return out;
}

// The request line of `request` as the answer's body: the upstream echoes what it was asked.
inline std::string echoRequestLine(const std::string& request) {
  return okResponse(request.substr(0, request.find("\r\n")));
}

inline ConnectionScript echoing() {
  return ConnectionScript().respondWith(echoRequestLine).repeat();
}

// `size` bytes that differ from position to position (a shifted or lost piece shows).
inline std::string pattern(size_t size, unsigned seed = 1) {
  std::string out(size, '\0');
  uint32_t state = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; ++i) {
    state = state * 1103515245u + 12345u;
    out[i] = static_cast<char>('!' + (state >> 16) % 90);
  }
  return out;
}

// Where a received body first differs from what was sent (for a readable failure).
inline std::string firstDifference(const std::string& got, const std::string& expected) {
  if (got == expected) return "equal";
  size_t i = 0;
  while (i < got.size() && i < expected.size() && got[i] == expected[i])
    ++i;
  return "sizes " + std::to_string(got.size()) + " vs " + std::to_string(expected.size()) +
         ", first difference at byte " + std::to_string(i);
}

inline std::string describe(const Http2Response& response, const Http2Client& client) {
  return "status " + std::to_string(response.status) + ", closed " +
         (response.closed ? "yes" : "no") + ", error code " + std::to_string(response.errorCode) +
         ", client: " + client.error() +
         (client.protocolError().empty() ? "" : ", protocol error: " + client.protocolError());
}

// A HEADERS frame for GET `path` on app.test that ends its stream, HPACK-encoded without the
// dynamic table (literal fields without indexing), so any number of them can be sent raw.
inline std::string rawGet(int32_t stream, std::string_view path) {
  std::string block("\x82\x86", 2);  // :method GET, :scheme http
  block.push_back('\x04');           // :path, literal without indexing
  block.push_back(static_cast<char>(path.size()));
  block.append(path);
  block.append(
      "\x01\x08"
      "app.test");  // :authority
  return rawFrame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, stream,
                  block);
}

inline std::string rawReset(int32_t stream) {
  return rawFrame(NGHTTP2_RST_STREAM, 0, stream, std::string("\0\0\0\x08", 4));  // CANCEL
}

inline size_t countRequests(const ScriptedUpstream& upstream, std::string_view requestLinePrefix) {
  size_t count = 0;
  for (const auto& request : upstream.requests())
    count += request.starts_with(requestLinePrefix) ? 1 : 0;
  return count;
}

// The port of listener `name`, from /config_dump.
inline uint16_t listenerPort(StandaloneProxy& proxy, const std::string& name) {
  const auto dump = proxy.admin("/config_dump");
  if (!dump || dump->status != 200) return 0;
  return json::parse(dump->body)["boundPorts"][name].get<uint16_t>();
}

// ---- Drain -----------------------------------------------------------------------------------

// A ProxyServer as StandaloneProxy runs it, but with a drain deadline, and a drain the test
// starts (as SIGTERM does) and whose end it can see.
class DrainingProxy {
 public:
  explicit DrainingProxy(json config) {
    config["timeouts"]["drain"] = "20s";
    std::string pattern =
        (std::filesystem::temp_directory_path() / "meshgate-http2-drain-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    const std::string path = dir_ + "/proxy.json";
    std::ofstream(path) << config.dump(2);
    ProxyServerOptions options;
    options.configPath = path;
    options.concurrency = 1;
    options.watchFile = false;
    server_ = std::make_unique<ProxyServer>(std::move(options));
    thread_ = std::thread([this] {
      server_->run();
      exited_ = true;
    });
    if (!meshgate::testing::eventually([this] { return server_->adminPort() != 0 || exited_; }) ||
        exited_) {
      stop();
      throw std::runtime_error("the proxy did not start");
    }
    RawHttpClient admin(server_->adminPort());
    admin.send("GET /config_dump HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    const auto dump = admin.readResponse();
    if (!dump || dump->status != 200) {
      stop();
      throw std::runtime_error("no /config_dump");
    }
    port_ = json::parse(dump->body)["boundPorts"]["http"].get<uint16_t>();
  }
  ~DrainingProxy() { stop(); }
  DrainingProxy(const DrainingProxy&) = delete;
  DrainingProxy& operator=(const DrainingProxy&) = delete;

  uint16_t port() const { return port_; }
  void beginDrain() { server_->requestStop(); }
  bool exited() const { return exited_; }

 private:
  void stop() {
    if (thread_.joinable()) {
      server_->requestStop();
      thread_.join();
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string dir_;
  std::unique_ptr<ProxyServer> server_;
  std::thread thread_;
  std::atomic<bool> exited_{false};
  uint16_t port_ = 0;
};

}  // namespace meshgate::dp::testing
