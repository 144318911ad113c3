// The `call` client (test_client.h) against a real meshgate-test-backend process on 127.0.0.1,
// in process (runCalls, runCallCommand) and through the binary's command line.
#include "test/tools/test_client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace meshgate::testtools {
namespace {

using nlohmann::json;

constexpr const char* kBackend = MESHGATE_TEST_BACKEND;

struct Process {
  pid_t pid = -1;
  int out = -1;  // the read ends of its stdout and stderr
  int err = -1;
};

// Starts kBackend with args, its stdout and stderr on pipes.
Process spawn(const std::vector<std::string>& args) {
  int out[2];
  int err[2];
  // Close-on-exec: no other child inherits them; dup2 clears it on the child's 1 and 2.
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(kBackend));
  for (const std::string& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  Process process;
  if (posix_spawn(&process.pid, kBackend, &actions, nullptr, argv.data(), environ) != 0) {
    process.pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  process.out = out[0];
  process.err = err[0];
  return process;
}

// Reads fd up to end of file (or up to and including the first newline, with line).
std::string readFrom(int fd, bool line = false) {
  std::string text;
  char c[4096];
  for (;;) {
    const ssize_t n = read(fd, c, line ? 1 : sizeof c);
    if (n <= 0) break;
    text.append(c, static_cast<std::size_t>(n));
    if (line && c[0] == '\n') break;
  }
  return text;
}

struct Finished {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs `meshgate-test-backend ARGS...` to its end (its output is small: pipe buffers hold it).
Finished runBinary(const std::vector<std::string>& args) {
  Process process = spawn(args);
  Finished finished;
  if (process.pid < 0) return finished;
  finished.out = readFrom(process.out);
  finished.err = readFrom(process.err);
  close(process.out);
  close(process.err);
  int status = 0;
  waitpid(process.pid, &status, 0);
  finished.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return finished;
}

// A raw HTTP server on 127.0.0.1 that serves `connections` connections one after the other: on
// each it reads one request head, answers it with a keep-alive 200 (or, with drop, nothing), and
// closes the connection: what a server that times out idle keep-alive connections looks like.
class ClosingServer {
 public:
  ClosingServer(int connections, bool drop) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener_, 8) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      ADD_FAILURE() << "cannot listen";
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this, connections, drop] {
      for (int i = 0; i < connections; ++i) {
        const int fd = accept(listener_, nullptr, nullptr);
        if (fd < 0) return;
        std::string head;
        char c;
        while (!head.ends_with("\r\n\r\n") && read(fd, &c, 1) == 1)
          head += c;
        if (!drop) {
          const std::string response =
              "HTTP/1.1 200 OK\r\nx-backend: raw\r\nContent-Length: 2\r\n\r\nok";
          if (write(fd, response.data(), response.size()) < 0) ADD_FAILURE() << "write";
        }
        close(fd);
      }
    });
  }
  ~ClosingServer() {
    shutdown(listener_, SHUT_RDWR);  // wakes an accept still waiting for a client that failed
    if (thread_.joinable()) thread_.join();
    close(listener_);
  }
  int port() const { return port_; }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

class CallAgainstBackend : public ::testing::Test {
 protected:
  // One backend, named "b-test", for the whole suite.
  static void SetUpTestSuite() {
    backend_ = spawn({"--listen", "127.0.0.1:0", "--name", "b-test"});
    ASSERT_GT(backend_.pid, 0) << "cannot start " << kBackend;
    const std::string line = readFrom(backend_.out, true);  // "listening 127.0.0.1:PORT\n"
    const auto colon = line.rfind(':');
    ASSERT_TRUE(line.starts_with("listening ") && colon != std::string::npos) << line;
    port_ = std::stoi(line.substr(colon + 1));
  }

  static void TearDownTestSuite() {
    if (backend_.pid > 0) {
      kill(backend_.pid, SIGTERM);
      waitpid(backend_.pid, nullptr, 0);
    }
    close(backend_.out);
    close(backend_.err);
  }

  static std::string url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // A port on 127.0.0.1 that refuses connections: bound, not listening, held by this fixture.
  int closedPort() {
    closedSocket_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(0, bind(closedSocket_, reinterpret_cast<sockaddr*>(&address), sizeof address));
    socklen_t size = sizeof address;
    EXPECT_EQ(0, getsockname(closedSocket_, reinterpret_cast<sockaddr*>(&address), &size));
    return ntohs(address.sin_port);
  }

  void TearDown() override {
    if (closedSocket_ >= 0) close(closedSocket_);
  }

  static CallSummary run(CallOptions options) {
    std::string why;
    const auto parsed = parseCallUrl(options.url, why);
    EXPECT_TRUE(parsed) << why;
    const auto request = buildCallRequest(options, *parsed, why);
    EXPECT_TRUE(request) << why;
    return runCalls(options, *parsed, *request);
  }

  static CallOptions options(const std::string& path, std::uint64_t count = 1,
                             unsigned concurrency = 1) {
    CallOptions options;
    options.url = url(path);
    options.count = count;
    options.concurrency = concurrency;
    return options;
  }

  static inline Process backend_;
  static inline int port_ = 0;
  int closedSocket_ = -1;
};

TEST(ParseCallUrl, TakesHostPortAndTarget) {
  std::string why;
  auto url = parseCallUrl("http://orders.shop.svc/v1/items?id=7#top", why);
  ASSERT_TRUE(url) << why;
  EXPECT_EQ("orders.shop.svc", url->host);
  EXPECT_EQ("80", url->port);
  EXPECT_EQ("orders.shop.svc", url->hostHeader);
  EXPECT_EQ("/v1/items?id=7", url->target);

  url = parseCallUrl("http://[::1]:8080", why);
  ASSERT_TRUE(url) << why;
  EXPECT_EQ("::1", url->host);
  EXPECT_EQ("8080", url->port);
  EXPECT_EQ("[::1]:8080", url->hostHeader);
  EXPECT_EQ("/", url->target);

  url = parseCallUrl("HTTP://10.0.0.5:80?q", why);
  ASSERT_TRUE(url) << why;
  EXPECT_EQ("10.0.0.5", url->host);
  EXPECT_EQ("/?q", url->target);
}

TEST(ParseCallUrl, RefusesWhatItCannotCall) {
  std::string why;
  for (const char* bad : {"https://example.com/", "example.com/x", "http:///x", "http://u@h/",
                          "http://h:0/", "http://h:65536/", "http://h:x/", "http://h:/", ""}) {
    EXPECT_FALSE(parseCallUrl(bad, why)) << bad;
  }
}

TEST(BuildCallRequest, SetsHostHeadersAndConnection) {
  std::string why;
  const auto url = parseCallUrl("http://orders.shop.svc:8080/x", why);
  ASSERT_TRUE(url);
  CallOptions options;
  options.headers = {"X-Test:  one ", "x-test: two", "Host: other", "x-empty:", "USER-AGENT: t"};
  options.keepAlive = false;
  auto request = buildCallRequest(options, *url, why);
  ASSERT_TRUE(request) << why;
  std::ostringstream text;
  text << *request;
  EXPECT_EQ(
      "GET /x HTTP/1.1\r\nHost: other\r\nUser-Agent: t\r\n"
      "X-Test: one\r\nx-test: two\r\nx-empty: \r\nConnection: close\r\n\r\n",
      text.str());

  options.method = "BAD METHOD";
  EXPECT_FALSE(buildCallRequest(options, *url, why));
  options.method = "PURGE";
  options.headers = {"no colon"};
  EXPECT_FALSE(buildCallRequest(options, *url, why));
  options.headers = {"bad name: v"};
  EXPECT_FALSE(buildCallRequest(options, *url, why));
  options.headers = {": v"};
  EXPECT_FALSE(buildCallRequest(options, *url, why));
}

TEST(CallCommandLine, ParsesEveryOption) {
  CLI::App app;
  CallOptions options;
  CLI::App* call = addCallCommand(app, options);
  app.parse(
      "call --header \"a: 1\" --header 'b: 2' http://h/x --concurrency 4 --duration-s 1.5 "
      "--rate 20 --timeout-ms 300 --no-keep-alive --method HEAD --summary");
  EXPECT_TRUE(call->parsed());
  EXPECT_EQ("http://h/x", options.url);
  EXPECT_EQ((std::vector<std::string>{"a: 1", "b: 2"}), options.headers);
  EXPECT_EQ(4u, options.concurrency);
  EXPECT_EQ(1.5, options.durationS);
  EXPECT_EQ(20, options.rate);
  EXPECT_EQ(300u, options.timeoutMs);
  EXPECT_FALSE(options.keepAlive);
  EXPECT_EQ("HEAD", options.method);
  EXPECT_TRUE(options.summary);
  EXPECT_EQ(1u, options.count);

  CLI::App other;
  CallOptions defaults;
  addCallCommand(other, defaults);
  EXPECT_THROW(other.parse("call http://h/ --count 2 --duration-s 1"), CLI::ParseError);
  EXPECT_THROW(other.parse("call http://h/ --count 0"), CLI::ParseError);
  EXPECT_THROW(other.parse("call"), CLI::ParseError);
}

TEST(CallAgainstClosingServer, SendsAgainWhenAReusedConnectionWasClosed) {
  // The second request finds its connection closed by the server before any response byte: it
  // goes out again on a new connection and counts once.
  ClosingServer server(2, false);
  CallOptions options;
  options.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  options.count = 2;
  std::string why;
  const auto url = parseCallUrl(options.url, why);
  const auto request = buildCallRequest(options, *url, why);
  const CallSummary summary = runCalls(options, *url, *request);
  EXPECT_EQ(2u, summary.requests);
  EXPECT_EQ((std::map<unsigned, std::uint64_t>{{200, 2}}), summary.statuses);
  EXPECT_EQ((std::map<std::string, std::uint64_t>{{"raw", 2}}), summary.backends);
  EXPECT_TRUE(summary.errorMessages.empty()) << summary.errorMessages.front();
}

TEST(CallAgainstClosingServer, CountsAClosedFreshConnectionAsReset) {
  ClosingServer server(1, true);
  CallOptions options;
  options.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  std::string why;
  const auto url = parseCallUrl(options.url, why);
  const auto request = buildCallRequest(options, *url, why);
  const CallSummary summary = runCalls(options, *url, *request);
  EXPECT_EQ(1u, summary.requests);
  EXPECT_EQ(1u, summary.errors.reset);
  ASSERT_EQ(1u, summary.errorMessages.size());
  EXPECT_EQ("read from 127.0.0.1:" + std::to_string(server.port()) +
                ": connection closed before a response",
            summary.errorMessages.front());
}

TEST_F(CallAgainstBackend, ResolvesNames) {
  // localhost may come first as ::1, where nothing listens: the client goes on to 127.0.0.1.
  CallOptions named = options("/", 2);
  named.url = "http://localhost:" + std::to_string(port_) + "/";
  const CallSummary summary = run(named);
  EXPECT_EQ((std::map<unsigned, std::uint64_t>{{200, 2}}), summary.statuses);
}

TEST_F(CallAgainstBackend, CountsStatusesAndBackends) {
  const CallSummary summary = run(options("/status/200", 10, 3));
  EXPECT_EQ(10u, summary.requests);
  EXPECT_EQ((std::map<unsigned, std::uint64_t>{{200, 10}}), summary.statuses);
  EXPECT_EQ((std::map<std::string, std::uint64_t>{{"b-test", 10}}), summary.backends);
  EXPECT_EQ(10u, summary.latenciesMs.size());
  EXPECT_TRUE(summary.errorMessages.empty());

  const json out = json::parse(summaryJson(summary).dump());
  EXPECT_EQ(10, out["requests"]);
  EXPECT_EQ(json({{"200", 10}}), out["statuses"]);
  EXPECT_EQ(json({{"connect", 0}, {"timeout", 0}, {"reset", 0}, {"other", 0}}), out["errors"]);
  EXPECT_EQ(json({{"b-test", 10}}), out["backends"]);
  EXPECT_TRUE(out["latency_ms"]["p50"].is_number());
  EXPECT_LE(out["latency_ms"]["p50"].get<double>(), out["latency_ms"]["p99"].get<double>());
}

TEST_F(CallAgainstBackend, CountsOtherStatuses) {
  const CallSummary summary = run(options("/status/404", 3));
  EXPECT_EQ(3u, summary.requests);
  EXPECT_EQ((std::map<unsigned, std::uint64_t>{{404, 3}}), summary.statuses);
  EXPECT_EQ(0u, summary.errors.connect);
}

TEST_F(CallAgainstBackend, CountsRefusedConnectionsAsConnectErrors) {
  const int port = closedPort();
  CallOptions refused = options("", 3, 2);
  refused.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  const CallSummary summary = run(refused);
  EXPECT_EQ(3u, summary.requests);
  EXPECT_EQ(3u, summary.errors.connect);
  EXPECT_TRUE(summary.statuses.empty());
  ASSERT_FALSE(summary.errorMessages.empty());
  EXPECT_EQ("connect 127.0.0.1:" + std::to_string(port) + ": Connection refused",
            summary.errorMessages.front());
  const json out = json::parse(summaryJson(summary).dump());
  EXPECT_EQ(3, out["errors"]["connect"]);
  EXPECT_TRUE(out["latency_ms"]["p50"].is_null());
}

TEST_F(CallAgainstBackend, CountsTimeouts) {
  CallOptions slow = options("/delay?ms=10000");
  slow.timeoutMs = 100;
  const CallSummary summary = run(slow);
  EXPECT_EQ(1u, summary.requests);
  EXPECT_EQ(1u, summary.errors.timeout);
  ASSERT_EQ(1u, summary.errorMessages.size());
  EXPECT_EQ("read from 127.0.0.1:" + std::to_string(port_) + ": timed out (--timeout-ms 100)",
            summary.errorMessages.front());
}

TEST_F(CallAgainstBackend, ReconnectsWhenTheServerCloses) {
  // /close answers, then closes the connection: every request needs a new one.
  CallSummary summary = run(options("/close", 4));
  EXPECT_EQ((std::map<unsigned, std::uint64_t>{{200, 4}}), summary.statuses);
  EXPECT_EQ(4u, summary.requests);

  CallOptions noKeepAlive = options("/", 3);
  noKeepAlive.keepAlive = false;
  summary = run(noKeepAlive);
  EXPECT_EQ((std::map<unsigned, std::uint64_t>{{200, 3}}), summary.statuses);
  ASSERT_TRUE(summary.lastResponse);
  EXPECT_FALSE(summary.lastResponse->keep_alive());
}

TEST_F(CallAgainstBackend, HeadReadsNoBody) {
  CallOptions head = options("/bytes?n=100", 2);
  head.method = "HEAD";
  const CallSummary summary = run(head);
  EXPECT_EQ((std::map<unsigned, std::uint64_t>{{200, 2}}), summary.statuses);
  ASSERT_TRUE(summary.lastResponse);
  EXPECT_EQ("100", summary.lastResponse->at(boost::beast::http::field::content_length));
  EXPECT_TRUE(summary.lastResponse->body().empty());
}

TEST_F(CallAgainstBackend, PacesRequestsAtTheRate) {
  // Due at 0, 10, 20, 30, 40 ms: the last one cannot start before 40 ms.
  CallOptions paced = options("/", 5, 2);
  paced.rate = 100;
  const auto start = std::chrono::steady_clock::now();
  const CallSummary summary = run(paced);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(40));
  EXPECT_EQ((std::map<unsigned, std::uint64_t>{{200, 5}}), summary.statuses);
}

TEST_F(CallAgainstBackend, RunsForTheDuration) {
  // At 50/s for 0.2 s: requests due at 0, 20, ..., 180 ms, so exactly 10.
  CallOptions timed = options("/", 1, 3);
  timed.durationS = 0.2;
  timed.rate = 50;
  const auto start = std::chrono::steady_clock::now();
  const CallSummary summary = run(timed);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(180));
  EXPECT_EQ(10u, summary.requests);
  EXPECT_EQ((std::map<unsigned, std::uint64_t>{{200, 10}}), summary.statuses);
}

TEST_F(CallAgainstBackend, PrintsOneResponseLikeCurl) {
  CallOptions one = options("/headers");
  one.headers = {"X-Test: one"};
  std::ostringstream out;
  std::ostringstream err;
  ASSERT_EQ(0, runCallCommand(one, out, err)) << err.str();
  EXPECT_EQ("", err.str());
  const std::string text = out.str();
  EXPECT_TRUE(text.starts_with("HTTP/1.1 200 OK\n")) << text;
  EXPECT_NE(std::string::npos, text.find("\nx-backend: b-test\n")) << text;
  const auto blank = text.find("\n\n");
  ASSERT_NE(std::string::npos, blank) << text;
  const json body = json::parse(text.substr(blank + 2));
  EXPECT_EQ("one", body["headers"]["x-test"]);
  EXPECT_EQ("127.0.0.1:" + std::to_string(port_), body["headers"]["host"]);
  EXPECT_EQ("GET", body["method"]);
  EXPECT_EQ("/headers", body["target"]);
}

TEST_F(CallAgainstBackend, CommandLineExitsOneWithoutAResponse) {
  // Any status is a response: exit 0.
  Finished teapot = runBinary({"call", url("/status/418")});
  EXPECT_EQ(0, teapot.status) << teapot.err;
  EXPECT_TRUE(teapot.out.starts_with("HTTP/1.1 418 ")) << teapot.out;

  const std::string port = std::to_string(closedPort());
  Finished refused = runBinary({"call", "http://127.0.0.1:" + port + "/"});
  EXPECT_EQ(1, refused.status);
  EXPECT_EQ("", refused.out);
  EXPECT_EQ("call: connect 127.0.0.1:" + port + ": Connection refused\n", refused.err);

  Finished bad = runBinary({"call", "https://127.0.0.1/"});
  EXPECT_EQ(2, bad.status);
  EXPECT_NE(std::string::npos, bad.err.find("only http://")) << bad.err;

  EXPECT_NE(0, runBinary({"call", url("/"), "--count", "x"}).status);
}

TEST_F(CallAgainstBackend, CommandLinePrintsTheSummary) {
  Finished many = runBinary({"call", url("/status/503"), "--count", "4", "--concurrency", "2"});
  ASSERT_EQ(0, many.status) << many.err;
  const json out = json::parse(many.out);
  EXPECT_EQ(4, out["requests"]);
  EXPECT_EQ(json({{"503", 4}}), out["statuses"]);
  EXPECT_EQ(json({{"b-test", 4}}), out["backends"]);

  // --summary for one request; errors also exit 0, the first ones named on stderr.
  const std::string port = std::to_string(closedPort());
  Finished refused = runBinary({"call", "http://127.0.0.1:" + port + "/", "--summary"});
  ASSERT_EQ(0, refused.status) << refused.err;
  EXPECT_EQ(1, json::parse(refused.out)["errors"]["connect"]);
  EXPECT_EQ("call: connect 127.0.0.1:" + port + ": Connection refused\n", refused.err);
}

}  // namespace
}  // namespace meshgate::testtools
