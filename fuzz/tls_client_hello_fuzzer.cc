// Fuzzes the ClientHello parser (dataplane/proxy/tls_client_hello.h) as a TLS passthrough listener
// uses it: the input is the first bytes a client sent. Invariants: parsing is deterministic; only
// a non-handshake first byte is kNotTls; a complete ClientHello's server name is 1..255 bytes of
// lower-case letters, digits and '-' in non-empty labels, its ALPN names non-empty, and nothing
// else carries them; the verdict on a prefix, when not kNeedMore, is the verdict on the whole;
// under a smaller limit the verdict is the same or kTooLarge.
#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/proxy/tls_client_hello.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace meshgate::dp;

bool isLowerLdhName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name.front() == '.' || name.back() == '.') return false;
  char previous = 0;
  for (const char c : name) {
    const bool ldh = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ldh && !(c == '.' && previous != '.')) return false;
    previous = c;
  }
  return true;
}

void checkShape(const ClientHelloInfo& info) {
  FUZZ_CHECK(info.status != ClientHelloStatus::kTimedOut);
  FUZZ_CHECK(info.status != ClientHelloStatus::kClosed);
  FUZZ_CHECK(!describe(info.status).empty());
  if (info.status != ClientHelloStatus::kComplete) {
    FUZZ_CHECK(!info.serverName.has_value());
    FUZZ_CHECK(info.alpn.empty());
    return;
  }
  if (info.serverName) FUZZ_CHECK(isLowerLdhName(*info.serverName));
  for (const std::string& protocol : info.alpn)
    FUZZ_CHECK(!protocol.empty() && protocol.size() <= 255);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const unsigned char> bytes(data, size);
  const ClientHelloInfo whole = parseClientHello(bytes);
  checkShape(whole);
  FUZZ_CHECK(parseClientHello(bytes) == whole);
  if (size > 0) FUZZ_CHECK((whole.status == ClientHelloStatus::kNotTls) == (data[0] != 22));

  const size_t prefixes[] = {
      1, 5, 9, size / 2, size > 0 ? size - 1 : 0, size > 0 ? size * data[size - 1] / 256 : 0};
  for (const size_t prefix : prefixes) {
    if (prefix >= size) continue;
    const ClientHelloInfo part = parseClientHello(bytes.first(prefix));
    checkShape(part);
    FUZZ_CHECK(part.status == ClientHelloStatus::kNeedMore || part == whole);
  }

  const ClientHelloInfo limited = parseClientHello(bytes, size / 2);
  checkShape(limited);
  FUZZ_CHECK(limited.status == ClientHelloStatus::kTooLarge || limited == whole);
  return 0;
}
