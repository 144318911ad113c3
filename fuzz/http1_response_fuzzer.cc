// Fuzzes the response side of the HTTP/1.1 parser (dataplane/http/http1_parser.h) the way an
// upstream connection uses it: the first byte picks the method of the requests the responses
// answer (GET, HEAD, CONNECT, POST), the rest is what the upstream sent — responses one after
// another, bodies skipped by their framing. Invariants of every Complete head: it used no more
// bytes than given, its views point into it, the head alone parses the same, one byte less is
// NeedMore, and its framing follows RFC 9112 section 6.3 (no body for HEAD, 1xx, 204, 304; a body
// until close ends keep-alive).
#include <array>
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
constexpr std::array<std::string_view, 4> kMethods = {"GET", "HEAD", "CONNECT", "POST"};

bool within(std::string_view view, std::string_view buffer) {
  return view.empty() || (view.data() >= buffer.data() &&
                          view.data() + view.size() <= buffer.data() + buffer.size());
}

void checkHead(std::string_view buffer, std::string_view method, const Limits& limits,
               const ResponseHead& head) {
  FUZZ_CHECK(head.headBytes > 0 && head.headBytes <= buffer.size());
  const std::string_view text = buffer.substr(0, head.headBytes);
  FUZZ_CHECK(within(head.reason, text));
  for (const Header& h : head.headers)
    FUZZ_CHECK(within(h.name, text) && within(h.value, text));
  FUZZ_CHECK(head.versionMinor <= 1);
  FUZZ_CHECK(head.headers.size() <= limits.maxHeaders);
  FUZZ_CHECK(head.headBytes <= limits.maxHeadBytes);
  const bool bodiless = method == "HEAD" || (head.status >= 100 && head.status < 200) ||
                        head.status == 204 || head.status == 304;
  if (bodiless) FUZZ_CHECK(head.framing == BodyFraming::None);
  if (head.framing == BodyFraming::UntilClose) FUZZ_CHECK(!head.keepAlive);

  ResponseHead again;
  FUZZ_CHECK(parseResponseHead(text, method, limits, again) == ParseStatus::Complete);
  FUZZ_CHECK(again.headBytes == head.headBytes && again.status == head.status &&
             again.reason == head.reason && again.framing == head.framing &&
             again.contentLength == head.contentLength &&
             again.headers.size() == head.headers.size());

  ResponseHead shorter;
  FUZZ_CHECK(parseResponseHead(text.substr(0, text.size() - 1), method, limits, shorter) ==
             ParseStatus::NeedMore);
}

void parseConnection(std::string_view input, std::string_view method, const Limits& limits) {
  ResponseHead head;
  ChunkedDecoder chunked;
  for (int i = 0; i < kMaxMessages && !input.empty(); ++i) {
    const ParseStatus status = parseResponseHead(input, method, limits, head);
    if (status != ParseStatus::Complete) {
      if (status != ParseStatus::NeedMore) FUZZ_CHECK(!describe(status).empty());
      return;
    }
    checkHead(input, method, limits, head);
    input.remove_prefix(head.headBytes);
    if (!skipFramedBody(input, head.framing, head.contentLength, chunked)) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view method = kMethods[data[0] % kMethods.size()];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  parseConnection(input, method, Limits{});
  parseConnection(input, method,
                  Limits{.maxRequestLineBytes = 64, .maxHeadBytes = 1024, .maxHeaders = 4});
  return 0;
}
