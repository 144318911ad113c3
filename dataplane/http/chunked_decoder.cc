// Chunked-body follower behind chunked_decoder.h; the proxy's sessions feed it the body bytes they
// forward (both directions) to learn where a chunked message ends. A byte-at-a-time state machine
// for the framing, with chunk data skipped in bulk, so any split of the input gives the same
// result.
#include "dataplane/http/chunked_decoder.h"

#include <algorithm>
#include <limits>

namespace meshgate::dp::http {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isTokenChar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// HTAB, SP, visible ASCII and obs-text: what extensions and trailer values may hold.
bool isTextChar(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte == '\t' || (byte >= 0x20 && byte != 0x7F);
}

}  // namespace

ChunkedDecoder::Result ChunkedDecoder::fail(size_t offset, std::string_view why) {
  state_ = State::Failed;
  error_ = why;
  return {Status::Error, offset};
}

ChunkedDecoder::Result ChunkedDecoder::consume(std::string_view data, Sink* sink) {
  if (state_ == State::Done) return {Status::Done, 0};
  if (state_ == State::Failed) return {Status::Error, 0};

  const size_t size = data.size();
  size_t i = 0;
  while (i < size) {
    const char c = data[i];
    switch (state_) {
      case State::Size: {
        const int digit = hexValue(c);
        if (digit >= 0) {
          if (sizeDigits_ == kMaxSizeDigits) return fail(i, "chunk size has too many digits");
          remaining_ = (remaining_ << 4) | static_cast<uint64_t>(digit);
          ++sizeDigits_;
          ++lineBytes_;
        } else if (c == '\n') {
          return fail(i, "bare LF in chunk size line");
        } else if (sizeDigits_ == 0) {
          return fail(i, "invalid chunk size");
        } else if (c == ';') {
          ++lineBytes_;
          state_ = State::Extension;
        } else if (c == '\r') {
          state_ = State::SizeLF;
        } else {
          return fail(i, "invalid chunk size");
        }
        ++i;
        break;
      }

      case State::Extension:
        if (c == '\r') {
          state_ = State::SizeLF;
        } else if (c == '\n') {
          return fail(i, "bare LF in chunk size line");
        } else if (!isTextChar(c)) {
          return fail(i, "invalid character in chunk extension");
        } else if (++lineBytes_ > kMaxSizeLineBytes) {
          return fail(i, "chunk extension too long");
        }
        ++i;
        break;

      case State::SizeLF:
        if (c != '\n') return fail(i, "bare CR in chunk size line");
        ++i;
        lineBytes_ = 0;
        sizeDigits_ = 0;
        if (remaining_ == 0) {
          state_ = State::TrailerStart;
        } else if (remaining_ > std::numeric_limits<uint64_t>::max() - payloadBytes_) {
          return fail(i - 1, "chunked body too large");
        } else {
          state_ = State::Data;
        }
        break;

      case State::Data: {
        // The one hot path: skip the payload without looking at it.
        const uint64_t take = std::min<uint64_t>(remaining_, size - i);
        if (sink) sink->payload(data.substr(i, static_cast<size_t>(take)));
        remaining_ -= take;
        payloadBytes_ += take;
        i += static_cast<size_t>(take);
        if (remaining_ == 0) state_ = State::DataCR;
        break;
      }

      case State::DataCR:
        if (c != '\r') return fail(i, "missing CRLF after chunk data");
        state_ = State::DataLF;
        ++i;
        break;

      case State::DataLF:
        if (c != '\n') return fail(i, "missing CRLF after chunk data");
        state_ = State::Size;
        ++i;
        break;

      case State::TrailerStart:
        if (++trailerBytes_ > kMaxTrailerBytes) return fail(i, "trailer section too large");
        if (c == '\r') {
          state_ = State::LastLF;
        } else if (isTokenChar(c)) {
          lineBytes_ = 1;
          state_ = State::TrailerName;
          if (sink) sink->trailerText(data.substr(i, 1));
        } else if (c == ' ' || c == '\t') {
          return fail(i, "obsolete line folding in trailer");
        } else {
          return fail(i, "invalid trailer field name");
        }
        ++i;
        break;

      case State::TrailerName:
      case State::TrailerValue:
        if (++trailerBytes_ > kMaxTrailerBytes) return fail(i, "trailer section too large");
        if (c == '\r') {
          if (state_ == State::TrailerName) return fail(i, "trailer field without colon");
          state_ = State::TrailerLF;
        } else if (state_ == State::TrailerName && c == ':') {
          state_ = State::TrailerValue;
        } else if (state_ == State::TrailerName ? !isTokenChar(c) : !isTextChar(c)) {
          return fail(i, state_ == State::TrailerName ? "invalid trailer field name"
                                                      : "invalid trailer field value");
        }
        if (c != '\r' && ++lineBytes_ > kMaxTrailerLineBytes) {
          return fail(i, "trailer field too long");
        }
        if (sink) sink->trailerText(data.substr(i, 1));
        ++i;
        break;

      case State::TrailerLF:
        if (++trailerBytes_ > kMaxTrailerBytes) return fail(i, "trailer section too large");
        if (c != '\n') return fail(i, "bare CR in trailer section");
        if (sink) sink->trailerText(data.substr(i, 1));
        state_ = State::TrailerStart;
        lineBytes_ = 0;
        ++i;
        break;

      case State::LastLF:
        if (++trailerBytes_ > kMaxTrailerBytes) return fail(i, "trailer section too large");
        if (c != '\n') return fail(i, "bare CR after last chunk");
        state_ = State::Done;
        return {Status::Done, i + 1};

      case State::Done:
      case State::Failed:
        break;  // handled before the loop
    }
  }
  return {Status::NeedMore, size};
}

}  // namespace meshgate::dp::http
