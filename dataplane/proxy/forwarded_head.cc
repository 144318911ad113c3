// Head rewriting for forwarded requests and responses. Each header is classified with at most one
// case-insensitive comparison (by length first): this runs twice per proxied request.
#include "dataplane/proxy/forwarded_head.h"

namespace meshgate::dp {

namespace {

using http::equalsIgnoreCase;

// What a header is to the proxy.
enum class Kind {
  Other,
  HopByHop,  // connection, keep-alive, proxy-connection, trailer
  Te,        // hop-by-hop too, but "trailers" is passed on (gRPC servers require it)
  Upgrade,
  Host,
  Expect,
  ForwardedFor,
  ForwardedProto,
  ForwardedHost,
  Via,
  RequestId,
};

Kind classify(std::string_view name) {
  switch (name.size()) {
    case 2:
      return equalsIgnoreCase(name, "te") ? Kind::Te : Kind::Other;
    case 3:
      return equalsIgnoreCase(name, "via") ? Kind::Via : Kind::Other;
    case 4:
      return equalsIgnoreCase(name, "host") ? Kind::Host : Kind::Other;
    case 6:
      return equalsIgnoreCase(name, "expect") ? Kind::Expect : Kind::Other;
    case 7:
      if (equalsIgnoreCase(name, "upgrade")) return Kind::Upgrade;
      return equalsIgnoreCase(name, "trailer") ? Kind::HopByHop : Kind::Other;
    case 10:
      if (equalsIgnoreCase(name, "connection") || equalsIgnoreCase(name, "keep-alive"))
        return Kind::HopByHop;
      return Kind::Other;
    case 12:
      return equalsIgnoreCase(name, "x-request-id") ? Kind::RequestId : Kind::Other;
    case 15:
      return equalsIgnoreCase(name, "x-forwarded-for") ? Kind::ForwardedFor : Kind::Other;
    case 16:
      if (equalsIgnoreCase(name, "x-forwarded-host")) return Kind::ForwardedHost;
      return equalsIgnoreCase(name, "proxy-connection") ? Kind::HopByHop : Kind::Other;
    case 17:
      return equalsIgnoreCase(name, "x-forwarded-proto") ? Kind::ForwardedProto : Kind::Other;
    default:
      return Kind::Other;
  }
}

std::string_view trimmed(std::string_view token) {
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
    token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
    token.remove_suffix(1);
  return token;
}

// Calls `each` with every non-empty token of a comma-separated list until it returns true.
template <class Fn>
bool anyToken(std::string_view tokens, Fn&& each) {
  while (!tokens.empty()) {
    const size_t comma = tokens.find(',');
    const std::string_view token = trimmed(tokens.substr(0, comma));
    if (!token.empty() && each(token)) return true;
    if (comma == std::string_view::npos) break;
    tokens.remove_prefix(comma + 1);
  }
  return false;
}

bool isConnection(std::string_view name) {
  return name.size() == 10 && equalsIgnoreCase(name, "connection");
}

bool namedByConnection(const std::vector<http::Header>& headers, std::string_view name) {
  for (const auto& header : headers) {
    if (isConnection(header.name) && anyToken(header.value, [&](std::string_view token) {
          return equalsIgnoreCase(token, name);
        }))
      return true;
  }
  return false;
}

bool removedBy(const HeaderEdits* edits, std::string_view name) {
  if (!edits) return false;  // the common case: no route filter
  for (const auto& removed : edits->remove)
    if (equalsIgnoreCase(removed, name)) return true;
  for (const auto& [setName, value] : edits->set)
    if (equalsIgnoreCase(setName, name)) return true;
  return false;
}

void appendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ", 2);
  out.append(value);
  out.append("\r\n", 2);
}

void appendAdded(std::string& out, const HeaderList* added) {
  if (!added) return;
  for (const auto& [name, value] : *added) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
  }
}

void appendEdits(std::string& out, const HeaderEdits* edits) {
  if (!edits) return;
  for (const auto& [name, value] : edits->set)
    appendHeader(out, name, value);
  for (const auto& [name, value] : edits->add)
    appendHeader(out, name, value);
}

}  // namespace

void writeUpstreamRequestHead(std::string& out, const http::RequestHead& request,
                              const RequestForwarding& forwarding) {
  out.clear();
  out.append(request.method);
  out.push_back(' ');
  out.append(forwarding.path);
  if (!forwarding.query.empty()) {
    out.push_back('?');
    out.append(forwarding.query);
  }
  out.append(request.versionMinor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  appendHeader(out, "host", forwarding.host);

  std::string_view forwardedFor;
  std::string_view via;
  bool hasRequestId = false;
  bool teTrailers = false;
  const bool checkConnection = request.connectionNamesHeaders;
  for (const auto& header : request.headers) {
    const std::string_view name = header.name;
    switch (classify(name)) {
      case Kind::Host:
      case Kind::Expect:
      case Kind::ForwardedProto:
      case Kind::ForwardedHost:
      case Kind::HopByHop:
      case Kind::Upgrade:
        continue;  // replaced below, answered by the proxy, or hop-by-hop
      case Kind::Te:
        // The client takes trailers: so does the proxy, which forwards them (as Envoy does again
        // after envoyproxy/envoy#32255). Other transfer codings are the proxy's business, not the
        // upstream's.
        teTrailers = teTrailers || anyToken(header.value, [](std::string_view token) {
                       return equalsIgnoreCase(token.substr(0, token.find(';')), "trailers");
                     });
        continue;
      case Kind::ForwardedFor:
        forwardedFor = header.value;
        continue;
      case Kind::Via:
        via = header.value;
        continue;
      case Kind::RequestId:
        if (removedBy(forwarding.edits, name)) continue;
        hasRequestId = true;
        break;
      case Kind::Other:
        if (checkConnection && namedByConnection(request.headers, name)) continue;
        if (removedBy(forwarding.edits, name)) continue;
        break;
    }
    appendHeader(out, name, header.value);
  }
  if (teTrailers) out.append("te: trailers\r\n");
  appendEdits(out, forwarding.edits);
  appendAdded(out, forwarding.added);

  out.append("x-forwarded-for: ");
  if (!forwardedFor.empty()) {
    out.append(forwardedFor);
    out.append(", ");
  }
  out.append(forwarding.clientIp);
  out.append("\r\n");
  appendHeader(out, "x-forwarded-proto", forwarding.tls ? "https" : "http");
  appendHeader(out, "x-forwarded-host", request.host);
  if (!hasRequestId && !forwarding.requestId.empty())
    appendHeader(out, "x-request-id", forwarding.requestId);
  out.append("via: ");
  if (!via.empty()) {
    out.append(via);
    out.append(", ");
  }
  out.append(request.versionMinor == 0 ? "1.0 meshgate\r\n" : "1.1 meshgate\r\n");
  if (request.upgrade) {
    for (const auto& header : request.headers)
      if (classify(header.name) == Kind::Upgrade) appendHeader(out, "upgrade", header.value);
    out.append("connection: upgrade\r\n");
  } else if (request.versionMinor == 0) {
    // A 1.0 upstream request keeps the connection only when asked to.
    out.append("connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

namespace {

// Fields a proxy does not pass on in a trailer section: hop-by-hop ones, and those that frame or
// route the message, which must come in its head (RFC 9110 section 6.5.1).
bool forwardableTrailer(std::string_view name) {
  switch (classify(name)) {
    case Kind::Other:
    case Kind::RequestId:
      break;
    default:
      return false;
  }
  return !equalsIgnoreCase(name, "content-length") && !equalsIgnoreCase(name, "transfer-encoding");
}

}  // namespace

void writeChunk(std::string& out, std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  char digits[16];
  size_t count = 0;
  for (size_t n = data.size(); n > 0 || count == 0; n >>= 4)
    digits[count++] = kHex[n & 0xF];
  while (count > 0)
    out.push_back(digits[--count]);
  out.append("\r\n");
  out.append(data);
  out.append("\r\n");
}

void writeLastChunk(std::string& out, const std::vector<http2::Field>& trailers) {
  out.append("0\r\n");
  for (const auto& field : trailers)
    if (forwardableTrailer(field.name)) appendHeader(out, field.name, field.value);
  out.append("\r\n");
}

void collectHttp2TrailerFields(std::vector<http2::Field>& out, std::string_view lines) {
  out.clear();
  while (!lines.empty()) {
    const size_t end = lines.find('\n');
    std::string_view line = lines.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && colon > 0) {
      const std::string_view name = line.substr(0, colon);
      if (forwardableTrailer(name))
        out.push_back(
            {asciiLower(std::string(name)), std::string(trimmed(line.substr(colon + 1)))});
    }
    if (end == std::string_view::npos) break;
    lines.remove_prefix(end + 1);
  }
}

void writeDownstreamResponseHead(std::string& out, const http::ResponseHead& response,
                                 const ResponseForwarding& forwarding) {
  out.clear();
  out.append(forwarding.clientVersionMinor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  char status[4] = {static_cast<char>('0' + response.status / 100 % 10),
                    static_cast<char>('0' + response.status / 10 % 10),
                    static_cast<char>('0' + response.status % 10), ' '};
  out.append(status, 4);
  out.append(response.reason.empty() ? reasonPhrase(response.status) : response.reason);
  out.append("\r\n");
  const bool checkConnection = response.connectionNamesHeaders;
  for (const auto& header : response.headers) {
    const std::string_view name = header.name;
    const Kind kind = classify(name);
    if (kind == Kind::Upgrade) {
      if (response.upgrade) appendHeader(out, name, header.value);
      continue;
    }
    if (kind == Kind::HopByHop || kind == Kind::Te) continue;
    if (checkConnection && namedByConnection(response.headers, name)) continue;
    if (removedBy(forwarding.edits, name)) continue;
    appendHeader(out, name, header.value);
  }
  appendEdits(out, forwarding.edits);
  appendAdded(out, forwarding.added);
  if (response.upgrade) {
    out.append("connection: upgrade\r\n");
  } else if (!forwarding.keepAlive) {
    out.append("connection: close\r\n");
  } else if (forwarding.clientVersionMinor == 0) {
    out.append("connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

void collectHttp2ResponseFields(std::vector<http2::Field>& out, const http::ResponseHead& response,
                                const HeaderEdits* edits, const HeaderList* added) {
  out.clear();
  const auto append = [&out](std::string_view name, std::string_view value) {
    http2::Field& field = out.emplace_back();
    field.name.resize(name.size());
    for (size_t i = 0; i < name.size(); ++i)
      field.name[i] = asciiLower(name[i]);
    field.value.assign(value);
  };
  for (const auto& header : response.headers) {
    const std::string_view name = header.name;
    const Kind kind = classify(name);
    if (kind == Kind::Upgrade || kind == Kind::HopByHop || kind == Kind::Te) continue;
    if (name.size() == 17 && equalsIgnoreCase(name, "transfer-encoding")) continue;
    if (response.connectionNamesHeaders && namedByConnection(response.headers, name)) continue;
    if (removedBy(edits, name)) continue;
    append(name, header.value);
  }
  if (edits) {
    for (const auto& [name, value] : edits->set)
      append(name, value);
    for (const auto& [name, value] : edits->add)
      append(name, value);
  }
  if (added)
    for (const auto& [name, value] : *added)
      append(name, value);
}

std::string_view reasonPhrase(unsigned status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

void formatRequestId(std::string& out, uint64_t high, uint64_t low) {
  // Version 4 and variant bits, as a random UUID carries them.
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  out.assign(36, '-');
  size_t pos = 0;
  const auto put = [&](uint64_t value, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
      out[pos++] = kHex[(value >> (i * 4)) & 0xf];
    }
  };
  put(high, 16);
  put(low, 16);
}

}  // namespace meshgate::dp
