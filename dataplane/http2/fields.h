// Header field helpers both HTTP/2 codecs share: the filter fields pass on their way out, the
// nghttp2 name/value lists they go out as, and the size of a header list coming in. Internal to
// the codecs, not meant for the proxy.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/http2/server_codec.h"

namespace meshgate::dp::http2::detail {

char lowercase(char c);

// One side's own rule for an outbound field, applied after the shared ones (name lowercased, not a
// pseudo-header, not connection-specific): it may adjust the field; false drops it. It also
// checks the value, as the sides accept different values.
using SideFieldRule = bool (*)(Field& field);

// The fields of a header block or trailers as they may go out: names lowercased; pseudo-headers,
// connection-specific fields (RFC 9113 8.2.2), names with forbidden characters and what
// `sideRule` refuses dropped.
std::vector<Field> outboundFields(const std::vector<Field>& fields, SideFieldRule sideRule);

const uint8_t* bytesOf(const std::string& text);
// Views of `name` and `value` for nghttp2: valid while they are.
nghttp2_nv nameValue(const std::string& name, const std::string& value);
std::vector<nghttp2_nv> nameValues(const std::vector<Field>& fields);

// The decoded size of the header block being received (names + values + 32 per field, RFC 9113
// 6.5.2), against SETTINGS_MAX_HEADER_LIST_SIZE.
class HeaderListSize {
 public:
  void reset() { bytes_ = 0; }
  // Counts one field; false once the block is over `limit`.
  bool add(size_t nameLength, size_t valueLength, uint32_t limit);

 private:
  size_t bytes_ = 0;
};

}  // namespace meshgate::dp::http2::detail
