// Fuzzes api::stream::decodeServerMessage and frameVersion (api/config_stream_protocol.h), which a
// proxy runs on every frame the operator sends (Snapshot, Delta). Invariants: nothing throws; a
// decoded message encodes to a frame that decodes back to an equal message and whose head
// frameVersion reads as the message's version (as empty when the version needs JSON escapes).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "api/config_stream_protocol.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshgate::api::stream;
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  FUZZ_CHECK(frameVersion(frame).size() <= frame.size());
  const auto decoded = decodeServerMessage(frame);
  if (!decoded.ok()) {
    FUZZ_CHECK(!decoded.error().empty());
    return 0;
  }
  const std::string encoded = encode(*decoded);
  const auto again = decodeServerMessage(encoded);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *decoded);
  const std::string& version =
      std::visit([](const auto& m) -> const std::string& { return m.version; }, *decoded);
  // frameVersion reads the head as written, without undoing escapes (the operator's versions are
  // hex digests): a version JSON must escape reads as empty, any other as itself.
  const bool needsEscape = std::any_of(version.begin(), version.end(), [](char c) {
    return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
  });
  FUZZ_CHECK(frameVersion(encoded) == (needsEscape ? std::string() : version));
  return 0;
}
