// LocalReply as HTTP/2 fields, plain or gRPC Trailers-Only.
#include "dataplane/proxy/http2_local_reply.h"

#include "base/ascii.h"
#include "dataplane/proxy/grpc_protocol.h"

namespace meshgate::dp {

namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

void appendHeaderLinesAsFields(std::vector<http2::Field>& out, std::string_view lines) {
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
    appendHeaderLinesAsFields(out.headers, reply.extraHeaders);
    return out;
  }
  out.status = reply.status;
  const bool noContent = reply.status == 204 || reply.status == 304;
  if (!noContent) {
    out.headers.push_back({"content-type", "text/plain; charset=utf-8"});
    out.headers.push_back({"content-length", std::to_string(reply.body.size())});
  }
  appendHeaderLinesAsFields(out.headers, reply.extraHeaders);
  if (!noContent && !headRequest) out.body = reply.body;
  return out;
}

}  // namespace meshgate::dp
