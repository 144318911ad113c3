// Header field helpers shared by ServerCodec and ClientCodec.
#include "dataplane/http2/fields.h"

#include <cctype>
#include <string_view>
#include <utility>

namespace meshgate::dp::http2::detail {
namespace {

// Per field of a header list, on top of its name and value (RFC 9113 6.5.2).
constexpr size_t kHeaderFieldOverhead = 32;

// Fields no HTTP/2 message may carry (RFC 9113 8.2.2); each side drops more.
bool isConnectionSpecific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade";
}

}  // namespace

char lowercase(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

std::vector<Field> outboundFields(const std::vector<Field>& fields, SideFieldRule sideRule) {
  std::vector<Field> cleaned;
  cleaned.reserve(fields.size());
  for (const Field& field : fields) {
    Field out{field.name, field.value};
    for (char& c : out.name)
      c = lowercase(c);
    if (out.name.empty() || out.name.front() == ':' || isConnectionSpecific(out.name)) continue;
    if (!sideRule(out)) continue;
    if (!nghttp2_check_header_name(bytesOf(out.name), out.name.size())) continue;
    cleaned.push_back(std::move(out));
  }
  return cleaned;
}

const uint8_t* bytesOf(const std::string& text) {
  return reinterpret_cast<const uint8_t*>(text.data());
}

nghttp2_nv nameValue(const std::string& name, const std::string& value) {
  return nghttp2_nv{const_cast<uint8_t*>(bytesOf(name)), const_cast<uint8_t*>(bytesOf(value)),
                    name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

std::vector<nghttp2_nv> nameValues(const std::vector<Field>& fields) {
  std::vector<nghttp2_nv> list;
  list.reserve(fields.size());
  for (const Field& field : fields)
    list.push_back(nameValue(field.name, field.value));
  return list;
}

bool HeaderListSize::add(size_t nameLength, size_t valueLength, uint32_t limit) {
  bytes_ += nameLength + valueLength + kHeaderFieldOverhead;
  return bytes_ <= limit;
}

}  // namespace meshgate::dp::http2::detail
