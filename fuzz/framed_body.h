// skipFramedBody: moves the HTTP/1 fuzz targets' input past one message body with the framing
// its head announced, checking the chunked decoder's invariants on the way. False when the body
// is not all there (the connection ends mid-body) or runs until the connection closes.
#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/http/chunked_decoder.h"
#include "dataplane/http/http1_parser.h"
#include "fuzz/fuzz_check.h"

inline bool skipFramedBody(std::string_view& input, meshgate::dp::http::BodyFraming framing,
                           uint64_t contentLength, meshgate::dp::http::ChunkedDecoder& chunked) {
  using meshgate::dp::http::BodyFraming;
  using meshgate::dp::http::ChunkedDecoder;
  switch (framing) {
    case BodyFraming::None:
      return true;
    case BodyFraming::ContentLength:
      if (contentLength > input.size()) return false;
      input.remove_prefix(contentLength);
      return true;
    case BodyFraming::Chunked: {
      chunked.reset();
      const ChunkedDecoder::Result body = chunked.consume(input);
      FUZZ_CHECK(body.consumed <= input.size());
      if (body.status != ChunkedDecoder::Status::Done) return false;
      input.remove_prefix(body.consumed);
      return true;
    }
    case BodyFraming::UntilClose:
      return false;
  }
  return false;
}
