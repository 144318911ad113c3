// How the proxy rewrites message heads in both directions (RFC 9110 section 7.6): hop-by-hop
// headers — Connection, the headers it names, Keep-Alive, Proxy-Connection, TE (but for its
// "trailers", which gRPC servers require), Trailer, Upgrade (kept only for an upgrade) — are not
// forwarded; requests gain x-forwarded-for (appended),
// x-forwarded-proto, x-forwarded-host, x-request-id (kept, or generated) and via; Expect is
// answered by the proxy itself, so it is not forwarded; route filters set, add and remove
// headers. Content-Length and Transfer-Encoding pass unchanged because bodies are forwarded with
// their original framing (an HTTP/2 client gets the body without it). Trailers cross between the
// versions as an HTTP/1.1 last chunk or HTTP/2 fields, without the fields that frame or route a
// message. Pure functions writing into a reused string.
#pragma once

#include <string>
#include <string_view>

#include "dataplane/http/http1_parser.h"
#include "dataplane/http2/server_codec.h"
#include "dataplane/proxy/snapshot.h"

namespace meshgate::dp {

struct RequestForwarding {
  std::string_view path;       // after a prefix rewrite, query excluded
  std::string_view query;      // appended after '?' when not empty
  std::string_view host;       // after a hostname rewrite
  std::string_view clientIp;   // appended to x-forwarded-for
  std::string_view requestId;  // generated when the request had none; else empty
  bool tls = false;            // x-forwarded-proto https
  const HeaderEdits* edits = nullptr;
  const HeaderList* added = nullptr;  // the request filters' headers (claims), after the edits
};

void writeUpstreamRequestHead(std::string& out, const http::RequestHead& request,
                              const RequestForwarding& forwarding);

struct ResponseForwarding {
  unsigned clientVersionMinor = 1;
  bool keepAlive = true;  // what the proxy will do with the client connection
  const HeaderEdits* edits = nullptr;
  const HeaderList* added = nullptr;  // the request filters' headers (CORS, rate limit)
};

void writeDownstreamResponseHead(std::string& out, const http::ResponseHead& response,
                                 const ResponseForwarding& forwarding);

// The same response head for an HTTP/2 client, as fields into `out` (cleared): names lowercased,
// and Transfer-Encoding dropped with the other connection-specific fields (RFC 9113 8.2.2).
void collectHttp2ResponseFields(std::vector<http2::Field>& out, const http::ResponseHead& response,
                                const HeaderEdits* edits, const HeaderList* added);

// One chunk of a chunked body: its size in hex, CRLF, `data`, CRLF (appended to `out`).
void writeChunk(std::string& out, std::string_view data);

// The last chunk of a chunked body, with `trailers` (an HTTP/2 request's) as its trailer section.
void writeLastChunk(std::string& out, const std::vector<http2::Field>& trailers);

// An HTTP/1.1 trailer section ("name: value\r\n" lines) as HTTP/2 trailer fields into `out`
// (cleared): names lowercased, values trimmed.
void collectHttp2TrailerFields(std::vector<http2::Field>& out, std::string_view lines);

std::string_view reasonPhrase(unsigned status);

// A 36-character random UUID (version 4 layout) from two 64-bit random values, into `out`
// (its capacity is reused: no allocation per request).
void formatRequestId(std::string& out, uint64_t high, uint64_t low);

}  // namespace meshgate::dp
