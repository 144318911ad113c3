// Fuzzes api::stream::decodeClientMessage (api/config_stream_protocol.h), which the operator's
// config server runs on every frame a proxy sends (Hello, Ack, Nack). Invariants: nothing throws;
// a decoded message encodes to a frame that decodes back to an equal message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/config_stream_protocol.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshgate::api::stream;
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  const auto decoded = decodeClientMessage(frame);
  if (!decoded.ok()) {
    FUZZ_CHECK(!decoded.error().empty());
    return 0;
  }
  const std::string encoded = encode(*decoded);
  const auto again = decodeClientMessage(encoded);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *decoded);
  return 0;
}
