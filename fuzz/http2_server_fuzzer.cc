// Fuzzes ServerCodec (dataplane/http2/server_codec.h), the proxy's HTTP/2 server side, with what a
// client may send after its preface: frames of any kind, order and content, fed in pieces (sizes
// from a generator seeded by the input). A handler answers every request at once — headers, a
// body, trailers for every other one — and forwards its body bytes, so the response and
// flow-control paths run too. Invariants: events only for streams whose head was reported, a
// stream closed at most once and nothing about it afterwards, no event after receive() failed,
// and the output drains in a bounded number of calls.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/http2/server_codec.h"
#include "fuzz/fuzz_check.h"

namespace {

using meshgate::dp::http2::Field;
using meshgate::dp::http2::RequestHead;
using meshgate::dp::http2::ServerCodec;

class AnsweringHandler final : public meshgate::dp::http2::ServerCodecEvents {
 public:
  ServerCodec* codec = nullptr;
  bool failed = false;

  void onRequestHead(int32_t stream, RequestHead head) override {
    FUZZ_CHECK(!failed);
    FUZZ_CHECK(streams_.count(stream) == 0);
    FUZZ_CHECK(stream > 0 && stream % 2 == 1);
    streams_[stream] = State::Open;
    const std::vector<Field> headers = {{"content-type", "text/plain"},
                                        {"x-path", head.path.substr(0, 64)}};
    codec->submitResponse(stream, 200, headers, false);
    codec->appendBody(stream, std::string_view("answer"), stream % 4 != 1);
    if (stream % 4 == 1) codec->submitTrailers(stream, {{"grpc-status", "0"}});
  }
  void onRequestData(int32_t stream, std::span<const char> data) override {
    FUZZ_CHECK(!failed);
    FUZZ_CHECK(streams_.count(stream) == 1 && streams_[stream] == State::Open);
    codec->consumed(stream, data.size());
  }
  void onRequestEnd(int32_t stream, std::vector<Field>) override {
    FUZZ_CHECK(!failed);
    FUZZ_CHECK(streams_.count(stream) == 1 && streams_[stream] == State::Open);
    streams_[stream] = State::Ended;
  }
  void onStreamClosed(int32_t stream, uint32_t) override {
    FUZZ_CHECK(streams_.count(stream) == 1 && streams_[stream] != State::Closed);
    streams_[stream] = State::Closed;
  }
  void onStreamWritable(int32_t stream) override {
    FUZZ_CHECK(streams_.count(stream) == 1 && streams_[stream] != State::Closed);
  }

 private:
  enum class State { Open, Ended, Closed };
  std::map<int32_t, State> streams_;
};

void drain(ServerCodec& codec) {
  for (int calls = 0;; ++calls) {
    FUZZ_CHECK(calls < 10'000);
    if (codec.nextOutput().empty()) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (const uint8_t byte : input)
    seed = (seed ^ byte) * 0x100000001b3ULL;
  if (seed == 0) seed = 1;

  AnsweringHandler handler;
  ServerCodec codec(handler, meshgate::dp::http2::ServerLimits{});
  handler.codec = &codec;
  drain(codec);
  // The preface and an empty SETTINGS frame, then the fuzzer's bytes.
  std::string bytes(meshgate::dp::http2::kClientPreface);
  bytes.append(std::string_view("\0\0\0\x04\0\0\0\0\0", 9));
  bytes.append(input);
  size_t offset = 0;
  while (offset < bytes.size()) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    const size_t piece = 1 + seed % 64;
    const std::string_view part = std::string_view(bytes).substr(offset, piece);
    offset += part.size();
    if (!codec.receive({part.data(), part.size()})) {
      handler.failed = true;
      FUZZ_CHECK(!codec.error().empty());
      drain(codec);
      return 0;
    }
    drain(codec);
  }
  return 0;
}
