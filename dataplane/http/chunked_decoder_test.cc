// ChunkedDecoder: valid bodies, every framing error, the bounds at and one past their limit, and
// the same outcome for every split of the input (down to one byte at a time).
#include "dataplane/http/chunked_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

namespace meshgate::dp::http {
namespace {

using Status = ChunkedDecoder::Status;

// Where decoding ended, as an offset into the whole input: after the final LF on Done, the
// offending byte on Error, the input size on NeedMore.
struct Outcome {
  Status status = Status::NeedMore;
  size_t offset = 0;
  uint64_t payloadBytes = 0;

  bool operator==(const Outcome&) const = default;
};

void PrintTo(const Outcome& outcome, std::ostream* os) {
  *os << "{status " << static_cast<int>(outcome.status) << ", offset " << outcome.offset
      << ", payload " << outcome.payloadBytes << "}";
}

// Feeds `pieces` in order, stopping at the first Done or Error.
Outcome feed(const std::vector<std::string_view>& pieces) {
  ChunkedDecoder decoder;
  size_t base = 0;
  for (const auto piece : pieces) {
    const ChunkedDecoder::Result result = decoder.consume(piece);
    if (result.status != Status::NeedMore) {
      return {result.status, base + result.consumed, decoder.payloadBytes()};
    }
    EXPECT_EQ(result.consumed, piece.size());
    base += piece.size();
  }
  return {Status::NeedMore, base, decoder.payloadBytes()};
}

Outcome feedWhole(std::string_view data) {
  return feed({data});
}

Outcome feedByteByByte(std::string_view data) {
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < data.size(); ++i)
    pieces.push_back(data.substr(i, 1));
  return feed(pieces);
}

// Checks that feeding `data` whole, split in two at every position, and byte by byte all give
// the same outcome, and returns it.
Outcome feedEverySplit(std::string_view data) {
  const Outcome whole = feedWhole(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    EXPECT_EQ(feed({data.substr(0, split), data.substr(split)}), whole) << "split at " << split;
  }
  EXPECT_EQ(feedByteByByte(data), whole) << "byte by byte";
  return whole;
}

struct ValidBody {
  std::string body;
  uint64_t payload;
};

const std::vector<ValidBody> kValidBodies = {
    {"0\r\n\r\n", 0},
    {"5\r\nhello\r\n0\r\n\r\n", 5},
    {"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 11},
    {"A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", 20},
    {"1f\r\n" + std::string(31, 'x') + "\r\n0\r\n\r\n", 31},
    {"0000000000000005\r\nhello\r\n0\r\n\r\n", 5},
    {"4\r\n\r\n\r\n\r\n0\r\n\r\n", 4},
    {"5;name=value;flag\r\nhello\r\n0;last=\"yes\"\r\n\r\n", 5},
    {"5;caf\xc3\xa9\t \r\nhello\r\n0\r\n\r\n", 5},
    {"3\r\nabc\r\n0\r\nChecksum: abc123\r\nX-Empty:\r\nX-Tab:\tv \xff\r\n\r\n", 3},
    {"000\r\n\r\n", 0},
};

TEST(ChunkedDecoderTest, DecodesValidBodiesWithTheSameOutcomeForEverySplit) {
  for (const auto& [body, payload] : kValidBodies) {
    SCOPED_TRACE(testing::PrintToString(body));
    const Outcome outcome = feedEverySplit(body);
    EXPECT_EQ(outcome.status, Status::Done);
    EXPECT_EQ(outcome.offset, body.size());
    EXPECT_EQ(outcome.payloadBytes, payload);
  }
}

TEST(ChunkedDecoderTest, StopsRightAfterTheFinalLineSoTheNextMessageIsLeft) {
  for (const auto& [body, payload] : kValidBodies) {
    SCOPED_TRACE(testing::PrintToString(body));
    const std::string stream = body + "GET /next HTTP/1.1\r\n\r\n";
    const Outcome outcome = feedEverySplit(stream);
    EXPECT_EQ(outcome.status, Status::Done);
    EXPECT_EQ(outcome.offset, body.size());
  }
}

TEST(ChunkedDecoderTest, NeedsMoreForEveryProperPrefixOfAValidBody) {
  for (const auto& [body, payload] : kValidBodies) {
    for (size_t length = 0; length < body.size(); ++length) {
      ChunkedDecoder decoder;
      const auto result = decoder.consume(std::string_view(body).substr(0, length));
      EXPECT_EQ(result.status, Status::NeedMore) << testing::PrintToString(body) << " " << length;
      EXPECT_EQ(result.consumed, length);
    }
  }
}

struct InvalidBody {
  std::string body;
  size_t offendingByte;
};

TEST(ChunkedDecoderTest, RejectsMalformedFramingAtTheOffendingByteForEverySplit) {
  const std::vector<InvalidBody> cases = {
      {"\r\n", 0},                             // no size digits
      {";ext\r\n", 0},                         // extension without a size
      {"g\r\n", 0},                            // not hex
      {"-5\r\n", 0},                           // sign
      {"+5\r\n", 0},                           // sign
      {" 5\r\n", 0},                           // leading whitespace
      {"5 \r\n", 1},                           // trailing whitespace
      {"5\t;x\r\n", 1},                        // whitespace before an extension
      {"0x5\r\n", 1},                          // hex prefix
      {"5\nhello\r\n", 1},                     // bare LF after the size
      {"5;x\nhello\r\n", 3},                   // bare LF after an extension
      {"5\rXhello\r\n", 2},                    // CR not followed by LF
      {"00000000000000005\r\nhello\r\n", 16},  // 17 digits
      {"10000000000000000\r\n", 16},           // would overflow 64 bits
      {"5;a\x01\r\nhello\r\n", 3},             // control character in an extension
      {"5;\x7f\r\nhello\r\n", 2},              // DEL in an extension
      {"5\r\nhelloX\r\n0\r\n\r\n", 8},         // data longer than announced
      {"5\r\nhello\n0\r\n\r\n", 8},            // bare LF after data
      {"5\r\nhello\r\r\n0\r\n\r\n", 9},        // CR CR after data
      {"5\r\nhel\r\n0\r\n\r\n", 8},            // data shorter than announced
      {"0\r\n\n", 3},                          // bare LF ending the body
      {"0\r\n\rX", 4},                         // CR not followed by LF at the end
      {"0\r\nX: y\n\r\n", 7},                  // bare LF after a trailer
      {"0\r\nX: y\rZ\r\n\r\n", 8},             // bare CR in a trailer
      {"0\r\nX y\r\n\r\n", 4},                 // whitespace in a trailer name
      {"0\r\nX : y\r\n\r\n", 4},               // whitespace before the colon
      {"0\r\nXy\r\n\r\n", 5},                  // trailer without a colon
      {"0\r\n: y\r\n\r\n", 3},                 // empty trailer name
      {"0\r\n y: z\r\n\r\n", 3},               // obs-fold
      {"0\r\nX: a\x01\r\n\r\n", 7},            // control character in a trailer value
      {"1\r\nx\r\nFFFFFFFFFFFFFFFF\r\n", 23},  // payload total would overflow
  };
  for (const auto& [body, offendingByte] : cases) {
    SCOPED_TRACE(testing::PrintToString(body));
    const Outcome outcome = feedEverySplit(body);
    EXPECT_EQ(outcome.status, Status::Error);
    EXPECT_EQ(outcome.offset, offendingByte);
    ChunkedDecoder decoder;
    decoder.consume(body);
    EXPECT_FALSE(decoder.error().empty());
  }
}

TEST(ChunkedDecoderTest, ExplainsErrors) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.consume("5\r\nhelloX").status, Status::Error);
  EXPECT_EQ(decoder.error(), "missing CRLF after chunk data");
  decoder.reset();
  EXPECT_EQ(decoder.consume("z").status, Status::Error);
  EXPECT_EQ(decoder.error(), "invalid chunk size");
}

TEST(ChunkedDecoderTest, AcceptsSixteenHexDigitsWithoutOverflow) {
  ChunkedDecoder decoder;
  const auto result = decoder.consume("FFFFFFFFFFFFFFFF\r\nabc");
  EXPECT_EQ(result.status, Status::NeedMore);
  EXPECT_EQ(decoder.payloadBytes(), 3u);
}

TEST(ChunkedDecoderTest, CountsPayloadBytesAcrossChunksAndCalls) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.consume("400\r\n").status, Status::NeedMore);
  EXPECT_EQ(decoder.payloadBytes(), 0u);
  const std::string kilobyte(1024, 'k');
  EXPECT_EQ(decoder.consume(std::string_view(kilobyte).substr(0, 1000)).status, Status::NeedMore);
  EXPECT_EQ(decoder.payloadBytes(), 1000u);
  EXPECT_EQ(decoder.consume(kilobyte.substr(1000) + "\r\n2\r\nab").status, Status::NeedMore);
  EXPECT_EQ(decoder.payloadBytes(), 1026u);
  const auto done = decoder.consume("\r\n0\r\n\r\nnext");
  EXPECT_EQ(done.status, Status::Done);
  EXPECT_EQ(done.consumed, 7u);
  EXPECT_EQ(decoder.payloadBytes(), 1026u);
}

TEST(ChunkedDecoderTest, StaysDoneOrFailedUntilReset) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.consume("0\r\n\r\n").status, Status::Done);
  auto again = decoder.consume("5\r\nhello");
  EXPECT_EQ(again.status, Status::Done);
  EXPECT_EQ(again.consumed, 0u);

  decoder.reset();
  EXPECT_EQ(decoder.payloadBytes(), 0u);
  EXPECT_EQ(decoder.consume("x").status, Status::Error);
  again = decoder.consume("0\r\n\r\n");
  EXPECT_EQ(again.status, Status::Error);
  EXPECT_EQ(again.consumed, 0u);

  decoder.reset();
  EXPECT_TRUE(decoder.error().empty());
  EXPECT_EQ(decoder.consume("2\r\nok\r\n0\r\n\r\n").status, Status::Done);
  EXPECT_EQ(decoder.payloadBytes(), 2u);
}

// "5;" plus extension bytes so the size line (CRLF excluded) is `lineBytes` long.
std::string bodyWithSizeLine(size_t lineBytes) {
  return "5;" + std::string(lineBytes - 2, 'e') + "\r\nhello\r\n0\r\n\r\n";
}

TEST(ChunkedDecoderTest, BoundsTheSizeLineIncludingExtensions) {
  constexpr size_t kLimit = ChunkedDecoder::kMaxSizeLineBytes;
  EXPECT_EQ(feedWhole(bodyWithSizeLine(kLimit)).status, Status::Done);
  EXPECT_EQ(feedByteByByte(bodyWithSizeLine(kLimit)).status, Status::Done);
  const Outcome over = feedWhole(bodyWithSizeLine(kLimit + 1));
  EXPECT_EQ(over.status, Status::Error);
  EXPECT_EQ(over.offset, kLimit);
  EXPECT_EQ(feedByteByByte(bodyWithSizeLine(kLimit + 1)), over);
}

std::string trailerLine(size_t lineBytes) {
  return "X:" + std::string(lineBytes - 2, 'v');
}

TEST(ChunkedDecoderTest, BoundsEachTrailerLine) {
  constexpr size_t kLimit = ChunkedDecoder::kMaxTrailerLineBytes;
  const std::string atLimit = "0\r\n" + trailerLine(kLimit) + "\r\n\r\n";
  EXPECT_EQ(feedWhole(atLimit).status, Status::Done);
  EXPECT_EQ(feedByteByByte(atLimit).status, Status::Done);
  const std::string overLimit = "0\r\n" + trailerLine(kLimit + 1) + "\r\n\r\n";
  const Outcome over = feedWhole(overLimit);
  EXPECT_EQ(over.status, Status::Error);
  EXPECT_EQ(over.offset, 3 + kLimit);
  EXPECT_EQ(feedByteByByte(overLimit), over);
}

// A trailer section (after "0\r\n") of exactly `sectionBytes`, final CRLF included.
std::string trailerSectionOfSize(size_t sectionBytes) {
  std::string section;
  size_t remaining = sectionBytes - 2;
  while (remaining > 0) {
    const size_t lineBytes = std::min(ChunkedDecoder::kMaxTrailerLineBytes, remaining - 2);
    section += trailerLine(lineBytes) + "\r\n";
    remaining -= lineBytes + 2;
  }
  return section + "\r\n";
}

TEST(ChunkedDecoderTest, BoundsTheTrailerSection) {
  constexpr size_t kLimit = ChunkedDecoder::kMaxTrailerBytes;
  const std::string atLimit = "0\r\n" + trailerSectionOfSize(kLimit);
  ASSERT_EQ(atLimit.size(), 3 + kLimit);
  const Outcome done = feedWhole(atLimit);
  EXPECT_EQ(done.status, Status::Done);
  EXPECT_EQ(done.offset, atLimit.size());
  EXPECT_EQ(feedByteByByte(atLimit), done);

  const std::string overLimit = "0\r\n" + trailerSectionOfSize(kLimit + 1);
  const Outcome over = feedWhole(overLimit);
  EXPECT_EQ(over.status, Status::Error);
  EXPECT_EQ(over.offset, 3 + kLimit);
  EXPECT_EQ(feedByteByByte(overLimit), over);
}

TEST(ChunkedDecoderTest, SkipsLargeChunkDataInBulk) {
  const std::string data(1 << 20, 'd');
  const std::string body = "100000\r\n" + data + "\r\n0\r\n\r\n";
  ChunkedDecoder decoder;
  const auto result = decoder.consume(body);
  EXPECT_EQ(result.status, Status::Done);
  EXPECT_EQ(result.consumed, body.size());
  EXPECT_EQ(decoder.payloadBytes(), data.size());
}

// Collects what a Sink is given.
struct CollectingSink final : ChunkedDecoder::Sink {
  std::string payloadBytes;
  std::string trailers;
  void payload(std::string_view data) override { payloadBytes.append(data); }
  void trailerText(std::string_view text) override { trailers.append(text); }
};

TEST(ChunkedDecoderTest, HandsThePayloadAndTrailersToASinkForEverySplit) {
  const std::string body =
      "5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n"
      "grpc-status: 0\r\nx-note: a b\r\n\r\nNEXT";
  CollectingSink whole;
  ChunkedDecoder decoder;
  const auto result = decoder.consume(body, &whole);
  EXPECT_EQ(result.status, Status::Done);
  EXPECT_EQ(result.consumed, body.size() - 4);
  EXPECT_EQ(whole.payloadBytes, "helloabcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(whole.trailers, "grpc-status: 0\r\nx-note: a b\r\n");

  CollectingSink bytewise;
  ChunkedDecoder byteDecoder;
  for (size_t i = 0; i + 4 < body.size(); ++i)
    byteDecoder.consume(std::string_view(body).substr(i, 1), &bytewise);
  EXPECT_EQ(bytewise.payloadBytes, whole.payloadBytes);
  EXPECT_EQ(bytewise.trailers, whole.trailers);
}

TEST(ChunkedDecoderTest, ASinkGetsNothingPastAnError) {
  CollectingSink sink;
  ChunkedDecoder decoder;
  const auto result = decoder.consume("3\r\nabcX\r\n", &sink);
  EXPECT_EQ(result.status, Status::Error);
  EXPECT_EQ(sink.payloadBytes, "abc");
  EXPECT_TRUE(sink.trailers.empty());
}

}  // namespace
}  // namespace meshgate::dp::http
