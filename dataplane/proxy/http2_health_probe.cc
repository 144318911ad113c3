// An HTTP/2 (or gRPC) health check on a connection of its own.
#include "dataplane/proxy/http2_health_probe.h"

#include <array>
#include <optional>

#include "dataplane/http2/client_codec.h"
#include "dataplane/proxy/grpc_protocol.h"

namespace meshgate::dp {

namespace {

// What the probe's one stream brought back.
class ProbeEvents final : public http2::ClientCodecEvents {
 public:
  void onResponseHead(int32_t, http2::ResponseHead head) override {
    status = head.status;
    headers = std::move(head.headers);
  }
  void onResponseData(int32_t, std::span<const char> data) override {
    body.append(data.data(), data.size());
  }
  void onResponseEnd(int32_t, std::vector<http2::Field> fields) override {
    trailers = std::move(fields);
    ended = true;
  }
  void onStreamClosed(int32_t, uint32_t) override { closed = true; }
  void onStreamWritable(int32_t) override {}
  void onGoAway(int32_t, uint32_t) override {}

  unsigned status = 0;
  std::vector<http2::Field> headers;
  std::vector<http2::Field> trailers;
  std::string body;
  bool ended = false;
  bool closed = false;
};

// A gRPC health answer: grpc-status 0 (in the trailers, or the headers of a Trailers-Only
// response) and one message HealthCheckResponse{status = SERVING}: field 1, varint 1.
bool servingAnswer(const ProbeEvents& events) {
  const auto status =
      grpcStatusIn(events.trailers) ? grpcStatusIn(events.trailers) : grpcStatusIn(events.headers);
  if (events.status != 200 || status != std::optional(0u)) return false;
  const std::string_view body = events.body;
  if (body.size() < 5 || body[0] != '\0') return false;
  const std::string_view message = body.substr(5);
  return message.size() >= 2 && message[0] == '\x08' && message[1] == '\x01';
}

}  // namespace

asio::awaitable<bool> probeOverHttp2(ByteStream& stream, const std::string& authority,
                                     const std::string& path, bool tls) {
  ProbeEvents events;
  http2::ClientCodec codec(events, http2::ClientLimits{});
  const bool grpc = path == kGrpcHealthCheckPath;
  http2::RequestHead head;
  head.method = grpc ? "POST" : "GET";
  head.scheme = tls ? "https" : "http";
  head.authority = authority;
  head.path = path;
  head.headers = {{"user-agent", "meshgate-health-check"}};
  if (grpc) {
    head.headers.push_back({"content-type", "application/grpc"});
    head.headers.push_back({"te", "trailers"});
  }
  const int32_t id = codec.submitRequest(head, !grpc);
  if (id < 0) co_return false;
  // An empty HealthCheckRequest (service "": the whole server), length-prefixed.
  if (grpc) codec.appendBody(id, std::string_view("\0\0\0\0\0", 5), true);
  std::array<char, 8 * 1024> buffer;
  std::string out;
  while (!events.closed) {
    for (;;) {
      const auto next = codec.nextOutput();
      if (next.empty()) break;
      out.assign(next.data(), next.size());
      if (failed(co_await stream.writeAll(asio::buffer(out)))) co_return false;
    }
    if (events.closed || (!grpc && events.status != 0)) break;
    auto [readError, n] = co_await stream.readSome(asio::buffer(buffer));
    if (readError || n == 0 || !codec.receive({buffer.data(), n})) co_return false;
  }
  if (grpc) co_return events.ended&& servingAnswer(events);
  co_return events.status >= 200 && events.status < 300;
}

}  // namespace meshgate::dp
