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

void formatLocalReply(std::string& out, unsigned status, std::string_view body,
                      std::string_view extraHeaders, bool keepAlive, bool announceOnly) {
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
  if (!announceOnly) out.append(body);
}

}  // namespace meshgate::dp
