// How a LocalReply (local_reply.h) goes to an HTTP/2 client: the same status, body and extra
// headers as HTTP/1.1 gets them, as fields — or, when the request is gRPC (content-type
// application/grpc…), as a gRPC "Trailers-Only" response: HTTP 200 with grpc-status and
// grpc-message (grpc_protocol.h), because a gRPC client cannot read an HTTP error body. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/http2/server_codec.h"
#include "dataplane/proxy/local_reply.h"

namespace meshgate::dp {

struct Http2LocalReply {
  unsigned status = 0;
  std::vector<http2::Field> headers;
  std::string body;  // empty for gRPC: its reply has no DATA
};

// "name: value\r\n" lines (a LocalReply's extraHeaders, an HTTP/1.1 trailer section) appended as
// fields, names lowercased, values trimmed.
void appendHeaderLinesAsFields(std::vector<http2::Field>& out, std::string_view lines);

// `headRequest`: the body is announced by content-length but not sent.
Http2LocalReply toHttp2(const LocalReply& reply, bool grpc, bool headRequest);

}  // namespace meshgate::dp
