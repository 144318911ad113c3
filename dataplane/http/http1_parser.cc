// Strict HTTP/1.1 head parser (RFC 9112) behind http1_parser.h; the proxy's downstream session
// calls parseRequestHead and its upstream side parseResponseHead. Each call first locates the end
// of the head with one memchr per line (cheap enough to repeat on every NeedMore re-call, and
// where the size limits are enforced on incomplete heads), then validates the complete head in a
// single table-driven pass.
#include "dataplane/http/http1_parser.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <utility>

namespace meshgate::dp::http {
namespace {

enum CharClass : uint8_t {
  kTokenChar = 1,   // RFC 9110 tchar
  kValueChar = 2,   // field-vchar, SP, HTAB (obs-text included)
  kTargetChar = 4,  // anything but CTL, SP and DEL
  kHostChar = 8,    // uri-host [":" port] (RFC 3986): unreserved, pct, sub-delims, ':', '[', ']'
};

constexpr std::array<uint8_t, 256> makeCharTable() {
  std::array<uint8_t, 256> table{};
  for (unsigned c = 0; c < 256; ++c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool token = alnum;
    for (const char special : std::string_view("!#$%&'*+-.^_`|~")) {
      if (c == static_cast<unsigned char>(special)) token = true;
    }
    bool host = alnum;
    for (const char special : std::string_view("-._~%!$&'()*+,;=:[]")) {
      if (c == static_cast<unsigned char>(special)) host = true;
    }
    const bool visibleOrObsText = c > 0x20 && c != 0x7F;
    uint8_t classes = 0;
    if (token) classes |= kTokenChar;
    if (visibleOrObsText || c == ' ' || c == '\t') classes |= kValueChar;
    if (visibleOrObsText) classes |= kTargetChar;
    if (host) classes |= kHostChar;
    table[c] = classes;
  }
  return table;
}

constexpr std::array<uint8_t, 256> kCharTable = makeCharTable();

inline bool hasClass(char c, CharClass cls) {
  return (kCharTable[static_cast<unsigned char>(c)] & cls) != 0;
}
inline bool isOws(char c) {
  return c == ' ' || c == '\t';
}
inline bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

std::string_view trimOws(std::string_view text) {
  while (!text.empty() && isOws(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && isOws(text.back()))
    text.remove_suffix(1);
  return text;
}

bool isToken(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (!hasClass(c, kTokenChar)) return false;
  }
  return true;
}

// A line that fails validation because it holds a lone CR is reported as the line-ending
// problem it is (the smuggling-relevant classification), not as a bad name or value.
ParseStatus lineError(std::string_view line, ParseStatus status) {
  return line.find('\r') != std::string_view::npos ? ParseStatus::BareLineEnding : status;
}

// The error for a header line starting at `lineStart`: BareLineEnding when the line holds a lone
// CR or ends in a bare LF, else `status`.
ParseStatus headerLineError(std::string_view buffer, size_t lineStart, size_t headEnd,
                            ParseStatus status) {
  const size_t lf = buffer.find('\n', lineStart);
  if (lf >= headEnd || lf == lineStart || buffer[lf - 1] != '\r') {
    return ParseStatus::BareLineEnding;
  }
  return lineError(buffer.substr(lineStart, lf - 1 - lineStart), status);
}

// True when none of the 8 bytes in `word` is a CTL (HTAB included, so tabs take the byte-wise
// path) or DEL. Classic SWAR byte tests; a borrow can only cause a false positive in a word that
// really holds such a byte, and then the byte-wise check decides.
inline bool wordIsPlainText(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  const uint64_t belowSpace = (word - kOnes * 0x20) & ~word & kHighBits;
  const uint64_t xorDel = word ^ (kOnes * 0x7F);
  const uint64_t isDel = (xorDel - kOnes) & ~xorDel & kHighBits;
  return (belowSpace | isDel) == 0;
}

// Length of the prefix of [text, text + size) made of field-value bytes (VCHAR, obs-text, SP,
// HTAB): values are the bulk of a head, so they are checked eight bytes at a time.
size_t scanFieldValue(const char* text, size_t size) {
  size_t i = 0;
  while (i < size) {
    if (size - i >= 8) {
      uint64_t word;
      std::memcpy(&word, text + i, sizeof word);
      if (wordIsPlainText(word)) {
        i += 8;
        continue;
      }
    }
    if (!hasClass(text[i], kValueChar)) return i;
    ++i;
  }
  return size;
}

// Calls `each` with every non-empty, OWS-trimmed element of a comma-separated list.
template <typename Fn>
void forEachListElement(std::string_view list, Fn&& each) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view element = trimOws(list.substr(0, comma));
    if (!element.empty()) each(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// Finds the end of the head (just past its blank line) without validating it, and applies the
// limits to heads that are not complete yet so a slow sender cannot make us buffer forever.
// `lineStart` is where the request/status line begins (after skipped leading empty lines).
ParseStatus locateHead(std::string_view buffer, size_t lineStart, const Limits& limits,
                       size_t& headEnd) {
  const char* const data = buffer.data();
  const size_t size = buffer.size();
  if (lineStart >= size) return ParseStatus::NeedMore;

  // The first line: its content (CRLF excluded) may be at most maxRequestLineBytes long.
  const size_t lineSearch =
      std::min<size_t>(size - lineStart, size_t{limits.maxRequestLineBytes} + 2);
  const void* firstLf = std::memchr(data + lineStart, '\n', lineSearch);
  if (firstLf == nullptr) {
    const bool endsWithCr = lineSearch > 0 && data[lineStart + lineSearch - 1] == '\r';
    if (lineSearch - (endsWithCr ? 1 : 0) > limits.maxRequestLineBytes) {
      return ParseStatus::RequestLineTooLong;
    }
    return size > limits.maxHeadBytes ? ParseStatus::HeadTooLarge : ParseStatus::NeedMore;
  }
  const size_t lf = static_cast<size_t>(static_cast<const char*>(firstLf) - data);
  const size_t lineLength = lf - lineStart - (lf > lineStart && data[lf - 1] == '\r' ? 1 : 0);
  if (lineLength > limits.maxRequestLineBytes) return ParseStatus::RequestLineTooLong;

  // Header lines up to the first empty one, all within maxHeadBytes.
  const size_t searchEnd = std::min<size_t>(size, limits.maxHeadBytes);
  const ParseStatus incomplete =
      size > limits.maxHeadBytes ? ParseStatus::HeadTooLarge : ParseStatus::NeedMore;
  size_t headerLines = 0;
  size_t pos = lf + 1;
  while (true) {
    if (pos >= searchEnd) return incomplete;
    if (data[pos] == '\n') {  // a bare-LF blank line; validation reports it
      headEnd = pos + 1;
      return ParseStatus::Complete;
    }
    if (data[pos] == '\r') {
      if (pos + 1 >= searchEnd) return incomplete;
      if (data[pos + 1] == '\n') {
        headEnd = pos + 2;
        return ParseStatus::Complete;
      }
    }
    if (++headerLines > limits.maxHeaders) return ParseStatus::TooManyHeaders;
    const void* next = std::memchr(data + pos, '\n', searchEnd - pos);
    if (next == nullptr) return incomplete;
    pos = static_cast<size_t>(static_cast<const char*>(next) - data) + 1;
  }
}

// The content of the line starting at `pos` (CRLF excluded); `pos` moves past its LF. The head
// was located already, so the LF exists before `headEnd`.
ParseStatus nextLine(std::string_view buffer, size_t& pos, size_t headEnd, std::string_view& line) {
  const char* const data = buffer.data();
  const char* lf = static_cast<const char*>(std::memchr(data + pos, '\n', headEnd - pos));
  const size_t lfPos = static_cast<size_t>(lf - data);
  if (lfPos == pos || data[lfPos - 1] != '\r') return ParseStatus::BareLineEnding;
  line = buffer.substr(pos, lfPos - 1 - pos);
  pos = lfPos + 1;
  return ParseStatus::Complete;
}

// What the framing- and connection-relevant headers said, gathered while the header lines are
// validated and resolved once the head is complete.
struct HeadFacts {
  bool hasContentLength = false;
  uint64_t contentLength = 0;
  bool hasTransferEncoding = false;
  bool anyCoding = false;
  bool chunkedSeen = false;
  bool lastCodingChunked = false;
  bool nonChunkedCoding = false;
  bool malformedCodings = false;  // "chunked" not last, repeated, with parameters, or bad syntax
  unsigned hostCount = 0;
  std::string_view host;
  bool connectionClose = false;
  bool connectionKeepAlive = false;
  bool connectionUpgrade = false;
  bool connectionOther = false;  // a Connection token naming a header (hop-by-hop too)
  bool upgradeHeader = false;
  bool expectContinue = false;
};

ParseStatus parseContentLength(std::string_view value, uint64_t& length) {
  if (value.empty()) return ParseStatus::BadContentLength;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t result = 0;
  for (const char c : value) {
    if (!isDigit(c)) return ParseStatus::BadContentLength;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (result > (kMax - digit) / 10) return ParseStatus::BadContentLength;
    result = result * 10 + digit;
  }
  length = result;
  return ParseStatus::Complete;
}

void noteTransferCodings(std::string_view value, HeadFacts& facts) {
  facts.hasTransferEncoding = true;
  forEachListElement(value, [&facts](std::string_view coding) {
    const size_t semicolon = coding.find(';');
    const std::string_view name = trimOws(coding.substr(0, semicolon));
    const bool hasParameters = semicolon != std::string_view::npos;
    facts.anyCoding = true;
    if (!isToken(name) || facts.chunkedSeen) {
      facts.malformedCodings = true;  // nothing may follow "chunked"
      return;
    }
    if (equalsIgnoreCase(name, "chunked")) {
      if (hasParameters) facts.malformedCodings = true;
      facts.chunkedSeen = true;
      facts.lastCodingChunked = true;
    } else {
      facts.nonChunkedCoding = true;
      facts.lastCodingChunked = false;
    }
  });
  // A Transfer-Encoding header with no coding at all ("Transfer-Encoding: ,") frames nothing.
  if (!facts.anyCoding) facts.malformedCodings = true;
}

ParseStatus noteHeader(std::string_view name, std::string_view value, HeadFacts& facts) {
  switch (name.size()) {
    case 4:
      if (equalsIgnoreCase(name, "host")) {
        ++facts.hostCount;
        facts.host = value;
      }
      break;
    case 6:
      if (equalsIgnoreCase(name, "expect") && equalsIgnoreCase(value, "100-continue")) {
        facts.expectContinue = true;
      }
      break;
    case 7:
      if (equalsIgnoreCase(name, "upgrade")) facts.upgradeHeader = true;
      break;
    case 10:
      if (equalsIgnoreCase(name, "connection")) {
        forEachListElement(value, [&facts](std::string_view option) {
          if (equalsIgnoreCase(option, "close")) {
            facts.connectionClose = true;
          } else if (equalsIgnoreCase(option, "keep-alive")) {
            facts.connectionKeepAlive = true;
          } else if (equalsIgnoreCase(option, "upgrade")) {
            facts.connectionUpgrade = true;
          } else {
            facts.connectionOther = true;
          }
        });
      }
      break;
    case 14:
      if (equalsIgnoreCase(name, "content-length")) {
        // Even equal repeats are refused: a peer that disagrees about which one counts is the
        // smuggling risk, and legitimate clients never send two.
        if (facts.hasContentLength) return ParseStatus::DuplicateContentLength;
        facts.hasContentLength = true;
        return parseContentLength(value, facts.contentLength);
      }
      break;
    case 17:
      if (equalsIgnoreCase(name, "transfer-encoding")) noteTransferCodings(value, facts);
      break;
    default:
      break;
  }
  return ParseStatus::Complete;
}

// Validates the header lines from `pos` to the blank line ending the head at `headEnd`.
ParseStatus parseHeaderLines(std::string_view buffer, size_t pos, size_t headEnd,
                             const Limits& limits, std::vector<Header>& headers, HeadFacts& facts) {
  const char* const data = buffer.data();
  while (true) {
    const char first = data[pos];
    if (first == '\r' || first == '\n') {
      // The blank line locateHead stopped at (anything else here is a lone CR or LF).
      if (first == '\r' && pos + 2 == headEnd) return ParseStatus::Complete;
      return ParseStatus::BareLineEnding;
    }
    if (isOws(first)) return ParseStatus::ObsFold;

    const size_t lineStart = pos;
    size_t nameEnd = pos;
    while (hasClass(data[nameEnd], kTokenChar))
      ++nameEnd;
    if (nameEnd == lineStart || data[nameEnd] != ':') {
      return headerLineError(buffer, lineStart, headEnd, ParseStatus::BadHeaderName);
    }

    size_t valueStart = nameEnd + 1;
    while (isOws(data[valueStart]))
      ++valueStart;
    // Every line ends in LF before headEnd, so the scan stops inside the head.
    const size_t valueStop = valueStart + scanFieldValue(data + valueStart, headEnd - valueStart);
    if (data[valueStop] != '\r' || data[valueStop + 1] != '\n') {
      return headerLineError(buffer, lineStart, headEnd, ParseStatus::BadHeaderValue);
    }
    size_t valueEnd = valueStop;
    while (valueEnd > valueStart && isOws(data[valueEnd - 1]))
      --valueEnd;

    if (headers.size() >= limits.maxHeaders) return ParseStatus::TooManyHeaders;
    const Header header{buffer.substr(lineStart, nameEnd - lineStart),
                        buffer.substr(valueStart, valueEnd - valueStart)};
    headers.push_back(header);
    if (const ParseStatus s = noteHeader(header.name, header.value, facts);
        s != ParseStatus::Complete) {
      return s;
    }
    pos = valueStop + 2;
  }
}

// "HTTP/1.0" → 0, "HTTP/1.1" → 1, another "HTTP/d.d" → UnsupportedVersion, else `malformed`.
ParseStatus parseVersion(std::string_view text, ParseStatus malformed, unsigned& minor) {
  if (text.size() != 8 || text.substr(0, 5) != "HTTP/" || !isDigit(text[5]) || text[6] != '.' ||
      !isDigit(text[7])) {
    return lineError(text, malformed);
  }
  if (text[5] != '1' || (text[7] != '0' && text[7] != '1')) return ParseStatus::UnsupportedVersion;
  minor = static_cast<unsigned>(text[7] - '0');
  return ParseStatus::Complete;
}

void splitPathQuery(std::string_view pathAndQuery, RequestHead& out) {
  const size_t question = pathAndQuery.find('?');
  out.path = pathAndQuery.substr(0, question);
  if (question != std::string_view::npos) out.query = pathAndQuery.substr(question + 1);
}

bool validAuthorityForm(std::string_view target) {
  if (target.find_first_of("/?#@") != std::string_view::npos) return false;
  const size_t colon = target.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == target.size()) return false;
  for (const char c : target.substr(colon + 1)) {
    if (!isDigit(c)) return false;
  }
  return true;
}

ParseStatus parseAbsoluteForm(std::string_view target, RequestHead& out) {
  size_t schemeLength = 0;
  if (target.size() >= 7 && equalsIgnoreCase(target.substr(0, 7), "http://")) {
    schemeLength = 7;
  } else if (target.size() >= 8 && equalsIgnoreCase(target.substr(0, 8), "https://")) {
    schemeLength = 8;
  } else {
    return ParseStatus::BadRequestLine;
  }
  const std::string_view rest = target.substr(schemeLength);
  const size_t authorityEnd = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authorityEnd);
  // Userinfo is refused (RFC 9110 4.2.4): it only serves to disguise the real host.
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return ParseStatus::BadRequestLine;
  }
  out.host = authority;
  const std::string_view pathAndQuery =
      authorityEnd == std::string_view::npos ? std::string_view() : rest.substr(authorityEnd);
  if (pathAndQuery.empty()) {
    out.path = "/";
  } else if (pathAndQuery.front() == '?') {
    out.path = "/";
    out.query = pathAndQuery.substr(1);
  } else {
    splitPathQuery(pathAndQuery, out);
  }
  return ParseStatus::Complete;
}

ParseStatus parseRequestLine(std::string_view line, RequestHead& out) {
  size_t methodEnd = 0;
  while (methodEnd < line.size() && hasClass(line[methodEnd], kTokenChar))
    ++methodEnd;
  if (methodEnd == 0 || methodEnd == line.size() || line[methodEnd] != ' ') {
    return lineError(line, ParseStatus::BadRequestLine);
  }
  const size_t targetStart = methodEnd + 1;
  size_t targetEnd = targetStart;
  while (targetEnd < line.size() && hasClass(line[targetEnd], kTargetChar))
    ++targetEnd;
  if (targetEnd == targetStart || targetEnd == line.size() || line[targetEnd] != ' ') {
    return lineError(line, ParseStatus::BadRequestLine);
  }
  out.method = line.substr(0, methodEnd);
  out.target = line.substr(targetStart, targetEnd - targetStart);
  if (const ParseStatus s =
          parseVersion(line.substr(targetEnd + 1), ParseStatus::BadRequestLine, out.versionMinor);
      s != ParseStatus::Complete) {
    return s;
  }

  // A fragment is never part of a request-target (RFC 9112 3.2); whoever sent one would have
  // routing and the upstream disagree on the path.
  if (out.target.find('#') != std::string_view::npos) return ParseStatus::BadRequestLine;
  const bool isConnect = out.method == "CONNECT";
  if (out.target.front() == '/') {
    if (isConnect) return ParseStatus::BadRequestLine;
    splitPathQuery(out.target, out);
    return ParseStatus::Complete;
  }
  if (out.target == "*") {
    if (out.method != "OPTIONS") return ParseStatus::BadRequestLine;
    out.path = out.target;
    return ParseStatus::Complete;
  }
  if (isConnect) {
    if (!validAuthorityForm(out.target)) return ParseStatus::BadRequestLine;
    out.host = out.target;
    return ParseStatus::Complete;
  }
  return parseAbsoluteForm(out.target, out);
}

ParseStatus parseStatusLine(std::string_view line, ResponseHead& out) {
  // "HTTP/1.1 200" is the shortest valid form; the SP before the reason may be missing.
  if (line.size() < 12) return lineError(line, ParseStatus::BadStatusLine);
  if (const ParseStatus s =
          parseVersion(line.substr(0, 8), ParseStatus::BadStatusLine, out.versionMinor);
      s != ParseStatus::Complete) {
    return s;
  }
  if (line[8] != ' ' || !isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11])) {
    return lineError(line, ParseStatus::BadStatusLine);
  }
  out.status =
      static_cast<unsigned>((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
  if (out.status < 100) return ParseStatus::BadStatusLine;
  if (line.size() == 12) return ParseStatus::Complete;
  if (line[12] != ' ') return lineError(line, ParseStatus::BadStatusLine);
  out.reason = line.substr(13);
  for (const char c : out.reason) {
    if (!hasClass(c, kValueChar)) return lineError(line, ParseStatus::BadStatusLine);
  }
  return ParseStatus::Complete;
}

// Resets every field but keeps the header vector's capacity (moving a vector keeps its buffer).
template <typename Head>
void resetKeepingHeaders(Head& head) {
  std::vector<Header> headers = std::move(head.headers);
  headers.clear();
  head = Head{};
  head.headers = std::move(headers);
}

bool keepAliveFor(unsigned versionMinor, const HeadFacts& facts) {
  if (facts.connectionClose) return false;
  return versionMinor == 1 || facts.connectionKeepAlive;
}

// What request and response heads share: find the head's end (limits applied), parse the first
// line with `parseFirstLine`, then validate and collect the header lines.
template <typename Head, typename FirstLineParser>
ParseStatus parseHead(std::string_view buffer, size_t start, const Limits& limits,
                      FirstLineParser parseFirstLine, Head& out, size_t& headEnd,
                      HeadFacts& facts) {
  if (const ParseStatus s = locateHead(buffer, start, limits, headEnd);
      s != ParseStatus::Complete) {
    return s;
  }
  size_t pos = start;
  std::string_view firstLine;
  if (const ParseStatus s = nextLine(buffer, pos, headEnd, firstLine); s != ParseStatus::Complete) {
    return s;
  }
  if (const ParseStatus s = parseFirstLine(firstLine, out); s != ParseStatus::Complete) {
    return s;
  }
  return parseHeaderLines(buffer, pos, headEnd, limits, out.headers, facts);
}

}  // namespace

ParseStatus parseRequestHead(std::string_view buffer, const Limits& limits, RequestHead& out) {
  resetKeepingHeaders(out);

  // Leading empty lines (RFC 9112 2.2) are skipped but count against maxHeadBytes.
  size_t lineStart = 0;
  while (lineStart < buffer.size() && buffer[lineStart] == '\r') {
    if (lineStart + 1 == buffer.size()) break;
    if (buffer[lineStart + 1] != '\n') return ParseStatus::BareLineEnding;
    lineStart += 2;
    if (lineStart > limits.maxHeadBytes) return ParseStatus::HeadTooLarge;
  }
  if (lineStart < buffer.size() && buffer[lineStart] == '\n') return ParseStatus::BareLineEnding;

  size_t headEnd = 0;
  HeadFacts facts;
  if (const ParseStatus s =
          parseHead(buffer, lineStart, limits, parseRequestLine, out, headEnd, facts);
      s != ParseStatus::Complete) {
    return s;
  }

  if (facts.hasTransferEncoding) {
    if (facts.hasContentLength) return ParseStatus::ContentLengthWithTransferEncoding;
    // HTTP/1.0 has no chunked coding; a 1.0 hop would frame this body differently.
    if (out.versionMinor == 0) return ParseStatus::BadTransferEncoding;
    if (facts.malformedCodings || !facts.lastCodingChunked) {
      return ParseStatus::BadTransferEncoding;
    }
    if (facts.nonChunkedCoding) return ParseStatus::UnknownTransferCoding;
    out.framing = BodyFraming::Chunked;
  } else if (facts.hasContentLength) {
    out.framing = BodyFraming::ContentLength;
    out.contentLength = facts.contentLength;
  }

  if (out.versionMinor == 1 && facts.hostCount != 1) return ParseStatus::MissingHost;
  if (out.versionMinor == 0 && facts.hostCount > 1) return ParseStatus::MissingHost;
  // RFC 9112 3.2: an invalid Host value is a 400 too; routing must not see "a b" or "a/b".
  for (const char c : facts.host) {
    if (!hasClass(c, kHostChar)) return ParseStatus::BadHeaderValue;
  }
  if (out.host.empty()) out.host = facts.host;  // absolute- and authority-form win

  out.keepAlive = keepAliveFor(out.versionMinor, facts);
  // RFC 9110 10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored.
  out.expectContinue = facts.expectContinue && out.versionMinor == 1;
  out.upgrade = facts.connectionUpgrade && facts.upgradeHeader;
  out.connectionNamesHeaders = facts.connectionOther;
  out.headBytes = headEnd;
  return ParseStatus::Complete;
}

ParseStatus parseResponseHead(std::string_view buffer, std::string_view requestMethod,
                              const Limits& limits, ResponseHead& out) {
  resetKeepingHeaders(out);

  size_t headEnd = 0;
  HeadFacts facts;
  if (const ParseStatus s = parseHead(buffer, 0, limits, parseStatusLine, out, headEnd, facts);
      s != ParseStatus::Complete) {
    return s;
  }

  // The framing headers are validated even when the status makes them irrelevant: a server that
  // sends conflicting framing is not one to keep talking to.
  if (facts.hasTransferEncoding) {
    if (facts.hasContentLength) return ParseStatus::ContentLengthWithTransferEncoding;
    if (facts.malformedCodings) return ParseStatus::BadTransferEncoding;
  }
  out.contentLength = facts.contentLength;
  out.keepAlive = keepAliveFor(out.versionMinor, facts);
  out.upgrade = out.status == 101;
  out.connectionNamesHeaders = facts.connectionOther;

  // RFC 9112 6.3, in its order.
  const bool informational = out.status < 200;
  const bool successfulConnect = requestMethod == "CONNECT" && out.status / 100 == 2;
  if (requestMethod == "HEAD" || informational || out.status == 204 || out.status == 304 ||
      successfulConnect) {
    out.framing = BodyFraming::None;
  } else if (facts.hasTransferEncoding) {
    out.framing = facts.lastCodingChunked ? BodyFraming::Chunked : BodyFraming::UntilClose;
  } else if (facts.hasContentLength) {
    out.framing = BodyFraming::ContentLength;
  } else {
    out.framing = BodyFraming::UntilClose;
  }
  if (out.framing == BodyFraming::UntilClose) out.keepAlive = false;
  out.headBytes = headEnd;
  return ParseStatus::Complete;
}

unsigned statusFor(ParseStatus status) {
  switch (status) {
    case ParseStatus::Complete:
    case ParseStatus::NeedMore:
      return 0;
    case ParseStatus::BadRequestLine:
    case ParseStatus::BadHeaderName:
    case ParseStatus::BadHeaderValue:
    case ParseStatus::ObsFold:
    case ParseStatus::BareLineEnding:
    case ParseStatus::BadContentLength:
    case ParseStatus::DuplicateContentLength:
    case ParseStatus::ContentLengthWithTransferEncoding:
    case ParseStatus::BadTransferEncoding:
    case ParseStatus::MissingHost:
      return 400;
    case ParseStatus::RequestLineTooLong:
      return 414;
    case ParseStatus::HeadTooLarge:
    case ParseStatus::TooManyHeaders:
      return 431;
    case ParseStatus::UnknownTransferCoding:
      return 501;
    case ParseStatus::UnsupportedVersion:
      return 505;
    case ParseStatus::BadStatusLine:
      return 502;
  }
  return 400;
}

std::string_view describe(ParseStatus status) {
  switch (status) {
    case ParseStatus::Complete:
      return "complete";
    case ParseStatus::NeedMore:
      return "need more data";
    case ParseStatus::BadRequestLine:
      return "bad request line";
    case ParseStatus::UnsupportedVersion:
      return "unsupported http version";
    case ParseStatus::BadStatusLine:
      return "bad status line";
    case ParseStatus::BadHeaderName:
      return "bad header name";
    case ParseStatus::BadHeaderValue:
      return "bad header value";
    case ParseStatus::ObsFold:
      return "obsolete line folding";
    case ParseStatus::BareLineEnding:
      return "bare cr or lf";
    case ParseStatus::RequestLineTooLong:
      return "request line too long";
    case ParseStatus::HeadTooLarge:
      return "head too large";
    case ParseStatus::TooManyHeaders:
      return "too many headers";
    case ParseStatus::BadContentLength:
      return "bad content-length";
    case ParseStatus::DuplicateContentLength:
      return "duplicate content-length";
    case ParseStatus::ContentLengthWithTransferEncoding:
      return "content-length with transfer-encoding";
    case ParseStatus::BadTransferEncoding:
      return "bad transfer-encoding";
    case ParseStatus::UnknownTransferCoding:
      return "unknown transfer-coding";
    case ParseStatus::MissingHost:
      return "missing or duplicate host";
  }
  return "unknown parse status";
}

}  // namespace meshgate::dp::http
