// Formatting the proxy's own replies.
#include "dataplane/proxy/local_reply.h"

#include "dataplane/proxy/forwarded_head.h"

namespace meshgate::dp {

LocalReply makeLocalReply(unsigned status, std::string body, std::string_view extraHeaders,
                          bool close) {
  return LocalReply{.status = status,
                    .body = std::move(body),
                    .extraHeaders = std::string(extraHeaders),
                    .closeConnection = close};
}

void appendHeaderLines(std::string& out,
                       const std::vector<std::pair<std::string, std::string>>& headers) {
  for (const auto& [name, value] : headers) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
  }
}

void formatLocalReply(std::string& out, unsigned status, std::string_view body,
                      std::string_view extraHeaders, bool keepAlive, bool announceOnly) {
  out.clear();
  out.append("HTTP/1.1 ");
  out.append(std::to_string(status));
  out.push_back(' ');
  out.append(reasonPhrase(status));
  out.append("\r\n");
  // 204 and 304 have no content, so no length either (RFC 9110 sections 8.6, 15.3.5, 15.4.5).
  const bool bodiless = status == 204 || status == 304;
  if (!bodiless) {
    out.append("content-type: text/plain; charset=utf-8\r\ncontent-length: ");
    out.append(std::to_string(body.size()));
    out.append("\r\n");
  }
  out.append(extraHeaders);
  if (!keepAlive) out.append("connection: close\r\n");
  out.append("\r\n");
  if (!announceOnly && !bodiless) out.append(body);
}

}  // namespace meshgate::dp
