// Tests of parseClientHello (tls_client_hello.h) on ClientHellos OpenSSL writes (TLS 1.2 and 1.3,
// with and without SNI and ALPN), cut at every byte, re-split across records, and on hand-built
// ones that break one rule each; and of peekClientHello (tls_client_hello_peek.h) on a loopback
// connection whose client sends a ClientHello in two parts, nothing, or closes early.
#include "dataplane/proxy/tls_client_hello.h"

#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "dataplane/proxy/tls_client_hello_peek.h"

namespace meshgate::dp {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Status = ClientHelloStatus;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

ClientHelloInfo parse(const std::string& bytes, size_t maxBytes = kDefaultMaxClientHelloBytes) {
  return parseClientHello(
      std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()), maxBytes);
}

// --- ClientHellos written by OpenSSL ---

// The bytes an OpenSSL client sends first: its ClientHello, in one record. `serverName` null: no
// SNI; `alpn` (wire format) empty: no ALPN.
std::string opensslClientHello(const char* serverName, int maxVersion = TLS1_3_VERSION,
                               const std::string& alpn = {}) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_client_method()),
                                                            SSL_CTX_free);
  if (!context || !SSL_CTX_set_max_proto_version(context.get(), maxVersion)) return {};
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(context.get()), SSL_free);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), in, out);  // ssl owns both
  SSL_set_connect_state(ssl.get());
  if (serverName != nullptr && !SSL_set_tlsext_host_name(ssl.get(), serverName)) return {};
  if (!alpn.empty() &&
      SSL_set_alpn_protos(ssl.get(), reinterpret_cast<const unsigned char*>(alpn.data()),
                          static_cast<unsigned>(alpn.size())) != 0)
    return {};
  if (SSL_do_handshake(ssl.get()) == 1) return {};  // it cannot finish without a server
  char* data = nullptr;
  const long size = BIO_get_mem_data(out, &data);
  return std::string(data, static_cast<size_t>(size));
}

const std::string kAlpnH2Http11("\x02h2\x08http/1.1", 12);

// --- Hand-built ClientHellos ---

std::string u8(size_t value) {
  return std::string(1, static_cast<char>(value & 0xff));
}
std::string u16(size_t value) {
  return u8(value >> 8) + u8(value);
}
std::string u24(size_t value) {
  return u8(value >> 16) + u16(value);
}
std::string vector8(const std::string& body) {
  return u8(body.size()) + body;
}
std::string vector16(const std::string& body) {
  return u16(body.size()) + body;
}

std::string extension(uint16_t type, const std::string& data) {
  return u16(type) + vector16(data);
}

std::string serverNameList(const std::vector<std::pair<int, std::string>>& entries) {
  std::string list;
  for (const auto& [type, name] : entries)
    list += u8(static_cast<size_t>(type)) + vector16(name);
  return extension(0, vector16(list));
}

std::string serverName(const std::string& name) {
  return serverNameList({{0, name}});
}

// A TLS 1.2 ClientHello body: one cipher suite, null compression, then `extensions` as the
// extensions block, or no block at all when nullopt.
std::string helloBody(const std::optional<std::string>& extensions) {
  std::string body = "\x03\x03" + std::string(32, 'r') + vector8("") + vector16("\xc0\x2f") +
                     vector8(std::string(1, '\0'));
  if (extensions) body += vector16(*extensions);
  return body;
}

std::string handshake(const std::string& body) {
  return "\x01" + u24(body.size()) + body;
}

std::string record(const std::string& payload) {
  return "\x16\x03\x01" + vector16(payload);
}

std::string helloWith(const std::optional<std::string>& extensions) {
  return record(handshake(helloBody(extensions)));
}

// The handshake message inside a ClientHello that sits in one record.
std::string messageOf(const std::string& records) {
  if (records.size() < 5 ||
      records.size() - 5 != ((size_t{uint8_t(records[3])} << 8) | uint8_t(records[4])))
    return {};
  return records.substr(5);
}

// `message` cut into records at `cuts` (offsets into the message, ascending).
std::string inRecords(const std::string& message, const std::vector<size_t>& cuts) {
  std::string out;
  size_t start = 0;
  for (const size_t cut : cuts) {
    out += record(message.substr(start, cut - start));
    start = cut;
  }
  return out + record(message.substr(start));
}

// --- Parsing OpenSSL's ClientHellos ---

TEST(ClientHelloTest, Tls13HelloYieldsServerNameAndAlpn) {
  const std::string hello = opensslClientHello("api.example.com", TLS1_3_VERSION, kAlpnH2Http11);
  ASSERT_FALSE(hello.empty());
  const ClientHelloInfo info = parse(hello);
  EXPECT_EQ(info.status, Status::kComplete) << describe(info.status);
  EXPECT_EQ(info.serverName, "api.example.com");
  EXPECT_EQ(info.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
}

TEST(ClientHelloTest, Tls12HelloYieldsServerName) {
  const std::string hello = opensslClientHello("shop.internal", TLS1_2_VERSION);
  ASSERT_FALSE(hello.empty());
  const ClientHelloInfo info = parse(hello);
  EXPECT_EQ(info.status, Status::kComplete) << describe(info.status);
  EXPECT_EQ(info.serverName, "shop.internal");
  EXPECT_TRUE(info.alpn.empty());
}

TEST(ClientHelloTest, HelloWithoutServerNameHasNone) {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    const std::string hello = opensslClientHello(nullptr, version, "\x02h2");
    ASSERT_FALSE(hello.empty());
    const ClientHelloInfo info = parse(hello);
    EXPECT_EQ(info.status, Status::kComplete) << version;
    EXPECT_EQ(info.serverName, std::nullopt) << version;
    EXPECT_EQ(info.alpn, std::vector<std::string>{"h2"}) << version;
  }
}

TEST(ClientHelloTest, EveryPrefixNeedsMore) {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    const std::string hello = opensslClientHello("a.b.c", version);
    ASSERT_FALSE(hello.empty());
    for (size_t size = 0; size < hello.size(); ++size)
      ASSERT_EQ(parse(hello.substr(0, size)).status, Status::kNeedMore) << version << " " << size;
    EXPECT_EQ(parse(hello).serverName, "a.b.c") << version;
  }
}

TEST(ClientHelloTest, BytesAfterTheHelloAreIgnored) {
  const std::string hello = opensslClientHello("example.com");
  const ClientHelloInfo info = parse(hello + std::string("\x17\x03\x03\x00\x05hello", 10));
  EXPECT_EQ(info.status, Status::kComplete);
  EXPECT_EQ(info.serverName, "example.com");
}

TEST(ClientHelloTest, HelloSplitAcrossRecordsIsReassembled) {
  const std::string message = messageOf(opensslClientHello("split.example"));
  ASSERT_FALSE(message.empty());
  // Inside the handshake header, just after it, in the middle, one byte before the end.
  for (const size_t cut :
       {size_t{1}, size_t{3}, size_t{4}, message.size() / 2, message.size() - 1}) {
    const std::string records = inRecords(message, {cut});
    const ClientHelloInfo info = parse(records);
    EXPECT_EQ(info.status, Status::kComplete) << cut << ": " << describe(info.status);
    EXPECT_EQ(info.serverName, "split.example") << cut;
    for (size_t size = 0; size < records.size(); ++size)
      ASSERT_EQ(parse(records.substr(0, size)).status, Status::kNeedMore) << cut << " " << size;
  }
}

TEST(ClientHelloTest, HelloInOneByteRecordsIsReassembled) {
  const std::string message = messageOf(opensslClientHello("tiny.example"));
  ASSERT_FALSE(message.empty());
  std::vector<size_t> cuts;
  for (size_t i = 1; i < message.size(); ++i)
    cuts.push_back(i);
  const ClientHelloInfo info = parse(inRecords(message, cuts));
  EXPECT_EQ(info.status, Status::kComplete) << describe(info.status);
  EXPECT_EQ(info.serverName, "tiny.example");
}

TEST(ClientHelloTest, OtherRecordBeforeTheHelloEndsIsMalformed) {
  const std::string message = messageOf(opensslClientHello("example.com"));
  std::string records = inRecords(message, {100});
  const size_t second = 5 + 100;
  records[second] = '\x17';  // application data
  EXPECT_EQ(parse(records).status, Status::kMalformed);
  records[second] = '\x16';
  records[second + 1] = '\x02';  // record version 2.1
  EXPECT_EQ(parse(records).status, Status::kMalformed);
}

// --- The record layer ---

TEST(ClientHelloTest, FirstByteOtherThanHandshakeIsNotTls) {
  EXPECT_EQ(parse("GET / HTTP/1.1\r\n").status, Status::kNotTls);
  EXPECT_EQ(parse("G").status, Status::kNotTls);
  EXPECT_EQ(parse("\x80\x2e\x01\x03\x01").status, Status::kNotTls);  // SSLv2-style hello
  EXPECT_EQ(parse(std::string("\x17\x03\x03\x00\x01\x00", 6)).status, Status::kNotTls);
  EXPECT_EQ(parse("").status, Status::kNeedMore);
  EXPECT_EQ(parse("\x16").status, Status::kNeedMore);
}

TEST(ClientHelloTest, RecordHeaderIsChecked) {
  const std::string hello = helloWith(serverName("example.com"));
  auto withHeader = [&](const std::string& header) { return header + hello.substr(5); };
  EXPECT_EQ(parse(withHeader(std::string("\x16\x03\x00", 3) + hello.substr(3, 2))).status,
            Status::kComplete);
  EXPECT_EQ(parse(withHeader("\x16\x03\x04" + hello.substr(3, 2))).status, Status::kComplete);
  EXPECT_EQ(parse(withHeader("\x16\x03\x05" + hello.substr(3, 2))).status, Status::kMalformed);
  EXPECT_EQ(parse(withHeader("\x16\x02\x03" + hello.substr(3, 2))).status, Status::kMalformed);
  // Judged as soon as the byte is there.
  EXPECT_EQ(parse("\x16\x04").status, Status::kMalformed);
  EXPECT_EQ(parse(std::string("\x16\x03\x01\x00\x00", 5)).status, Status::kMalformed);
  EXPECT_EQ(parse(std::string("\x16\x03\x01\x40\x01", 5)).status, Status::kMalformed);  // 16385
  EXPECT_EQ(parse(std::string("\x16\x03\x01\x40\x00", 5)).status, Status::kNeedMore);   // 16384
}

TEST(ClientHelloTest, OtherHandshakeMessageIsMalformed) {
  std::string hello = helloWith(serverName("example.com"));
  hello[5] = '\x02';  // ServerHello
  EXPECT_EQ(parse(hello).status, Status::kMalformed);
  EXPECT_EQ(parse(hello.substr(0, 6)).status, Status::kMalformed);
}

TEST(ClientHelloTest, HelloPastTheLimitIsTooLarge) {
  const std::string hello = opensslClientHello("example.com");
  ASSERT_GT(hello.size(), 100u);
  EXPECT_EQ(parse(hello, hello.size()).status, Status::kComplete);
  EXPECT_EQ(parse(hello, hello.size() - 1).status, Status::kTooLarge);
  // Known from the handshake header alone.
  EXPECT_EQ(parse(hello.substr(0, 9), hello.size() - 1).status, Status::kTooLarge);
  // A message length of 16 MiB - 1 against the default limit.
  EXPECT_EQ(parse(std::string("\x16\x03\x01\x40\x00\x01\xff\xff\xff", 9)).status,
            Status::kTooLarge);
  // Spread over records whose headers push it over the limit.
  const std::string message = messageOf(hello);
  const std::string twoRecords = inRecords(message, {message.size() / 2});
  EXPECT_EQ(parse(twoRecords, hello.size()).status, Status::kTooLarge);
  EXPECT_EQ(parse(twoRecords, twoRecords.size()).status, Status::kComplete);
}

// --- The ClientHello ---

TEST(ClientHelloTest, HelloEndingAfterCompressionMethodsIsCompleteWithoutServerName) {
  const ClientHelloInfo info = parse(helloWith(std::nullopt));
  EXPECT_EQ(info.status, Status::kComplete);
  EXPECT_EQ(info.serverName, std::nullopt);
  EXPECT_EQ(parse(helloWith(std::string())).status, Status::kComplete);  // an empty block
}

TEST(ClientHelloTest, LengthsThatDoNotAddUpAreMalformed) {
  const std::string ok = helloBody(serverName("example.com"));
  ASSERT_EQ(parse(record(handshake(ok))).status, Status::kComplete);
  auto withByte = [&](size_t at, char value) {
    std::string body = ok;
    body[at] = value;
    return parse(record(handshake(body))).status;
  };
  // Offsets in the body: version 0, random 2, session id 34, cipher suites 35, compression 39,
  // extensions length 41, server_name extension 43 (type, length 45, list length 47, entry 49:
  // name type, name length 50, name 52).
  EXPECT_EQ(withByte(0, '\x02'), Status::kMalformed);             // legacy_version 2.3
  EXPECT_EQ(withByte(34, '\x21'), Status::kMalformed);            // a 33-byte session id
  EXPECT_EQ(withByte(34, '\x01'), Status::kMalformed);            // swallows a byte of the suites
  EXPECT_EQ(withByte(36, '\x03'), Status::kMalformed);            // an odd cipher suites length
  EXPECT_EQ(withByte(36, '\x00'), Status::kMalformed);            // no cipher suite
  EXPECT_EQ(withByte(39, '\x00'), Status::kMalformed);            // no compression method
  EXPECT_EQ(withByte(42, char(ok[42] + 1)), Status::kMalformed);  // extensions overrun
  EXPECT_EQ(withByte(42, char(ok[42] - 1)), Status::kMalformed);  // a byte after them
  EXPECT_EQ(withByte(46, char(ok[46] + 1)), Status::kMalformed);  // extension overruns
  EXPECT_EQ(withByte(48, char(ok[48] + 1)), Status::kMalformed);  // name list overruns
  EXPECT_EQ(withByte(48, char(ok[48] - 1)), Status::kMalformed);  // name list short
  EXPECT_EQ(withByte(51, char(ok[51] + 1)), Status::kMalformed);  // name overruns
  // The handshake length says less or more than the body.
  const std::string body = ok.substr(0, ok.size() - 1);
  EXPECT_EQ(parse(record("\x01" + u24(body.size()) + body)).status, Status::kMalformed);
  EXPECT_EQ(parse(record("\x01" + u24(ok.size() + 1) + ok + "x")).status, Status::kMalformed);
  // Truncated anywhere inside the message, yet in a whole record.
  for (size_t size = 0; size < ok.size(); ++size) {
    if (size == 41) continue;  // ends after the compression methods: complete
    ASSERT_EQ(parse(record("\x01" + u24(size) + ok.substr(0, size))).status, Status::kMalformed)
        << size;
  }
}

TEST(ClientHelloTest, EmptyServerNameExtensionIsMalformed) {
  EXPECT_EQ(parse(helloWith(extension(0, ""))).status, Status::kMalformed);
  EXPECT_EQ(parse(helloWith(extension(0, vector16("")))).status, Status::kMalformed);
  EXPECT_EQ(parse(helloWith(serverName(""))).status, Status::kMalformed);
}

TEST(ClientHelloTest, TwoHostNamesAreMalformed) {
  EXPECT_EQ(parse(helloWith(serverNameList({{0, "a.example"}, {0, "b.example"}}))).status,
            Status::kMalformed);
  EXPECT_EQ(parse(helloWith(serverNameList({{0, "a.example"}, {0, "a.example"}}))).status,
            Status::kMalformed);
}

TEST(ClientHelloTest, DuplicateExtensionIsMalformed) {
  EXPECT_EQ(parse(helloWith(serverName("a.example") + serverName("a.example"))).status,
            Status::kMalformed);
  const std::string alpn = extension(16, vector16("\x02h2"));
  EXPECT_EQ(parse(helloWith(alpn + serverName("a.example") + alpn)).status, Status::kMalformed);
  EXPECT_EQ(parse(helloWith(extension(43, "") + extension(43, ""))).status, Status::kMalformed);
}

TEST(ClientHelloTest, OtherNameTypesAreSkipped) {
  const ClientHelloInfo info =
      parse(helloWith(serverNameList({{1, "opaque"}, {0, "host.example"}, {7, "x"}})));
  EXPECT_EQ(info.status, Status::kComplete);
  EXPECT_EQ(info.serverName, "host.example");
  const ClientHelloInfo noHostName = parse(helloWith(serverNameList({{1, "opaque"}})));
  EXPECT_EQ(noHostName.status, Status::kComplete);
  EXPECT_EQ(noHostName.serverName, std::nullopt);
}

TEST(ClientHelloTest, UpperCaseNameIsLowerCased) {
  const ClientHelloInfo info = parse(helloWith(serverName("API.Example-1.COM")));
  EXPECT_EQ(info.status, Status::kComplete);
  EXPECT_EQ(info.serverName, "api.example-1.com");
  // OpenSSL sends the name as given.
  EXPECT_EQ(parse(opensslClientHello("WWW.EXAMPLE.ORG")).serverName, "www.example.org");
}

TEST(ClientHelloTest, OneTrailingDotIsDropped) {
  EXPECT_EQ(parse(helloWith(serverName("example.com."))).serverName, "example.com");
  EXPECT_EQ(parse(helloWith(serverName("example.com.."))).status, Status::kMalformed);
  EXPECT_EQ(parse(helloWith(serverName("."))).status, Status::kMalformed);
}

TEST(ClientHelloTest, NameOutsideLettersDigitsHyphenAndDotIsMalformed) {
  for (const std::string& name :
       {std::string("exa\0mple.com", 12), std::string("exa mple.com"), std::string("a/b"),
        std::string("caf\xc3\xa9.example"), std::string("under_score.example"),
        std::string("a:443"), std::string(".example.com"), std::string("a..example")})
    EXPECT_EQ(parse(helloWith(serverName(name))).status, Status::kMalformed) << name;
  // An IP literal is not allowed in SNI (RFC 6066 3), but it is in the character set.
  EXPECT_EQ(parse(helloWith(serverName("10.0.0.1"))).serverName, "10.0.0.1");
}

TEST(ClientHelloTest, NameOf255BytesIsTheLongest) {
  std::string longest;
  while (longest.size() < 255)
    longest += (longest.size() % 64 == 63) ? '.' : 'a';
  ASSERT_EQ(longest.size(), 255u);
  ASSERT_NE(longest.back(), '.');
  EXPECT_EQ(parse(helloWith(serverName(longest))).serverName, longest);
  EXPECT_EQ(parse(helloWith(serverName(longest + "a"))).status, Status::kMalformed);
}

TEST(ClientHelloTest, MalformedAlpnIsMalformed) {
  EXPECT_EQ(parse(helloWith(extension(16, vector16("")))).status, Status::kMalformed);
  EXPECT_EQ(parse(helloWith(extension(16, vector16(std::string("\x02h2\x00", 4))))).status,
            Status::kMalformed);
  EXPECT_EQ(parse(helloWith(extension(16, vector16("\x03h2")))).status, Status::kMalformed);
}

// --- Peeking from a socket ---

std::chrono::microseconds threadCpuTime() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return std::chrono::seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         std::chrono::microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// A server socket on 127.0.0.1 and a client connected to it; the test's coroutine runs on
// `context`, the client's side is driven by a thread the test starts.
class ClientHelloPeekTest : public ::testing::Test {
 protected:
  ClientHelloPeekTest()
      : acceptor_(context_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  // Runs `clientScript` on a thread with a connected socket, accepts its connection, peeks the
  // ClientHello with `timeout`, then reads `readAfter` bytes from the socket into `readBack_`.
  template <class Script>
  ClientHelloInfo peek(Script clientScript, std::chrono::milliseconds timeout,
                       size_t readAfter = 0) {
    client_ = std::thread([this, clientScript] {
      asio::io_context context;
      tcp::socket socket(context);
      boost::system::error_code error;
      socket.connect(acceptor_.local_endpoint(), error);
      if (error) return;
      socket.set_option(tcp::no_delay(true), error);
      clientScript(socket);
    });
    std::optional<ClientHelloInfo> result;
    asio::co_spawn(
        context_,
        [&]() -> asio::awaitable<void> {
          tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
          const auto start = Clock::now();
          const auto cpuStart = threadCpuTime();
          result = co_await peekClientHello(socket, timeout);
          cpu_ = threadCpuTime() - cpuStart;
          elapsed_ = Clock::now() - start;
          int lowWatermark = 0;
          socklen_t length = sizeof lowWatermark;
          ::getsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVLOWAT, &lowWatermark, &length);
          lowWatermarkAfter_ = lowWatermark;
          readBack_.resize(readAfter);
          if (readAfter > 0) co_await asio::async_read(socket, asio::buffer(readBack_), kNoThrow);
        },
        asio::detached);
    context_.run_for(20s);
    client_.join();
    if (!result) ADD_FAILURE() << "the peek did not finish";
    return result.value_or(ClientHelloInfo{});
  }

  asio::io_context context_;
  tcp::acceptor acceptor_;
  std::thread client_;
  Clock::duration elapsed_{};
  std::chrono::microseconds cpu_{};  // the peek's thread's CPU time
  int lowWatermarkAfter_ = -1;
  std::string readBack_;
};

// Writes `bytes`, then waits for the server to close.
void writeAndWait(tcp::socket& socket, const std::string& bytes) {
  boost::system::error_code error;
  asio::write(socket, asio::buffer(bytes), error);
  pollfd entry{.fd = socket.native_handle(), .events = POLLIN, .revents = 0};
  ::poll(&entry, 1, 10'000);  // until the server closes, or a bound for a broken test
}

TEST_F(ClientHelloPeekTest, PeekWaitsForTheWholeHelloAndConsumesNothing) {
  const std::string hello = opensslClientHello("passthrough.example");
  ASSERT_GT(hello.size(), 100u);
  const ClientHelloInfo info = peek(
      [&](tcp::socket& socket) {
        boost::system::error_code error;
        asio::write(socket, asio::buffer(hello.substr(0, 100)), error);
        std::this_thread::sleep_for(100ms);  // the scenario: the rest comes later
        writeAndWait(socket, hello.substr(100));
      },
      5s, hello.size());
  EXPECT_EQ(info.status, Status::kComplete) << describe(info.status);
  EXPECT_EQ(info.serverName, "passthrough.example");
  EXPECT_EQ(readBack_, hello);
  EXPECT_EQ(lowWatermarkAfter_, 1);
}

TEST_F(ClientHelloPeekTest, PeekGrowsItsBufferForALargeHello) {
  std::string alpn;
  while (alpn.size() < 12'000)
    alpn += "\x0eprotocol-" + std::to_string(10'000 + alpn.size() % 9'000);
  const std::string hello = opensslClientHello("big.example", TLS1_3_VERSION, alpn);
  ASSERT_GT(hello.size(), 12'000u);
  const ClientHelloInfo info =
      peek([&](tcp::socket& socket) { writeAndWait(socket, hello); }, 5s, hello.size());
  EXPECT_EQ(info.status, Status::kComplete) << describe(info.status);
  EXPECT_EQ(info.serverName, "big.example");
  EXPECT_EQ(readBack_, hello);
}

TEST_F(ClientHelloPeekTest, PlaintextIsNotTlsAndStaysUnread) {
  const std::string request = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  const ClientHelloInfo info =
      peek([&](tcp::socket& socket) { writeAndWait(socket, request); }, 5s, request.size());
  EXPECT_EQ(info.status, Status::kNotTls);
  EXPECT_EQ(readBack_, request);
}

TEST_F(ClientHelloPeekTest, SilentClientTimesOut) {
  const ClientHelloInfo info = peek([&](tcp::socket& socket) { writeAndWait(socket, ""); }, 200ms);
  EXPECT_EQ(info.status, Status::kTimedOut) << describe(info.status);
  EXPECT_GE(elapsed_, 200ms);
  EXPECT_LT(elapsed_, 3s);
}

TEST_F(ClientHelloPeekTest, PartialHelloTimesOut) {
  const std::string hello = opensslClientHello("slow.example");
  const ClientHelloInfo info =
      peek([&](tcp::socket& socket) { writeAndWait(socket, hello.substr(0, 50)); }, 200ms);
  EXPECT_EQ(info.status, Status::kTimedOut) << describe(info.status);
  EXPECT_GE(elapsed_, 200ms);
  EXPECT_LT(elapsed_, 3s);
  EXPECT_LT(cpu_, 50ms);  // it waited for more bytes, not spun on the ones it had
  EXPECT_EQ(lowWatermarkAfter_, 1);
}

TEST_F(ClientHelloPeekTest, ClientClosingBeforeSendingIsClosed) {
  const ClientHelloInfo info = peek([](tcp::socket& socket) { socket.close(); }, 10s);
  EXPECT_EQ(info.status, Status::kClosed) << describe(info.status);
  EXPECT_LT(elapsed_, 5s);
}

TEST_F(ClientHelloPeekTest, ClientClosingMidHelloIsClosed) {
  const std::string hello = opensslClientHello("gone.example");
  const ClientHelloInfo info = peek(
      [&](tcp::socket& socket) {
        boost::system::error_code error;
        asio::write(socket, asio::buffer(hello.substr(0, 50)), error);
        socket.close();
      },
      10s);
  EXPECT_EQ(info.status, Status::kClosed) << describe(info.status);
  EXPECT_LT(elapsed_, 5s);
}

TEST_F(ClientHelloPeekTest, MalformedHelloIsReportedWithoutWaitingForMore) {
  const ClientHelloInfo info = peek(
      [](tcp::socket& socket) { writeAndWait(socket, std::string("\x16\x03\x01\x00\x00", 5)); },
      10s);
  EXPECT_EQ(info.status, Status::kMalformed) << describe(info.status);
  EXPECT_LT(elapsed_, 5s);
}

}  // namespace
}  // namespace meshgate::dp
