// `meshgate-test-backend call`: an HTTP/1.1 client inside the backend's binary, for pods whose
// image has no curl (the mesh e2e tests run it with `kubectl exec POD -c app -- ...`).
//   meshgate-test-backend call URL [--count N] [--concurrency C] [--duration-s S] [--rate R]
//       [--header "name: value"]... [--timeout-ms T] [--keep-alive|--no-keep-alive]
//       [--method GET] [--summary]
// URL is http://HOST[:PORT]/PATH[?QUERY]; HOST is resolved with getaddrinfo (so resolv.conf search
// domains apply: orders.shop.svc) each time a connection is opened, with the request's timeout.
// One keep-alive connection per concurrency slot, reopened after the server closes it or after an
// error; a GET/HEAD that finds a reused connection closed before any byte of the response is sent
// once more on a new connection (the server timed the idle connection out), and counted once.
//
// One request, no --summary: prints the response like `curl -i` (status line, headers, a blank
// line, the body; header lines end in LF only) and exits 0 whatever the status, or prints
// "call: <what failed>" to stderr and exits 1 when no response arrived.
// --summary, --count > 1 or --duration-s: prints one JSON object and exits 0:
//   {"requests": n, "statuses": {"200": n, ...},
//    "errors": {"connect": n, "timeout": n, "reset": n, "other": n},
//    "backends": {"<x-backend value>": n, ...}, "latency_ms": {"p50": x, "p99": y}}
// requests counts every attempt (responses + errors). Errors: connect = no connection (the name
// did not resolve, or every address refused or was unreachable); timeout = --timeout-ms passed
// (resolve + connect + write + read of one request); reset = the connection was reset or closed
// before a complete response; other = anything else (a malformed response...). backends counts
// the responses that carry x-backend. latency_ms: nearest-rank percentiles over the responses,
// from the start of the request (connect included when it opened a connection) to its last byte;
// null when no response arrived. The first few errors are also printed to stderr.
// Bad arguments exit non-zero (2 for a bad URL, header or method).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace meshgate::testtools {

struct CallOptions {
  std::string url;
  std::uint64_t count = 1;
  unsigned concurrency = 1;
  double durationS = 0;              // > 0: run until then instead of --count
  double rate = 0;                   // requests/s across all connections; 0: as fast as possible
  std::vector<std::string> headers;  // "name: value"
  std::uint64_t timeoutMs = 5000;
  bool keepAlive = true;
  std::string method = "GET";
  bool summary = false;
};

// Adds the `call` subcommand, which fills options, to app; returns it (->parsed(): it was given).
CLI::App* addCallCommand(CLI::App& app, CallOptions& options);

// The parts of a call URL.
struct CallUrl {
  std::string host;        // what to resolve: a name, an IPv4 or IPv6 address (no brackets)
  std::string port;        // "80" when the URL has none
  std::string hostHeader;  // the Host header: host[:port] as the URL spells it
  std::string target;      // origin form: "/path?query" ("/" for an empty path)
};

// Parses http://HOST[:PORT][/PATH][?QUERY] (a fragment is dropped); nullopt and why if it is not
// one (another scheme, user info, no host, a bad port).
std::optional<CallUrl> parseCallUrl(std::string_view text, std::string& why);

// What lookUpHost found: the addresses, or why there are none ("resolve HOST: …").
struct HostLookup {
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;
  std::string error;
};

// HOST (a name, or an IP address taken as it is) and PORT resolved by `deadline`, with getaddrinfo
// on a thread of its own that is abandoned at the deadline, so a hung lookup cannot hold the
// caller past it (`timeoutMs` is what the timed-out error names). The `call` and `tcp` clients'.
boost::asio::awaitable<HostLookup> lookUpHost(const std::string& host, const std::string& port,
                                              std::chrono::steady_clock::time_point deadline,
                                              std::uint64_t timeoutMs);

using CallRequest = boost::beast::http::request<boost::beast::http::string_body>;
using CallResponse = boost::beast::http::response<boost::beast::http::string_body>;

// The request every call sends: method, target, Host, user-agent, the --header values (a header
// named host or user-agent replaces the default), Connection: close with --no-keep-alive.
// nullopt and why on a bad method or header.
std::optional<CallRequest> buildCallRequest(const CallOptions& options, const CallUrl& url,
                                            std::string& why);

struct CallErrors {
  std::uint64_t connect = 0;
  std::uint64_t timeout = 0;
  std::uint64_t reset = 0;
  std::uint64_t other = 0;
};

struct CallSummary {
  std::uint64_t requests = 0;
  std::map<unsigned, std::uint64_t> statuses;
  CallErrors errors;
  std::map<std::string, std::uint64_t> backends;
  std::vector<double> latenciesMs;  // one per response, in completion order
  // The first few errors, e.g. "connect 10.0.0.5:8080: Connection refused".
  std::vector<std::string> errorMessages;
  std::uint64_t errorsNotKept = 0;           // errors beyond those messages
  std::optional<CallResponse> lastResponse;  // the last response that arrived
};

// Runs the calls of options (count or duration, concurrency, rate) on one thread and returns what
// happened. Never throws on network failures: they are counted.
CallSummary runCalls(const CallOptions& options, const CallUrl& url, const CallRequest& request);

// The --summary JSON object of summary, its keys in the order above.
nlohmann::ordered_json summaryJson(const CallSummary& summary);

// The whole subcommand: parses and checks options, runs the calls, prints the response or the
// summary to out and errors to err; returns the exit status.
int runCallCommand(const CallOptions& options, std::ostream& out, std::ostream& err);

}  // namespace meshgate::testtools
