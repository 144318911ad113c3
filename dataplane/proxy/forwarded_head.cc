// Head rewriting for forwarded requests and responses.
#include "dataplane/proxy/forwarded_head.h"

#include <array>

namespace meshgate::dp {

namespace {

using http::equalsIgnoreCase;

bool isListedIn(std::string_view tokens, std::string_view name) {
  size_t start = 0;
  while (start <= tokens.size()) {
    size_t end = tokens.find(',', start);
    if (end == std::string_view::npos) end = tokens.size();
    std::string_view token = tokens.substr(start, end - start);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
      token.remove_suffix(1);
    if (!token.empty() && equalsIgnoreCase(token, name)) return true;
    start = end + 1;
  }
  return false;
}

bool namedByConnection(const std::vector<http::Header>& headers, std::string_view name) {
  for (const auto& header : headers)
    if (equalsIgnoreCase(header.name, "connection") && isListedIn(header.value, name)) return true;
  return false;
}

// Hop-by-hop in every message; Upgrade is decided by the caller.
bool alwaysHopByHop(std::string_view name) {
  static constexpr std::array<std::string_view, 6> kNames = {
      "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"};
  for (const auto candidate : kNames)
    if (equalsIgnoreCase(name, candidate)) return true;
  return false;
}

bool removedBy(const HeaderEdits* edits, std::string_view name) {
  if (!edits) return false;
  for (const auto& removed : edits->remove)
    if (equalsIgnoreCase(removed, name)) return true;
  for (const auto& [setName, value] : edits->set)
    if (equalsIgnoreCase(setName, name)) return true;
  return false;
}

void appendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
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
  for (const auto& header : request.headers) {
    const std::string_view name = header.name;
    if (equalsIgnoreCase(name, "host") || equalsIgnoreCase(name, "expect") ||
        equalsIgnoreCase(name, "x-forwarded-proto") || equalsIgnoreCase(name, "x-forwarded-host"))
      continue;
    if (alwaysHopByHop(name) || namedByConnection(request.headers, name)) continue;
    if (equalsIgnoreCase(name, "x-forwarded-for")) {
      forwardedFor = header.value;
      continue;
    }
    if (equalsIgnoreCase(name, "via")) {
      via = header.value;
      continue;
    }
    if (removedBy(forwarding.edits, name)) continue;
    if (equalsIgnoreCase(name, "x-request-id")) hasRequestId = true;
    appendHeader(out, name, header.value);
  }
  appendEdits(out, forwarding.edits);

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
      if (equalsIgnoreCase(header.name, "upgrade")) appendHeader(out, "upgrade", header.value);
    out.append("connection: upgrade\r\n");
  } else if (request.versionMinor == 0) {
    // A 1.0 upstream request keeps the connection only when asked to.
    out.append("connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

void writeDownstreamResponseHead(std::string& out, const http::ResponseHead& response,
                                 const ResponseForwarding& forwarding) {
  out.clear();
  out.append(forwarding.clientVersionMinor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(response.status));
  out.push_back(' ');
  out.append(response.reason.empty() ? reasonPhrase(response.status) : response.reason);
  out.append("\r\n");
  for (const auto& header : response.headers) {
    const std::string_view name = header.name;
    if (response.upgrade && equalsIgnoreCase(name, "upgrade")) {
      appendHeader(out, name, header.value);
      continue;
    }
    if (alwaysHopByHop(name) || namedByConnection(response.headers, name)) continue;
    if (removedBy(forwarding.edits, name)) continue;
    appendHeader(out, name, header.value);
  }
  appendEdits(out, forwarding.edits);
  if (response.upgrade) {
    out.append("connection: upgrade\r\n");
  } else if (!forwarding.keepAlive) {
    out.append("connection: close\r\n");
  } else if (forwarding.clientVersionMinor == 0) {
    out.append("connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

void writeLocalResponse(std::string& out, unsigned status, std::string_view body, bool keepAlive,
                        std::string_view extraHeaders) {
  out.clear();
  out.append("HTTP/1.1 ");
  out.append(std::to_string(status));
  out.push_back(' ');
  out.append(reasonPhrase(status));
  out.append("\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ");
  out.append(std::to_string(body.size()));
  out.append("\r\n");
  out.append(extraHeaders);
  if (!keepAlive) out.append("connection: close\r\n");
  out.append("\r\n");
  out.append(body);
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

std::string formatRequestId(uint64_t high, uint64_t low) {
  // Version 4 and variant bits, as a random UUID carries them.
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(36, '-');
  size_t pos = 0;
  const auto put = [&](uint64_t value, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
      id[pos++] = kHex[(value >> (i * 4)) & 0xf];
    }
  };
  put(high, 16);
  put(low, 16);
  return id;
}

}  // namespace meshgate::dp
