// SHA-256 digests with OpenSSL; see sha256.h.
#include "base/sha256.h"

#include <algorithm>

#include <openssl/evp.h>

namespace meshgate {

std::string sha256Hex(std::string_view text, std::size_t hexDigits) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    return "unknown";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length && out.size() < hexDigits; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  out.resize(std::min(out.size(), hexDigits));
  return out;
}

}  // namespace meshgate
