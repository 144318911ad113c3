// LocalReply: a response the proxy answers itself instead of an upstream — 404 without a route,
// redirects, 4xx for bad input, 502/503/504 when the upstream failed, 503 on overflow — like
// Envoy's sendLocalReply. Whoever decides on such an answer (the session, a request filter, the
// upstream router) fills one in; DownstreamSession::sendLocalReply is the one place that writes it
// to the client, and formatLocalReply below the one place that formats it. Pure data and a pure
// function; no thread of its own. A 204 or 304 goes out without content headers or body.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshgate::dp {

struct LocalReply {
  unsigned status = 0;
  std::string body;          // text/plain; announced with content-length
  std::string extraHeaders;  // complete lines: "location: https://…\r\n"
  // The client connection must end after this reply even when the request allowed keep-alive
  // (e.g. an unread request body the stream cannot skip).
  bool closeConnection = false;
};

// The marker of a reply refused for want of capacity (a circuit breaker, the retry budget), so
// clients and tests can tell overflow from an upstream's own 503 (Envoy's x-envoy-overloaded).
inline constexpr std::string_view kOverflowHeader = "x-meshgate-overflow: 1\r\n";

// A reply of `status` with a text body; `close` ends the client connection after it.
LocalReply makeLocalReply(unsigned status, std::string body, std::string_view extraHeaders = {},
                          bool close = false);

// Appends "name: value\r\n" lines to `out` (a LocalReply's extraHeaders).
void appendHeaderLines(std::string& out,
                       const std::vector<std::pair<std::string, std::string>>& headers);

// The whole reply, head and body, into `out` (its capacity reused). `keepAlive` false adds
// `connection: close`. `announceOnly` (a HEAD request): the head announces the body's length, as
// the same GET would get it, but the body is not sent (RFC 9110 section 9.3.2).
void formatLocalReply(std::string& out, unsigned status, std::string_view body,
                      std::string_view extraHeaders, bool keepAlive, bool announceOnly);

}  // namespace meshgate::dp
