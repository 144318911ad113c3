// Parsing the ClientHello: the record layer (RFC 8446 5.1), reassembly of the handshake message
// from its records, then the ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2) and two of its
// extensions, server_name (RFC 6066 3) and ALPN (RFC 7301 3.1).
#include "dataplane/proxy/tls_client_hello.h"

#include <algorithm>
#include <bitset>
#include <cstdint>

namespace meshgate::dp {

namespace {

constexpr unsigned char kHandshakeRecord = 22;
constexpr unsigned char kClientHelloMessage = 1;
constexpr size_t kRecordHeaderBytes = 5;
constexpr size_t kHandshakeHeaderBytes = 4;
constexpr size_t kMaxRecordPayload = 16384;
constexpr size_t kRandomBytes = 32;
constexpr size_t kMaxSessionIdBytes = 32;
constexpr size_t kMaxHostNameBytes = 255;
constexpr uint16_t kServerNameExtension = 0;
constexpr uint16_t kAlpnExtension = 16;
constexpr unsigned char kHostNameType = 0;

using Bytes = std::span<const unsigned char>;

// Reads big-endian integers and length-prefixed vectors off a span; every read that would pass
// its end fails instead, and the caller reports kMalformed.
class Reader {
 public:
  explicit Reader(Bytes bytes) : bytes_(bytes) {}

  bool empty() const { return bytes_.empty(); }
  size_t remaining() const { return bytes_.size(); }

  bool integer(size_t width, size_t& out) {
    if (bytes_.size() < width) return false;
    out = 0;
    for (size_t i = 0; i < width; ++i)
      out = (out << 8) | bytes_[i];
    bytes_ = bytes_.subspan(width);
    return true;
  }

  bool take(size_t count, Bytes& out) {
    if (bytes_.size() < count) return false;
    out = bytes_.first(count);
    bytes_ = bytes_.subspan(count);
    return true;
  }

  // A vector<floor..2^(8*lengthWidth)-1>: its length, then its bytes.
  bool vector(size_t lengthWidth, size_t floor, Bytes& out) {
    size_t length = 0;
    return integer(lengthWidth, length) && length >= floor && take(length, out);
  }

 private:
  Bytes bytes_;
};

bool isLdh(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// A host_name: letters, digits and '-' in non-empty labels separated by '.', with one optional
// trailing '.' (dropped); lower-cased. nullopt: not such a name.
std::optional<std::string> hostName(Bytes raw) {
  if (raw.empty() || raw.size() > kMaxHostNameBytes) return std::nullopt;
  if (raw.back() == '.') raw = raw.first(raw.size() - 1);
  if (raw.empty()) return std::nullopt;
  std::string name;
  name.reserve(raw.size());
  bool labelStart = true;
  for (const unsigned char c : raw) {
    if (c == '.') {
      if (labelStart) return std::nullopt;  // a leading '.' or ".."
      labelStart = true;
    } else if (isLdh(c)) {
      labelStart = false;
    } else {
      return std::nullopt;
    }
    name.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  if (labelStart) return std::nullopt;  // ended in ".." before the trailing dot was dropped
  return name;
}

// server_name: a non-empty ServerNameList filling the extension. Entries of other name types are
// skipped (RFC 6066 left them opaque<1..2^16-1>, as host_name); more than one host_name is an
// error, since which one the backend would use is anyone's guess.
bool parseServerName(Bytes data, ClientHelloInfo& info) {
  Reader extension(data);
  Bytes listBytes;
  if (!extension.vector(2, 1, listBytes) || !extension.empty()) return false;
  Reader list(listBytes);
  while (!list.empty()) {
    size_t type = 0;
    Bytes name;
    if (!list.integer(1, type) || !list.vector(2, 1, name)) return false;
    if (type != kHostNameType) continue;
    if (info.serverName) return false;
    info.serverName = hostName(name);
    if (!info.serverName) return false;
  }
  return true;
}

// ALPN: a non-empty ProtocolNameList filling the extension, of non-empty names.
bool parseAlpn(Bytes data, ClientHelloInfo& info) {
  Reader extension(data);
  Bytes listBytes;
  if (!extension.vector(2, 2, listBytes) || !extension.empty()) return false;
  Reader list(listBytes);
  while (!list.empty()) {
    Bytes protocol;
    if (!list.vector(1, 1, protocol)) return false;
    info.alpn.emplace_back(protocol.begin(), protocol.end());
  }
  return true;
}

// The body of a ClientHello handshake message (after its 4-byte header), all of it.
ClientHelloStatus parseBody(Bytes body, ClientHelloInfo& info) {
  constexpr auto kMalformed = ClientHelloStatus::kMalformed;
  Reader hello(body);
  size_t version = 0;
  Bytes skipped;
  if (!hello.integer(2, version) || (version >> 8) != 3) return kMalformed;
  if (!hello.take(kRandomBytes, skipped)) return kMalformed;
  if (!hello.vector(1, 0, skipped) || skipped.size() > kMaxSessionIdBytes) return kMalformed;
  if (!hello.vector(2, 2, skipped) || skipped.size() % 2 != 0) return kMalformed;
  if (!hello.vector(1, 1, skipped)) return kMalformed;
  // TLS 1.2's grammar lets the extensions block be absent altogether.
  if (hello.empty()) return ClientHelloStatus::kComplete;

  Bytes extensionBytes;
  if (!hello.vector(2, 0, extensionBytes) || !hello.empty()) return kMalformed;
  Reader extensions(extensionBytes);
  std::bitset<65536> seen;  // RFC 8446 4.2: no extension type twice
  while (!extensions.empty()) {
    size_t type = 0;
    Bytes data;
    if (!extensions.integer(2, type) || !extensions.vector(2, 0, data)) return kMalformed;
    if (seen.test(type)) return kMalformed;
    seen.set(type);
    if (type == kServerNameExtension && !parseServerName(data, info)) return kMalformed;
    if (type == kAlpnExtension && !parseAlpn(data, info)) return kMalformed;
  }
  return ClientHelloStatus::kComplete;
}

// The header, or as much of it as there is, of the record at the start of `header`.
// kComplete: a whole, valid header, whose payload length is in `length`.
ClientHelloStatus checkRecordHeader(Bytes header, bool first, size_t& length) {
  if (!header.empty() && header[0] != kHandshakeRecord)
    return first ? ClientHelloStatus::kNotTls : ClientHelloStatus::kMalformed;
  if (header.size() > 1 && header[1] != 3) return ClientHelloStatus::kMalformed;
  if (header.size() > 2 && header[2] > 4) return ClientHelloStatus::kMalformed;
  if (header.size() < kRecordHeaderBytes) return ClientHelloStatus::kNeedMore;
  length = (size_t{header[3]} << 8) | header[4];
  if (length == 0 || length > kMaxRecordPayload) return ClientHelloStatus::kMalformed;
  return ClientHelloStatus::kComplete;
}

}  // namespace

std::string_view describe(ClientHelloStatus status) {
  switch (status) {
    case ClientHelloStatus::kNeedMore:
      return "need more";
    case ClientHelloStatus::kComplete:
      return "complete";
    case ClientHelloStatus::kNotTls:
      return "not tls";
    case ClientHelloStatus::kMalformed:
      return "malformed";
    case ClientHelloStatus::kTooLarge:
      return "too large";
    case ClientHelloStatus::kTimedOut:
      return "timed out";
    case ClientHelloStatus::kClosed:
      return "closed";
  }
  return "unknown";
}

ClientHelloInfo parseClientHello(Bytes bytes, size_t maxBytes) {
  ClientHelloInfo info;
  const Bytes input = bytes.first(std::min(bytes.size(), maxBytes));
  // Out of input: the ClientHello goes on past what was sent so far, or past the limit.
  const ClientHelloStatus outOfInput =
      bytes.size() >= maxBytes ? ClientHelloStatus::kTooLarge : ClientHelloStatus::kNeedMore;

  // The handshake message, gathered from the records' payloads; it never holds more than the
  // input's bytes, and the message's own length is checked against the limit before it grows.
  std::vector<unsigned char> message;
  message.reserve(input.size());
  size_t messageBytes = 0;  // header included; 0 until its header is in
  size_t offset = 0;
  for (bool first = true;; first = false) {
    size_t recordLength = 0;
    const Bytes header = input.subspan(offset, std::min(kRecordHeaderBytes, input.size() - offset));
    const ClientHelloStatus headerStatus = checkRecordHeader(header, first, recordLength);
    if (headerStatus == ClientHelloStatus::kNeedMore) return ClientHelloInfo{.status = outOfInput};
    if (headerStatus != ClientHelloStatus::kComplete)
      return ClientHelloInfo{.status = headerStatus};
    offset += kRecordHeaderBytes;

    const Bytes payload = input.subspan(offset, std::min(recordLength, input.size() - offset));
    const size_t wanted = messageBytes != 0 ? messageBytes - message.size() : payload.size();
    message.insert(message.end(), payload.begin(),
                   payload.begin() + static_cast<ptrdiff_t>(std::min(wanted, payload.size())));
    if (!message.empty() && message[0] != kClientHelloMessage)
      return ClientHelloInfo{.status = ClientHelloStatus::kMalformed};
    if (messageBytes == 0 && message.size() >= kHandshakeHeaderBytes) {
      messageBytes = kHandshakeHeaderBytes +
                     ((size_t{message[1]} << 16) | (size_t{message[2]} << 8) | message[3]);
      // At least one record header goes in front of it.
      if (messageBytes > maxBytes || maxBytes - messageBytes < kRecordHeaderBytes)
        return ClientHelloInfo{.status = ClientHelloStatus::kTooLarge};
      if (message.size() > messageBytes) message.resize(messageBytes);
    }
    if (messageBytes != 0 && message.size() == messageBytes) {
      info.status = parseBody(Bytes(message).subspan(kHandshakeHeaderBytes), info);
      if (info.status != ClientHelloStatus::kComplete)
        return ClientHelloInfo{.status = info.status};
      return info;
    }
    if (payload.size() < recordLength) return ClientHelloInfo{.status = outOfInput};
    offset += recordLength;
  }
}

}  // namespace meshgate::dp
