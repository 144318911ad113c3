// LocalReply as HTTP/2 fields, plain or gRPC Trailers-Only.
#include "dataplane/proxy/http2_local_reply.h"

#include "base/ascii.h"

namespace meshgate::dp {

namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

// "name: value\r\n" lines into fields, names lowercased.
void appendHeaderLines(std::vector<http2::Field>& out, std::string_view lines) {
  while (!lines.empty()) {
    const size_t end = lines.find('\n');
    const std::string_view line = lines.substr(0, end);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && colon > 0)
      out.push_back({asciiLower(std::string(line.substr(0, colon))),
                     std::string(trimmed(line.substr(colon + 1)))});
    if (end == std::string_view::npos) break;
    lines.remove_prefix(end + 1);
  }
}

}  // namespace

bool isGrpcContentType(std::string_view contentType) {
  constexpr std::string_view kGrpc = "application/grpc";
  if (contentType.size() < kGrpc.size() ||
      !asciiEqualsIgnoreCase(contentType.substr(0, kGrpc.size()), kGrpc))
    return false;
  if (contentType.size() == kGrpc.size()) return true;
  const char next = contentType[kGrpc.size()];
  return next == '+' || next == ';';
}

unsigned grpcStatusForHttp(unsigned httpStatus) {
  switch (httpStatus) {
    case 400:
      return 13;  // INTERNAL
    case 401:
      return 16;  // UNAUTHENTICATED
    case 403:
      return 7;  // PERMISSION_DENIED
    case 404:
      return 12;  // UNIMPLEMENTED
    case 408:
    case 504:
      return 4;  // DEADLINE_EXCEEDED
    case 413:
    case 429:
      return 8;  // RESOURCE_EXHAUSTED
    case 502:
    case 503:
      return 14;  // UNAVAILABLE
    default:
      return 2;  // UNKNOWN
  }
}

std::string percentEncodeGrpcMessage(std::string_view message) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(message.size());
  for (const char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte <= 0x7E && byte != '%') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
  return out;
}

Http2LocalReply toHttp2(const LocalReply& reply, bool grpc, bool headRequest) {
  Http2LocalReply out;
  if (grpc) {
    out.status = 200;
    out.headers.push_back({"content-type", "application/grpc"});
    out.headers.push_back({"grpc-status", std::to_string(grpcStatusForHttp(reply.status))});
    out.headers.push_back(
        {"grpc-message",
         percentEncodeGrpcMessage(trimmed(
             std::string_view(reply.body).substr(0, reply.body.find_last_not_of('\n') + 1)))});
    appendHeaderLines(out.headers, reply.extraHeaders);
    return out;
  }
  out.status = reply.status;
  const bool noContent = reply.status == 204 || reply.status == 304;
  if (!noContent) {
    out.headers.push_back({"content-type", "text/plain; charset=utf-8"});
    out.headers.push_back({"content-length", std::to_string(reply.body.size())});
  }
  appendHeaderLines(out.headers, reply.extraHeaders);
  if (!noContent && !headRequest) out.body = reply.body;
  return out;
}

}  // namespace meshgate::dp
