// Strict HTTP/1.1 message-head parser for the proxy, both directions (RFC 9112). It parses a
// complete head in one call from a contiguous buffer (the caller re-calls with more bytes on
// NeedMore), never allocates beyond the caller's reusable header vector, and returns views into
// the buffer. Strict on purpose: everything a request-smuggling attack relies on is an error —
// Content-Length together with Transfer-Encoding, duplicate or non-numeric Content-Length, a
// Transfer-Encoding other than a final "chunked", obs-fold, bare CR or LF, whitespace before a
// colon, invalid token characters in names or methods, control characters in values — and so are
// the limits on request-line length, head size and header count.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/ascii.h"

namespace meshgate::dp::http {

enum class ParseStatus {
  Complete,
  NeedMore,
  // Errors. The proxy answers each with the status statusFor() gives and closes the connection.
  BadRequestLine,          // 400: method / target / version malformed
  UnsupportedVersion,      // 505: not HTTP/1.0 or HTTP/1.1
  BadStatusLine,           // responses only (proxy answers 502)
  BadHeaderName,           // 400: empty, non-token, or whitespace before ':'
  BadHeaderValue,          // 400: CTL or DEL in a value
  ObsFold,                 // 400: a line starting with SP/HTAB (obsolete line folding)
  BareLineEnding,          // 400: CR not followed by LF, or LF without CR
  RequestLineTooLong,      // 414
  HeadTooLarge,            // 431 (responses: 502)
  TooManyHeaders,          // 431 (responses: 502)
  BadContentLength,        // 400: not 1*DIGIT (so also a list such as "5, 5"), or 2^63 or more
  DuplicateContentLength,  // 400: the header appears more than once (even with equal values)
  ContentLengthWithTransferEncoding,  // 400
  BadTransferEncoding,    // 400: no coding, "chunked" not last, repeated or with parameters, a
                          // request whose codings do not end in "chunked", or any in HTTP/1.0
  UnknownTransferCoding,  // 501: a request coding before the final "chunked" (e.g. gzip)
  MissingHost,            // 400: HTTP/1.1 request without exactly one Host (1.0: more than one)
};
// Response heads use the same statuses (a status line longer than maxRequestLineBytes is
// RequestLineTooLong). A Host value that is not uri-host[":"port] makes a request BadHeaderValue.
// On any status but Complete the head's fields are unspecified (the header vector keeps its
// capacity).

// The downstream status the proxy sends for a request-side error (400, 414, 431, 501, 505).
// BadStatusLine maps to 502; for any other error in a response head the proxy sends 502 too.
unsigned statusFor(ParseStatus status);
// A short, stable reason for logs and bodies: "content-length with transfer-encoding".
std::string_view describe(ParseStatus status);

struct Header {
  std::string_view name;   // as sent (case preserved)
  std::string_view value;  // leading/trailing SP/HTAB trimmed
};

enum class BodyFraming {
  None,           // no body (requests without CL/TE; 1xx/204/304 responses; HEAD responses)
  ContentLength,  // exactly `contentLength` bytes follow
  Chunked,        // chunked coding; see chunked_decoder.h
  UntilClose,     // responses only: body ends when the server closes
};

// Enforced on incomplete heads as well, as soon as the buffer passes them.
struct Limits {
  uint32_t maxRequestLineBytes = 8 * 1024;  // request or status line, CRLF excluded
  uint32_t maxHeadBytes = 64 * 1024;        // the whole head, leading empty lines to final CRLF
  uint32_t maxHeaders = 100;
};

struct RequestHead {
  std::string_view method;
  std::string_view target;  // as sent (origin-form "/p?q", absolute-form, authority-form, "*")
  // origin-form: target up to '?'; absolute-form: its path ("/" if none); "*" for OPTIONS *;
  // empty for CONNECT's authority-form.
  std::string_view path;
  std::string_view query;  // after '?', without it; empty when none
  // The Host header value; absolute-form: its authority wins; CONNECT: the target. Empty for
  // HTTP/1.0 without Host.
  std::string_view host;
  unsigned versionMinor = 1;    // 0 or 1
  std::vector<Header> headers;  // reused: the parser clears it, capacity stays
  BodyFraming framing = BodyFraming::None;
  uint64_t contentLength = 0;
  bool keepAlive = true;        // HTTP/1.1 unless "Connection: close"; 1.0 only with keep-alive
  bool expectContinue = false;  // "Expect: 100-continue" (ignored in HTTP/1.0, RFC 9110 10.1.1)
  bool upgrade = false;         // "Connection: upgrade" together with an Upgrade header
  bool connectionNamesHeaders = false;  // Connection lists a token besides close, keep-alive and
                                        // upgrade: the header it names is hop-by-hop
  size_t headBytes = 0;                 // bytes of the buffer the head used, final CRLF included
};

struct ResponseHead {
  unsigned status = 0;
  std::string_view reason;
  unsigned versionMinor = 1;
  std::vector<Header> headers;
  BodyFraming framing = BodyFraming::None;
  uint64_t contentLength = 0;  // the Content-Length value, set even when framing is None (HEAD)
  bool keepAlive = true;       // false on "Connection: close", on HTTP/1.0 without keep-alive, and
                               // on UntilClose framing
  bool upgrade = false;        // 101 Switching Protocols
  bool connectionNamesHeaders = false;  // as in RequestHead
  size_t headBytes = 0;
};

// `buffer` holds the bytes read so far, starting at the first byte of the head. Leading empty
// lines (CRLF) before a request line are skipped, as RFC 9112 section 2.2 allows; they count in
// headBytes.
ParseStatus parseRequestHead(std::string_view buffer, const Limits& limits, RequestHead& out);

// `requestMethod` decides framing: a response to HEAD has no body, a 2xx to CONNECT neither.
// Framing headers are validated even when the status means no body. Leading empty lines are not
// skipped.
ParseStatus parseResponseHead(std::string_view buffer, std::string_view requestMethod,
                              const Limits& limits, ResponseHead& out);

// Case-insensitive ASCII comparison for header names and tokens.
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return asciiEqualsIgnoreCase(a, b);
}

}  // namespace meshgate::dp::http
