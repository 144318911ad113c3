// Fuzzes the request side of the HTTP/1.1 parser (dataplane/http/http1_parser.h) the way a
// keep-alive downstream connection uses it: heads one after another, Content-Length bodies
// skipped, chunked bodies followed by ChunkedDecoder. Each input runs under the default limits and
// under the smallest a config allows. Invariants of every Complete head: it used no more bytes
// than given, its views point into it (but the literal "/" path), the head alone parses the same,
// and one byte less is NeedMore (a prefix of a valid head is never an error).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/http/chunked_decoder.h"
#include "dataplane/http/http1_parser.h"
#include "fuzz/framed_body.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace meshgate::dp::http;

constexpr int kMaxMessages = 8;

bool within(std::string_view view, std::string_view buffer) {
  return view.empty() || (view.data() >= buffer.data() &&
                          view.data() + view.size() <= buffer.data() + buffer.size());
}

void checkHead(std::string_view buffer, const Limits& limits, const RequestHead& head) {
  FUZZ_CHECK(head.headBytes > 0 && head.headBytes <= buffer.size());
  const std::string_view text = buffer.substr(0, head.headBytes);
  FUZZ_CHECK(within(head.method, text) && within(head.target, text));
  // An absolute-form target without a path has the path "/", a literal.
  FUZZ_CHECK(within(head.path, text) || head.path == "/");
  FUZZ_CHECK(within(head.query, text) && within(head.host, text));
  for (const Header& h : head.headers)
    FUZZ_CHECK(within(h.name, text) && within(h.value, text));
  FUZZ_CHECK(head.versionMinor <= 1);
  FUZZ_CHECK(head.headers.size() <= limits.maxHeaders);
  FUZZ_CHECK(head.headBytes <= limits.maxHeadBytes);

  RequestHead again;
  FUZZ_CHECK(parseRequestHead(text, limits, again) == ParseStatus::Complete);
  FUZZ_CHECK(again.headBytes == head.headBytes && again.method == head.method &&
             again.target == head.target && again.host == head.host &&
             again.framing == head.framing && again.contentLength == head.contentLength &&
             again.headers.size() == head.headers.size());

  RequestHead shorter;
  FUZZ_CHECK(parseRequestHead(text.substr(0, text.size() - 1), limits, shorter) ==
             ParseStatus::NeedMore);
}

void parseConnection(std::string_view input, const Limits& limits) {
  RequestHead head;
  ChunkedDecoder chunked;
  for (int i = 0; i < kMaxMessages && !input.empty(); ++i) {
    const ParseStatus status = parseRequestHead(input, limits, head);
    if (status != ParseStatus::Complete) {
      if (status != ParseStatus::NeedMore) {
        FUZZ_CHECK(statusFor(status) >= 400 && statusFor(status) <= 505);
        FUZZ_CHECK(!describe(status).empty());
      }
      return;
    }
    checkHead(input, limits, head);
    input.remove_prefix(head.headBytes);
    FUZZ_CHECK(head.framing != BodyFraming::UntilClose);  // responses only
    if (!skipFramedBody(input, head.framing, head.contentLength, chunked)) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  parseConnection(input, Limits{});
  parseConnection(input, Limits{.maxRequestLineBytes = 64, .maxHeadBytes = 1024, .maxHeaders = 4});
  return 0;
}
