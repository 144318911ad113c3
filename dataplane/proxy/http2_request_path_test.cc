// In-process tests of the proxy's HTTP/2 request path: a real ProxyServer
// (testing/standalone_proxy.h) between an HTTP/2 client (testing/http2_client.h, nghttp2's client
// session) and a scripted HTTP/1.1 upstream. Shows that a cleartext client opening with the
// HTTP/2 preface (h2c, prior knowledge) and a TLS client whose ALPN chose h2 are served over
// HTTP/2 on the same listeners as HTTP/1.1 clients: requests go upstream as HTTP/1.1 (host,
// forwarded headers, bodies byte-exact — buffered with a content-length, or streamed; Expect
// answered by the proxy; limits and body timeouts), many streams run at once on one connection,
// responses come back without HTTP/1.1 framing (chunked trailers as HTTP/2 trailers) and larger
// than a flow-control window, local replies (plain, or a gRPC status for a gRPC request) go out
// as HTTP/2, a stream the client resets leaves the others alone and — reset before it started,
// as in a rapid-reset flood — never reaches the upstream, a malformed connection ends with a
// GOAWAY while the proxy keeps serving, and an idle timeout or a drain sends GOAWAY and lets open
// streams finish.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/ascii.h"
#include "base/testing/eventually.h"
#include "dataplane/http/chunked_decoder.h"
#include "dataplane/http/http1_parser.h"
#include "dataplane/http2/server_codec.h"
#include "dataplane/proxy/testing/fake_config_server.h"
#include "dataplane/proxy/testing/http2_client.h"
#include "dataplane/proxy/testing/raw_http_client.h"
#include "dataplane/proxy/testing/scripted_upstream.h"
#include "dataplane/proxy/testing/standalone_proxy.h"

namespace meshgate::dp {
namespace {

using namespace std::chrono_literals;
using meshgate::testing::eventually;
using testing::backendRule;
using testing::closedPort;
using testing::cluster;
using testing::ConnectionScript;
using ::testing::HasSubstr;
using testing::Http2Client;
using testing::Http2ClientOptions;
using testing::Http2Fields;
using testing::Http2Request;
using testing::Http2Response;
using testing::json;
using ::testing::Not;
using testing::okResponse;
using testing::proxyConfig;
using testing::rawFrame;
using testing::RawHttpClient;
using testing::RawResponse;
using testing::route;
using testing::ScriptedUpstream;
using testing::StandaloneProxy;
using ::testing::StartsWith;

// ---- Helpers ---------------------------------------------------------------------------------

// A request as the upstream received it, its body without chunked framing.
struct Received {
  std::string method;
  std::string target;
  Http2Fields headers;  // names lowercased, in order
  http::BodyFraming framing = http::BodyFraming::None;
  std::string body;
  std::string error;  // not a whole request

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
  void trailerText(std::string_view) override {}
  std::string bytes;
};

Received parseReceived(const std::string& raw) {
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
  } else {
    out.body = std::string(body);
  }
  return out;
}

// The request line of `request` as the answer's body: the upstream echoes what it was asked.
std::string echoRequestLine(const std::string& request) {
  return okResponse(request.substr(0, request.find("\r\n")));
}

ConnectionScript echoing() {
  return ConnectionScript().respondWith(echoRequestLine).repeat();
}

// `size` bytes that differ from position to position (a shifted or lost piece shows).
std::string pattern(size_t size, unsigned seed = 1) {
  std::string out(size, '\0');
  uint32_t state = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; ++i) {
    state = state * 1103515245u + 12345u;
    out[i] = static_cast<char>('!' + (state >> 16) % 90);
  }
  return out;
}

// Where a received body first differs from what was sent (for a readable failure).
std::string firstDifference(const std::string& got, const std::string& expected) {
  if (got == expected) return "equal";
  size_t i = 0;
  while (i < got.size() && i < expected.size() && got[i] == expected[i])
    ++i;
  return "sizes " + std::to_string(got.size()) + " vs " + std::to_string(expected.size()) +
         ", first difference at byte " + std::to_string(i);
}

std::string describe(const Http2Response& response, const Http2Client& client) {
  return "status " + std::to_string(response.status) + ", closed " +
         (response.closed ? "yes" : "no") + ", error code " + std::to_string(response.errorCode) +
         ", client: " + client.error() +
         (client.protocolError().empty() ? "" : ", protocol error: " + client.protocolError());
}

// A HEADERS frame for GET `path` on app.test that ends its stream, HPACK-encoded without the
// dynamic table (literal fields without indexing), so any number of them can be sent raw.
std::string rawGet(int32_t stream, std::string_view path) {
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

std::string rawReset(int32_t stream) {
  return rawFrame(NGHTTP2_RST_STREAM, 0, stream, std::string("\0\0\0\x08", 4));  // CANCEL
}

size_t countRequests(const ScriptedUpstream& upstream, std::string_view requestLinePrefix) {
  size_t count = 0;
  for (const auto& request : upstream.requests())
    count += request.starts_with(requestLinePrefix) ? 1 : 0;
  return count;
}

// The port of listener `name`, from /config_dump.
uint16_t listenerPort(StandaloneProxy& proxy, const std::string& name) {
  const auto dump = proxy.admin("/config_dump");
  if (!dump || dump->status != 200) return 0;
  return json::parse(dump->body)["boundPorts"][name].get<uint16_t>();
}

// ---- h2c with prior knowledge ----------------------------------------------------------------

TEST(Http2RequestPathTest, PriorKnowledgeGetIsForwardedUpstreamAsHttp11) {
  ScriptedUpstream upstream({}, ConnectionScript()
                                    .respond("HTTP/1.1 200 OK\r\n"
                                             "Content-Type: text/plain\r\n"
                                             "Set-Cookie: a=1\r\n"
                                             "Set-Cookie: b=2\r\n"
                                             "Content-Length: 14\r\n"
                                             "\r\n"
                                             "hello from app")
                                    .repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  // nghttp2's client resets a stream whose response has an uppercase field name.
  const Http2Response response =
      client.get("/items?id=7&sort=asc", "app.test", {{"x-client", "yes"}, {"accept", "*/*"}});
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "hello from app");
  EXPECT_EQ(response.header("content-length"), "14");
  EXPECT_EQ(response.header("content-type"), "text/plain");
  EXPECT_EQ(response.headerCount("set-cookie"), 2u);

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_THAT(requests[0], StartsWith("GET /items?id=7&sort=asc HTTP/1.1\r\n"));
  const Received received = parseReceived(requests[0]);
  ASSERT_EQ(received.error, "") << requests[0];
  EXPECT_EQ(received.headerCount("host"), 1u) << requests[0];
  EXPECT_EQ(received.header("host"), "app.test");
  EXPECT_EQ(received.header("x-forwarded-proto"), "http");
  EXPECT_EQ(received.header("x-forwarded-for"), "127.0.0.1");
  EXPECT_EQ(received.header("x-client"), "yes");
  EXPECT_EQ(received.header("accept"), "*/*");
  EXPECT_TRUE(received.header("x-request-id")) << requests[0];
  EXPECT_EQ(received.framing, http::BodyFraming::None) << requests[0];
  EXPECT_THAT(requests[0], Not(HasSubstr(":authority"))) << "a pseudo-header went upstream";
  EXPECT_THAT(requests[0], Not(HasSubstr(":path")));

  // The next stream of the connection reuses the pooled upstream connection.
  const Http2Response again = client.get("/again");
  ASSERT_TRUE(again.complete()) << describe(again, client);
  EXPECT_EQ(again.body, "hello from app");
  EXPECT_EQ(upstream.connectionCount(), 1u);
  EXPECT_FALSE(client.goAway()) << "GOAWAY code " << client.goAway()->errorCode;
}

TEST(Http2RequestPathTest, AHostHeaderStandsInForAMissingAuthority) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response = client.request(
      Http2Request().withAuthority("").withPath("/by-host").withHeaders({{"host", "app.test"}}));
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "GET /by-host HTTP/1.1");
  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  EXPECT_EQ(received.headerCount("host"), 1u) << requests[0];
  EXPECT_EQ(received.header("host"), "app.test");
}

TEST(Http2RequestPathTest, CookieCrumbsAreJoinedIntoOneHeaderUpstream) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response =
      client.get("/cookies", "app.test", {{"cookie", "a=1"}, {"cookie", "b=2"}, {"cookie", "c=3"}});
  ASSERT_TRUE(response.complete()) << describe(response, client);
  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  EXPECT_EQ(received.headerCount("cookie"), 1u) << requests[0];
  EXPECT_EQ(received.header("cookie"), "a=1; b=2; c=3");
}

TEST(Http2RequestPathTest, ManyConcurrentStreamsOnOneConnectionAreEachAnswered) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  constexpr int kStreams = 20;
  std::vector<int32_t> ids;
  for (int i = 0; i < kStreams; ++i) {
    const int32_t id = client.submit("GET", "app.test", "/stream/" + std::to_string(i));
    ASSERT_GT(id, 0) << client.error();
    ids.push_back(id);
  }
  ASSERT_TRUE(client.runUntil([&] {
    for (const int32_t id : ids)
      if (!client.closed(id)) return false;
    return true;
  })) << client.error();
  for (int i = 0; i < kStreams; ++i) {
    const Http2Response& response = client.response(ids[i]);
    EXPECT_TRUE(response.complete()) << i << ": " << describe(response, client);
    EXPECT_EQ(response.status, 200u) << i;
    EXPECT_EQ(response.body, "GET /stream/" + std::to_string(i) + " HTTP/1.1") << i;
  }
  EXPECT_EQ(upstream.requests().size(), static_cast<size_t>(kStreams));
  EXPECT_FALSE(client.goAway());
}

// ---- Request bodies --------------------------------------------------------------------------

TEST(Http2RequestPathTest, ASmallBodyWithContentLengthArrivesByteExact) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const std::string body = pattern(1024);
  const Http2Response response = client.request(
      Http2Request()
          .withMethod("POST")
          .withPath("/upload")
          .withHeaders({{"content-length", "1024"}, {"content-type", "application/octet-stream"}})
          .withBody(body));
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "stored");

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  ASSERT_EQ(received.error, "");
  EXPECT_EQ(received.method, "POST");
  EXPECT_EQ(received.headerCount("content-length"), 1u);
  EXPECT_EQ(received.header("content-length"), "1024");
  EXPECT_EQ(received.header("transfer-encoding"), std::nullopt);
  EXPECT_EQ(received.header("content-type"), "application/octet-stream");
  EXPECT_EQ(received.body, body) << firstDifference(received.body, body);
}

TEST(Http2RequestPathTest, ABufferedBodyWithoutContentLengthGoesUpstreamWithOne) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));  // replay buffer: 64 KiB
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const std::string body = pattern(3000, 2);
  const Http2Response response =
      client.request(Http2Request().withMethod("PUT").withPath("/doc").withBody(body));
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  ASSERT_EQ(received.error, "");
  EXPECT_EQ(received.header("content-length"), "3000") << requests[0].substr(0, 400);
  EXPECT_EQ(received.header("transfer-encoding"), std::nullopt);
  EXPECT_EQ(received.body, body) << firstDifference(received.body, body);
}

TEST(Http2RequestPathTest, ABodySentInPiecesWithoutContentLengthIsBufferedWhole) {
  // The body arrives in three DATA frames, some time apart; it still fits the replay buffer.
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t id =
      client.submit(Http2Request().withMethod("POST").withPath("/pieces").withOpenBody());
  ASSERT_GT(id, 0) << client.error();
  client.sendBody(id, "first,", false);
  client.runFor(50ms);
  client.sendBody(id, "second,", false);
  client.runFor(50ms);
  EXPECT_EQ(upstream.connectionCount(), 0u) << "an incomplete buffered body went upstream";
  client.sendBody(id, "third", true);
  ASSERT_TRUE(client.runUntil([&] { return client.closed(id); })) << client.error();
  EXPECT_TRUE(client.response(id).complete()) << describe(client.response(id), client);

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  EXPECT_EQ(received.header("content-length"), "18");
  EXPECT_EQ(received.body, "first,second,third");
}

TEST(Http2RequestPathTest, ExpectContinueIsAnsweredByTheProxy) {
  // A client that asks for 100-continue waits for it before sending its body; the proxy, which
  // does not forward Expect, answers it itself — for a body it buffers and for one it streams.
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxRetryBufferBytes"] = 16;
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  for (const size_t size : {size_t{10}, size_t{5000}}) {
    SCOPED_TRACE(size);
    const int32_t id = client.submit(
        Http2Request()
            .withMethod("PUT")
            .withPath("/expect")
            .withHeaders({{"content-length", std::to_string(size)}, {"expect", "100-continue"}})
            .withOpenBody());
    ASSERT_TRUE(client.runUntil([&] { return client.response(id).status == 100; }, 2s))
        << "no 100 Continue: " << describe(client.response(id), client);
    const std::string body = pattern(size);
    client.sendBody(id, body, true);
    ASSERT_TRUE(client.runUntil([&] { return client.closed(id); })) << client.error();
    const Http2Response& response = client.response(id);
    EXPECT_TRUE(response.complete()) << describe(response, client);
    EXPECT_EQ(response.status, 200u);
    EXPECT_EQ(response.interim, 1u);
    const auto requests = upstream.requests();
    ASSERT_FALSE(requests.empty());
    const Received received = parseReceived(requests.back());
    EXPECT_EQ(received.header("expect"), std::nullopt);
    EXPECT_EQ(received.body, body) << firstDifference(received.body, body);
  }
}

TEST(Http2RequestPathTest, ALargeBodyWithoutContentLengthStreamsUpstreamChunked) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxRetryBufferBytes"] = 16 * 1024;
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  // Over the codec's stream window (256 KiB) and connection window (1 MiB) too: the proxy must
  // reopen them as it forwards.
  const std::string body = pattern(1024 * 1024 + 7, 3);
  const Http2Response response =
      client.request(Http2Request().withMethod("POST").withPath("/big").withBody(body), 20s);
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "stored");

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  ASSERT_EQ(received.error, "");
  EXPECT_EQ(received.framing, http::BodyFraming::Chunked);
  EXPECT_EQ(received.header("transfer-encoding"), "chunked");
  EXPECT_EQ(received.header("content-length"), std::nullopt);
  EXPECT_EQ(received.body, body) << firstDifference(received.body, body);
}

TEST(Http2RequestPathTest, ALargeBodyWithContentLengthStreamsUpstreamWithIt) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxRetryBufferBytes"] = 16 * 1024;
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const std::string body = pattern(1024 * 1024, 4);
  const Http2Response response =
      client.request(Http2Request()
                         .withMethod("POST")
                         .withPath("/big")
                         .withHeaders({{"content-length", std::to_string(body.size())}})
                         .withBody(body),
                     20s);
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  ASSERT_EQ(received.error, "");
  EXPECT_EQ(received.framing, http::BodyFraming::ContentLength);
  EXPECT_EQ(received.header("content-length"), std::to_string(body.size()));
  EXPECT_EQ(received.header("transfer-encoding"), std::nullopt);
  EXPECT_EQ(received.body, body) << firstDifference(received.body, body);
}

TEST(Http2RequestPathTest, ABodyOverTheBodyLimitIsRefused) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxBodyBytes"] = 1000;
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response = client.request(Http2Request()
                                                    .withMethod("POST")
                                                    .withPath("/big")
                                                    .withHeaders({{"content-length", "5000"}})
                                                    .withBody(pattern(5000)));
  EXPECT_EQ(response.status, 413u) << describe(response, client);
  EXPECT_EQ(response.body, "request body too large\n");
  EXPECT_EQ(upstream.requests().size(), 0u);
  // The connection goes on.
  const Http2Response next = client.get("/after");
  EXPECT_TRUE(next.complete()) << describe(next, client);
}

TEST(Http2RequestPathTest, AStreamedBodyWithoutContentLengthIsCutAtTheBodyLimit) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxBodyBytes"] = 1000;
  config["limits"]["maxRetryBufferBytes"] = 16;
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response =
      client.request(Http2Request().withMethod("POST").withPath("/big").withBody(pattern(5000)));
  EXPECT_EQ(response.status, 413u) << describe(response, client);
  EXPECT_EQ(response.body, "request body too large\n");
  EXPECT_EQ(countRequests(upstream, "POST /big "), 0u) << "a whole over-limit body went upstream";
  const Http2Response next = client.get("/after");
  EXPECT_TRUE(next.complete()) << describe(next, client);
}

TEST(Http2RequestPathTest, ABodyThatStopsComingIsAnswered408AtTheIdleTimeout) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  json config = proxyConfig(upstream.port());
  config["timeouts"]["idle"] = "300ms";
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t id = client.submit(Http2Request()
                                       .withMethod("POST")
                                       .withPath("/stalled")
                                       .withHeaders({{"content-length", "10"}})
                                       .withOpenBody());
  client.sendBody(id, "abc", false);
  ASSERT_TRUE(client.runUntil([&] { return client.closed(id); }, 5s)) << client.error();
  EXPECT_EQ(client.response(id).status, 408u) << describe(client.response(id), client);
  EXPECT_EQ(client.response(id).body, "request body timeout\n");
  EXPECT_EQ(upstream.connectionCount(), 0u);
}

// ---- Local replies ---------------------------------------------------------------------------

TEST(Http2RequestPathTest, AnUnknownHostIsAnswered404OverHttp2) {
  ScriptedUpstream upstream;
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response = client.get("/", "nowhere.test");
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 404u);
  EXPECT_EQ(response.body, "no route for this host and path\n");
  EXPECT_EQ(response.header("content-length"), std::to_string(response.body.size()));
  EXPECT_EQ(response.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(upstream.connectionCount(), 0u);

  // A local reply ends only its stream.
  const Http2Response second = client.get("/", "nowhere.test");
  EXPECT_EQ(second.status, 404u) << describe(second, client);
  EXPECT_FALSE(client.goAway());
}

TEST(Http2RequestPathTest, ARequestWithoutAHostIsAStreamError) {
  // Neither :authority nor host, or an empty :authority: a malformed request (RFC 9113 8.3.1),
  // reset by the codec (nghttp2) before the proxy sees it. The connection goes on.
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response none = client.request(Http2Request().withAuthority("").withPath("/none"));
  ASSERT_TRUE(none.closed) << describe(none, client);
  EXPECT_TRUE(none.resetByServer);
  EXPECT_EQ(none.errorCode, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_EQ(none.status, 0u);

  const Http2Response empty = client.request(
      Http2Request().withAuthority("").withPath("/empty").withHeaders({{":authority", ""}}));
  ASSERT_TRUE(empty.closed) << describe(empty, client);
  EXPECT_TRUE(empty.resetByServer);
  EXPECT_EQ(empty.errorCode, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));

  const Http2Response fine = client.get("/fine");
  EXPECT_TRUE(fine.complete()) << describe(fine, client);
  EXPECT_EQ(fine.body, "GET /fine HTTP/1.1");
  EXPECT_FALSE(client.goAway());
  EXPECT_EQ(upstream.requests().size(), 1u);
}

TEST(Http2RequestPathTest, HeadGetsTheHeadersWithoutABody) {
  ScriptedUpstream upstream(
      {}, ConnectionScript().respond("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n").repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response head = client.request(Http2Request().withMethod("HEAD").withPath("/file"));
  ASSERT_TRUE(head.complete()) << describe(head, client);
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.header("content-length"), "5");
  EXPECT_EQ(head.body, "");
  // The upstream connection was left clean: reused for the next HEAD.
  const Http2Response again = client.request(Http2Request().withMethod("HEAD").withPath("/file"));
  ASSERT_TRUE(again.complete()) << describe(again, client);
  EXPECT_EQ(upstream.connectionCount(), 1u);
}

TEST(Http2RequestPathTest, AGrpcRequestGetsGrpcStatusesForLocalReplies) {
  ScriptedUpstream upstream;
  json config = proxyConfig(upstream.port());
  config["routes"].push_back(route("down", "down.test", json::array({backendRule("down")})));
  config["clusters"].push_back(cluster("down", closedPort()));
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Fields grpcHeaders = {{"content-type", "application/grpc"}, {"te", "trailers"}};
  const std::string message("\0\0\0\0\5hello", 10);  // one length-prefixed gRPC message

  // No route: UNIMPLEMENTED.
  const Http2Response unknown = client.request(Http2Request()
                                                   .withMethod("POST")
                                                   .withAuthority("nowhere.test")
                                                   .withPath("/pkg.Service/Method")
                                                   .withHeaders(grpcHeaders)
                                                   .withBody(message));
  ASSERT_TRUE(unknown.complete()) << describe(unknown, client);
  EXPECT_EQ(unknown.status, 200u);
  EXPECT_EQ(unknown.header("content-type"), "application/grpc");
  EXPECT_EQ(unknown.header("grpc-status"), "12");
  EXPECT_EQ(unknown.header("grpc-message"), "no route for this host and path");
  EXPECT_EQ(unknown.body, "");

  // An upstream that refuses connections: UNAVAILABLE.
  const Http2Response down = client.request(Http2Request()
                                                .withMethod("POST")
                                                .withAuthority("down.test")
                                                .withPath("/pkg.Service/Method")
                                                .withHeaders(grpcHeaders)
                                                .withBody(message));
  ASSERT_TRUE(down.complete()) << describe(down, client);
  EXPECT_EQ(down.status, 200u);
  EXPECT_EQ(down.header("grpc-status"), "14");
  EXPECT_THAT(down.header("grpc-message").value_or(""), HasSubstr("upstream"));
  EXPECT_EQ(down.body, "");

  // The same failure for a request that is not gRPC: an HTTP status.
  const Http2Response plain = client.get("/", "down.test");
  ASSERT_TRUE(plain.complete()) << describe(plain, client);
  EXPECT_EQ(plain.status, 503u);
  EXPECT_EQ(plain.header("grpc-status"), std::nullopt);
}

// ---- Responses -------------------------------------------------------------------------------

TEST(Http2RequestPathTest, AChunkedResponseLosesItsFramingAndKeepsItsTrailers) {
  ScriptedUpstream upstream({}, ConnectionScript()
                                    .respond("HTTP/1.1 200 OK\r\n"
                                             "content-type: application/grpc\r\n"
                                             "transfer-encoding: chunked\r\n"
                                             "connection: keep-alive\r\n"
                                             "keep-alive: timeout=30\r\n"
                                             "trailer: grpc-status, grpc-message\r\n"
                                             "\r\n"
                                             "5\r\nhello\r\n"
                                             "6;ext=1\r\n world\r\n"
                                             "0\r\n"
                                             "grpc-status: 0\r\n"
                                             "Grpc-Message: all fine\r\n"
                                             "\r\n")
                                    .repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response =
      client.request(Http2Request()
                         .withMethod("POST")
                         .withPath("/pkg.Service/Method")
                         .withHeaders({{"content-type", "application/grpc"}, {"te", "trailers"}})
                         .withBody(std::string("\0\0\0\0\0", 5)));
  // nghttp2's client resets a stream whose response carries connection-specific fields.
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "hello world");
  EXPECT_EQ(response.header("content-type"), "application/grpc");
  EXPECT_EQ(response.header("transfer-encoding"), std::nullopt);
  EXPECT_EQ(response.header("connection"), std::nullopt);
  EXPECT_EQ(response.header("keep-alive"), std::nullopt);
  EXPECT_EQ(response.trailer("grpc-status"), "0");
  EXPECT_EQ(response.trailer("grpc-message"), "all fine");

  // The upstream connection ended cleanly after the last chunk: it serves the next stream.
  const Http2Response again = client.request(Http2Request()
                                                 .withMethod("POST")
                                                 .withPath("/pkg.Service/Method")
                                                 .withHeaders({{"te", "trailers"}})
                                                 .withBody(std::string("\0\0\0\0\0", 5)));
  ASSERT_TRUE(again.complete()) << describe(again, client);
  EXPECT_EQ(again.trailer("grpc-status"), "0");
  EXPECT_EQ(upstream.connectionCount(), 1u);
}

TEST(Http2RequestPathTest, AResponseLargerThanTheFlowControlWindowArrivesWhole) {
  const std::string big = pattern(2 * 1024 * 1024 + 3, 5);
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse(big)).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());  // a 64 KiB window: the proxy must wait for WINDOW_UPDATEs
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response = client.get("/big");
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.header("content-length"), std::to_string(big.size()));
  EXPECT_EQ(response.body, big) << firstDifference(response.body, big);
}

TEST(Http2RequestPathTest, ALargeChunkedResponseArrivesWholeAlongsideOtherStreams) {
  // Chunks of many sizes, so chunk boundaries fall anywhere in the proxy's reads.
  const std::string big = pattern(1536 * 1024, 6);
  std::string chunked;
  for (size_t at = 0, step = 1; at < big.size(); step = step * 7 % 40000 + 1) {
    const size_t n = std::min(step, big.size() - at);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", n);
    chunked += size;
    chunked.append(big, at, n);
    chunked += "\r\n";
    at += n;
  }
  chunked += "0\r\n\r\n";
  ScriptedUpstream upstream({ConnectionScript().respond(
                                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunked)},
                            echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t bigStream = client.submit("GET", "app.test", "/big");
  ASSERT_TRUE(client.runUntil([&] { return upstream.requests().size() == 1; })) << client.error();
  std::vector<int32_t> small;
  for (int i = 0; i < 5; ++i)
    small.push_back(client.submit("GET", "app.test", "/small"));
  ASSERT_TRUE(client.runUntil([&] {
    if (!client.closed(bigStream)) return false;
    for (const int32_t id : small)
      if (!client.closed(id)) return false;
    return true;
  })) << client.error();
  const Http2Response& response = client.response(bigStream);
  EXPECT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.body, big) << firstDifference(response.body, big);
  EXPECT_TRUE(response.trailers.empty());
  for (const int32_t id : small) {
    EXPECT_TRUE(client.response(id).complete()) << describe(client.response(id), client);
    EXPECT_EQ(client.response(id).body, "GET /small HTTP/1.1");
  }
}

TEST(Http2RequestPathTest, AnUpstreamCutShortResetsTheStream) {
  ScriptedUpstream upstream({ConnectionScript()
                                 .readRequest()
                                 .write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part")
                                 .close()},
                            echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response = client.get("/short");
  ASSERT_TRUE(response.closed) << describe(response, client);
  EXPECT_TRUE(response.resetByServer) << "a truncated body must not look complete";
  EXPECT_NE(response.errorCode, 0u);
  EXPECT_EQ(response.status, 200u);
  // The connection goes on.
  const Http2Response next = client.get("/next");
  EXPECT_TRUE(next.complete()) << describe(next, client);
  EXPECT_EQ(next.body, "GET /next HTTP/1.1");
}

TEST(Http2RequestPathTest, AResponseEndedByTheUpstreamsCloseEndsTheStream) {
  ScriptedUpstream upstream({ConnectionScript()
                                 .readRequest()
                                 .write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                                 .write("until the close")
                                 .close()},
                            echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response = client.get("/until-close");
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.body, "until the close");
  EXPECT_EQ(response.header("connection"), std::nullopt);
  const Http2Response next = client.get("/next");
  EXPECT_TRUE(next.complete()) << describe(next, client);
  EXPECT_EQ(upstream.connectionCount(), 2u) << "a connection that ended was pooled";
}

TEST(Http2RequestPathTest, AStreamWhoseWindowStaysShutIsResetAtTheIdleTimeout) {
  // The client announces a stream window of 0 and never opens it: the response cannot move.
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse(pattern(1024 * 1024))));
  json config = proxyConfig(upstream.port());
  config["timeouts"]["idle"] = "500ms";
  StandaloneProxy proxy(config);
  Http2ClientOptions options;
  options.initialWindowSize = 0;
  Http2Client client(proxy.port(), options);
  ASSERT_TRUE(client.ok()) << client.error();

  const auto start = std::chrono::steady_clock::now();
  const int32_t id = client.submit("GET", "app.test", "/stuck");
  ASSERT_TRUE(client.runUntil([&] { return client.closed(id); }, 5s)) << client.error();
  const Http2Response& response = client.response(id);
  EXPECT_EQ(response.status, 200u);
  EXPECT_TRUE(response.resetByServer) << describe(response, client);
  EXPECT_EQ(response.body, "");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 400ms);
  // The upstream connection, its response unread, is not kept.
  EXPECT_TRUE(upstream.waitUntil([](const ScriptedUpstream::Records& records) {
    return !records.empty() && (records[0].peerClosed || records[0].closed);
  }));
}

// ---- Resets and malformed input --------------------------------------------------------------

TEST(Http2RequestPathTest, AStreamResetWhileTheUpstreamIsSlowLeavesTheOthersAlone) {
  // Connection 0 takes the slow request and never answers; the others echo.
  ScriptedUpstream upstream({ConnectionScript().readRequest()}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t slow = client.submit("GET", "app.test", "/slow");
  ASSERT_GT(slow, 0);
  ASSERT_TRUE(client.runUntil([&] { return upstream.requests().size() == 1; })) << client.error();
  client.resetStream(slow);
  ASSERT_TRUE(client.runUntil([&] { return client.closed(slow); })) << client.error();
  // The proxy gives up the upstream request of the reset stream.
  EXPECT_TRUE(upstream.waitForPeerClose(0));

  for (int i = 0; i < 3; ++i) {
    const Http2Response response = client.get("/after/" + std::to_string(i));
    ASSERT_TRUE(response.complete()) << describe(response, client);
    EXPECT_EQ(response.body, "GET /after/" + std::to_string(i) + " HTTP/1.1");
  }
  EXPECT_FALSE(client.goAway());
  // Not retried elsewhere: the upstream saw /slow once.
  size_t slowRequests = 0;
  for (const auto& request : upstream.requests())
    slowRequests += request.starts_with("GET /slow ") ? 1 : 0;
  EXPECT_EQ(slowRequests, 1u);

  Http2Client another(proxy.port());
  const Http2Response fresh = another.get("/fresh");
  EXPECT_TRUE(fresh.complete()) << describe(fresh, another);
}

TEST(Http2RequestPathTest, AStreamResetRightAfterItsHeadersNeverReachesTheUpstream) {
  // HEADERS and RST_STREAM in one write: the proxy reads both before the stream's request goes
  // anywhere, and must not send it upstream (each such request is work the client made the
  // upstream do for nothing — the amplification of CVE-2023-44487).
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2ClientOptions raw;
  raw.startSession = false;
  Http2Client client(proxy.port(), raw);
  ASSERT_TRUE(client.ok()) << client.error();

  ASSERT_TRUE(client.sendRaw(std::string(http2::kClientPreface) +
                             rawFrame(NGHTTP2_SETTINGS, 0, 0, "") + rawGet(1, "/reset-me") +
                             rawReset(1) + rawGet(3, "/after")));
  ASSERT_TRUE(client.runUntil([&] {
    for (const auto& frame : client.frames())
      if (frame.streamId == 3 && (frame.flags & NGHTTP2_FLAG_END_STREAM)) return true;
    return false;
  })) << client.error();
  EXPECT_EQ(countRequests(upstream, "GET /after "), 1u);
  // Whatever the reset stream's exchange does, it has had the time to do it.
  upstream.waitUntil([](const ScriptedUpstream::Records&) { return false; }, 300ms);
  EXPECT_EQ(countRequests(upstream, "GET /reset-me "), 0u)
      << "the request of a stream reset before it started went upstream";
}

TEST(Http2RequestPathTest, ARapidResetFloodEndsTheConnectionAndSparesTheUpstream) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2ClientOptions raw;
  raw.startSession = false;
  Http2Client client(proxy.port(), raw);
  ASSERT_TRUE(client.ok()) << client.error();

  // 400 streams opened and reset at once: over the codec's burst of 200.
  std::string flood = std::string(http2::kClientPreface) + rawFrame(NGHTTP2_SETTINGS, 0, 0, "");
  for (int32_t stream = 1; stream < 800; stream += 2)
    flood += rawGet(stream, "/flood") + rawReset(stream);
  client.sendRaw(flood);  // the proxy may close before it read it all
  ASSERT_TRUE(client.waitForClose()) << client.error();
  std::optional<uint32_t> goAwayCode;
  for (const auto& frame : client.frames())
    if (auto code = testing::goAwayErrorCode(frame)) goAwayCode = code;
  ASSERT_TRUE(goAwayCode) << "closed without a GOAWAY";
  EXPECT_EQ(*goAwayCode, static_cast<uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));

  Http2Client next(proxy.port());
  const Http2Response response = next.get("/next");
  EXPECT_TRUE(response.complete()) << describe(response, next);
  upstream.waitUntil([](const ScriptedUpstream::Records&) { return false; }, 300ms);
  EXPECT_EQ(countRequests(upstream, "GET /flood "), 0u) << "reset streams reached the upstream";
}

TEST(Http2RequestPathTest, AStreamResetMidBodyLeavesTheConnectionServing) {
  ScriptedUpstream upstream({ConnectionScript().readRequest()}, echoing());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxRetryBufferBytes"] = 1024;  // so the body streams
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t id = client.submit(Http2Request()
                                       .withMethod("POST")
                                       .withPath("/upload")
                                       .withHeaders({{"content-length", "100000"}})
                                       .withOpenBody());
  client.sendBody(id, pattern(4096), false);
  ASSERT_TRUE(client.runUntil([&] {
    const auto records = upstream.connections();
    return !records.empty() && records[0].received.size() > 4096;
  })) << "the streamed body did not reach the upstream: "
      << client.error();
  client.resetStream(id);
  ASSERT_TRUE(client.runUntil([&] { return client.closed(id); })) << client.error();
  // An upstream request with half a body cannot be finished: the proxy closes that connection.
  EXPECT_TRUE(upstream.waitForPeerClose(0));

  const Http2Response next = client.get("/next");
  ASSERT_TRUE(next.complete()) << describe(next, client);
  EXPECT_EQ(next.body, "GET /next HTTP/1.1");
  EXPECT_FALSE(client.goAway());
}

TEST(Http2RequestPathTest, AFrameOnTheWrongStreamEndsTheConnectionWithGoAway) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));

  // The preface, an empty SETTINGS, then DATA on stream 0: a connection error (RFC 9113 6.1).
  Http2ClientOptions raw;
  raw.startSession = false;
  Http2Client bad(proxy.port(), raw);
  ASSERT_TRUE(bad.ok()) << bad.error();
  ASSERT_TRUE(bad.sendRaw(std::string(http2::kClientPreface) +
                          rawFrame(NGHTTP2_SETTINGS, 0, 0, "") +
                          rawFrame(NGHTTP2_DATA, 0, 0, "garbage")));
  ASSERT_TRUE(bad.waitForClose()) << "the proxy kept a broken connection: " << bad.error();
  std::optional<uint32_t> goAwayCode;
  for (const auto& frame : bad.frames())
    if (auto code = testing::goAwayErrorCode(frame)) goAwayCode = code;
  ASSERT_TRUE(goAwayCode) << "closed without a GOAWAY";
  EXPECT_EQ(*goAwayCode, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));

  // The proxy goes on serving.
  Http2Client good(proxy.port());
  const Http2Response response = good.get("/fine");
  ASSERT_TRUE(response.complete()) << describe(response, good);
  EXPECT_EQ(response.body, "GET /fine HTTP/1.1");
}

TEST(Http2RequestPathTest, GarbageAfterThePrefaceEndsTheConnection) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));

  Http2ClientOptions raw;
  raw.startSession = false;
  Http2Client bad(proxy.port(), raw);
  ASSERT_TRUE(bad.ok()) << bad.error();
  ASSERT_TRUE(bad.sendRaw(std::string(http2::kClientPreface) +
                          "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n" + std::string(64, '\xff')));
  EXPECT_TRUE(bad.waitForClose()) << "the proxy kept a broken connection: " << bad.error();
  bool goAway = false;
  for (const auto& frame : bad.frames())
    goAway = goAway || frame.type == NGHTTP2_GOAWAY;
  EXPECT_TRUE(goAway) << "closed without a GOAWAY";
  EXPECT_EQ(upstream.connectionCount(), 0u);

  Http2Client good(proxy.port());
  EXPECT_TRUE(good.get("/fine").complete()) << good.error();
}

TEST(Http2RequestPathTest, AnUndecodableHeaderBlockIsACompressionError) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();
  ASSERT_TRUE(client.get("/first").complete()) << client.error();  // stream 1

  // HEADERS on stream 3 whose block indexes past the HPACK tables.
  ASSERT_TRUE(
      client.sendRaw(rawFrame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM,
                              3, "\xff\xff\xff\xff\x0f")));
  ASSERT_TRUE(client.waitForGoAway()) << client.error();
  EXPECT_EQ(client.goAway()->errorCode, static_cast<uint32_t>(NGHTTP2_COMPRESSION_ERROR));
  EXPECT_TRUE(client.waitForClose()) << client.error();
  EXPECT_EQ(upstream.requests().size(), 1u);

  Http2Client next(proxy.port());
  EXPECT_TRUE(next.get("/next").complete()) << next.error();
}

// ---- HTTP/1.1 next to HTTP/2 -----------------------------------------------------------------

TEST(Http2RequestPathTest, Http11StillWorksOnTheSameListener) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));

  Http2Client h2(proxy.port());
  ASSERT_TRUE(h2.get("/h2-first").complete()) << h2.error();

  // While the HTTP/2 connection stays open. A POST starts with 'P', as the preface does.
  RawHttpClient h1(proxy.port());
  ASSERT_TRUE(h1.send("POST /h1 HTTP/1.1\r\nHost: app.test\r\nContent-Length: 2\r\n\r\nhi"));
  const std::optional<RawResponse> response = h1.readResponse("POST");
  ASSERT_TRUE(response) << h1.error();
  EXPECT_EQ(response->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(response->body, "POST /h1 HTTP/1.1");
  testing::expectServedAgain(h1, "GET /again HTTP/1.1");

  const Http2Response again = h2.get("/h2-again");
  ASSERT_TRUE(again.complete()) << describe(again, h2);
  EXPECT_EQ(again.body, "GET /h2-again HTTP/1.1");
}

TEST(Http2RequestPathTest, APrefaceSplitAcrossReadsIsStillHttp2) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("split")).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));

  Http2ClientOptions raw;
  raw.startSession = false;
  Http2Client client(proxy.port(), raw);
  ASSERT_TRUE(client.ok()) << client.error();
  const std::string_view preface = http2::kClientPreface;
  ASSERT_TRUE(client.sendRaw(preface.substr(0, 5)));
  client.runFor(50ms);  // so the proxy reads the first piece alone
  // The rest, SETTINGS, and GET / on stream 1 for app.test (HPACK: static-table indexes and a
  // literal :authority).
  const std::string block = std::string("\x82\x86\x84\x41\x08", 5) + "app.test";
  ASSERT_TRUE(client.sendRaw(
      std::string(preface.substr(5)) + rawFrame(NGHTTP2_SETTINGS, 0, 0, "") +
      rawFrame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 1, block)));
  ASSERT_TRUE(client.runUntil([&] {
    for (const auto& frame : client.frames())
      if (frame.type == NGHTTP2_DATA && frame.streamId == 1 &&
          (frame.flags & NGHTTP2_FLAG_END_STREAM))
        return true;
    return false;
  })) << client.error()
      << "; received " << client.raw().size() << " bytes";
  std::string body;
  for (const auto& frame : client.frames())
    if (frame.type == NGHTTP2_DATA && frame.streamId == 1) body += frame.payload;
  EXPECT_EQ(body, "split");
  EXPECT_EQ(upstream.requests().size(), 1u);
}

// ---- TLS with ALPN ---------------------------------------------------------------------------

class Http2TlsTest : public ::testing::Test {
 protected:
  Http2TlsTest() : certificates_({"app.test"}), upstream_({}, echoing()) {
    json config = proxyConfig(upstream_.port());
    json https = {{"name", "https"}, {"address", "127.0.0.1"}, {"port", 0}};
    https["tls"]["certificates"] =
        json::array({{{"certificatePem", certificates_.server().certificatePem},
                      {"privateKeyPem", certificates_.server().keyPem}}});
    config["listeners"].push_back(https);
    proxy_ = std::make_unique<StandaloneProxy>(config);
    tlsPort_ = listenerPort(*proxy_, "https");
  }

  Http2ClientOptions tls(std::vector<std::string> alpn, bool session = true) {
    Http2ClientOptions options;
    options.tls = true;
    options.alpn = std::move(alpn);
    options.startSession = session;
    return options;
  }

  testing::StreamCertificates certificates_;
  ScriptedUpstream upstream_;
  std::unique_ptr<StandaloneProxy> proxy_;
  uint16_t tlsPort_ = 0;
};

TEST_F(Http2TlsTest, AlpnH2IsServedOverHttp2) {
  ASSERT_NE(tlsPort_, 0);
  Http2Client client(tlsPort_, tls({"h2", "http/1.1"}));
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.alpnProtocol(), "h2");

  const Http2Response response = client.get("/secure?x=1");
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "GET /secure?x=1 HTTP/1.1");
  const auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(parseReceived(requests[0]).header("x-forwarded-proto"), "https");

  // Several streams at once over TLS.
  std::vector<int32_t> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(client.submit("GET", "app.test", "/s" + std::to_string(i)));
  ASSERT_TRUE(client.runUntil([&] {
    for (const int32_t id : ids)
      if (!client.closed(id)) return false;
    return true;
  })) << client.error();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(client.response(ids[i]).body, "GET /s" + std::to_string(i) + " HTTP/1.1");
}

TEST_F(Http2TlsTest, AClientOfferingOnlyHttp11GetsHttp11) {
  ASSERT_NE(tlsPort_, 0);
  Http2Client client(tlsPort_, tls({"http/1.1"}, /*session=*/false));
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.alpnProtocol(), "http/1.1");
  ASSERT_TRUE(client.sendRaw("GET /one HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(client.waitForClose()) << client.error();
  EXPECT_THAT(client.raw(), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(client.raw(), HasSubstr("\r\n\r\nGET /one HTTP/1.1"));
}

TEST_F(Http2TlsTest, AClientWithoutAlpnGetsHttp11) {
  ASSERT_NE(tlsPort_, 0);
  Http2Client client(tlsPort_, tls({}, /*session=*/false));
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.alpnProtocol(), "");
  ASSERT_TRUE(client.sendRaw("GET /two HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(client.waitForClose()) << client.error();
  EXPECT_THAT(client.raw(), StartsWith("HTTP/1.1 200 OK\r\n"));
}

// ---- Idle timeout --------------------------------------------------------------------------

TEST(Http2RequestPathTest, AConnectionIdleForTheIdleTimeoutGetsGoAwayAndIsClosed) {
  ScriptedUpstream upstream({}, echoing());
  json config = proxyConfig(upstream.port());
  config["timeouts"]["idle"] = "300ms";
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.get("/once").complete()) << client.error();

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.waitForGoAway(5s)) << client.error();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  EXPECT_EQ(client.goAway()->errorCode, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_TRUE(client.waitForClose(5s)) << client.error();
}

TEST(Http2RequestPathTest, AStreamWaitingLongerThanTheIdleTimeoutIsNotCut) {
  // The upstream answers after twice the idle timeout: the connection has a stream all along.
  ScriptedUpstream upstream(
      {ConnectionScript().readRequest().pause().write(okResponse("worth the wait"))}, echoing());
  json config = proxyConfig(upstream.port());
  config["timeouts"]["idle"] = "300ms";
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t id = client.submit("GET", "app.test", "/slow");
  ASSERT_TRUE(client.runUntil([&] { return upstream.requests().size() == 1; })) << client.error();
  client.runFor(600ms);
  EXPECT_FALSE(client.goAway()) << "GOAWAY while a stream was open";
  upstream.release();
  ASSERT_TRUE(client.runUntil([&] { return client.closed(id); })) << client.error();
  EXPECT_TRUE(client.response(id).complete()) << describe(client.response(id), client);
  EXPECT_EQ(client.response(id).body, "worth the wait");
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
    if (!eventually([this] { return server_->adminPort() != 0 || exited_; }) || exited_) {
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

TEST(Http2RequestPathTest, ADrainSendsGoAwayToAnIdleConnectionAndClosesIt) {
  ScriptedUpstream upstream({}, echoing());
  DrainingProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.get("/before").complete()) << client.error();

  const auto start = std::chrono::steady_clock::now();
  proxy.beginDrain();
  ASSERT_TRUE(client.waitForGoAway()) << client.error();
  EXPECT_EQ(client.goAway()->errorCode, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_TRUE(client.waitForClose()) << "the idle connection stayed open: " << client.error();
  // The drain ended with the connection, long before its 20 s deadline.
  EXPECT_TRUE(eventually([&] { return proxy.exited(); }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(Http2RequestPathTest, ADrainLetsAnOpenStreamFinish) {
  ScriptedUpstream upstream(
      {ConnectionScript().readRequest().pause().write(okResponse("finished while draining"))},
      echoing());
  DrainingProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t id = client.submit("GET", "app.test", "/in-flight");
  ASSERT_TRUE(client.runUntil([&] { return upstream.requests().size() == 1; })) << client.error();
  proxy.beginDrain();
  ASSERT_TRUE(client.waitForGoAway()) << client.error();
  EXPECT_EQ(client.goAway()->errorCode, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_FALSE(client.closed(id)) << "the drain cut the open stream";
  EXPECT_FALSE(proxy.exited());

  upstream.release();
  ASSERT_TRUE(client.runUntil([&] { return client.closed(id); })) << client.error();
  const Http2Response& response = client.response(id);
  EXPECT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.body, "finished while draining");
  EXPECT_TRUE(client.waitForClose()) << client.error();
  EXPECT_TRUE(eventually([&] { return proxy.exited(); }, 5s));
}

}  // namespace
}  // namespace meshgate::dp
