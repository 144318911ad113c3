// Fuzzes ChunkedDecoder (dataplane/http/chunked_decoder.h), differentially: the whole input in one
// call must end exactly as the same input fed in pieces (sizes from a generator seeded by the
// input), as the proxy sees a body arrive in reads of any size — same status, same end or error
// offset, same payload count. Also: nothing past the input is consumed, the payload never exceeds
// the bytes consumed, and a finished decoder stays finished.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/http/chunked_decoder.h"
#include "fuzz/fuzz_check.h"

namespace {

using meshgate::dp::http::ChunkedDecoder;
using Status = ChunkedDecoder::Status;

struct Outcome {
  Status status = Status::NeedMore;
  size_t offset = 0;  // after the body on Done, the offending byte on Error, the size on NeedMore
  uint64_t payloadBytes = 0;
};

Outcome oneShot(std::string_view input) {
  ChunkedDecoder decoder;
  const ChunkedDecoder::Result r = decoder.consume(input);
  FUZZ_CHECK(r.consumed <= input.size());
  if (r.status == Status::NeedMore) FUZZ_CHECK(r.consumed == input.size());
  if (r.status != Status::NeedMore) {
    const ChunkedDecoder::Result after = decoder.consume("0\r\n\r\n");
    FUZZ_CHECK(after.status == r.status && after.consumed == 0);
  }
  return {r.status, r.consumed, decoder.payloadBytes()};
}

Outcome inPieces(std::string_view input, uint64_t seed) {
  ChunkedDecoder decoder;
  size_t offset = 0;
  while (offset < input.size()) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    const size_t piece = 1 + seed % 24;
    const std::string_view part = input.substr(offset, piece);
    const ChunkedDecoder::Result r = decoder.consume(part);
    FUZZ_CHECK(r.consumed <= part.size());
    if (r.status != Status::NeedMore)
      return {r.status, offset + r.consumed, decoder.payloadBytes()};
    FUZZ_CHECK(r.consumed == part.size());
    offset += part.size();
  }
  return {Status::NeedMore, input.size(), decoder.payloadBytes()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (const uint8_t byte : input)
    seed = (seed ^ byte) * 0x100000001b3ULL;
  if (seed == 0) seed = 1;

  const Outcome whole = oneShot(input);
  FUZZ_CHECK(whole.payloadBytes <= whole.offset);
  const Outcome pieces = inPieces(input, seed);
  FUZZ_CHECK(pieces.status == whole.status);
  FUZZ_CHECK(pieces.offset == whole.offset);
  FUZZ_CHECK(pieces.payloadBytes == whole.payloadBytes);
  return 0;
}
