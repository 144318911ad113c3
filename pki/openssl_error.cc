#include "pki/openssl_error.h"

#include <vector>

#include <openssl/err.h>

namespace pki {

std::string drainOpenSslErrors() {
  std::vector<std::string> reasons;
  while (unsigned long code = ERR_get_error()) {
    std::string text;
    const char* lib = ERR_lib_error_string(code);
    const char* reason = ERR_reason_error_string(code);
    if (reason != nullptr) {
      text = lib != nullptr ? std::string(lib) + ": " + reason : std::string(reason);
    } else {
      char buf[256];
      ERR_error_string_n(code, buf, sizeof(buf));
      text = buf;
    }
    bool seen = false;
    for (const auto& r : reasons)
      seen = seen || r == text;
    if (!seen) reasons.push_back(std::move(text));
  }
  if (reasons.empty()) return "unknown OpenSSL error";
  std::string joined;
  for (const auto& r : reasons) {
    if (!joined.empty()) joined += "; ";
    joined += r;
  }
  return joined;
}

Error openSslError(std::string_view what) {
  return Error{std::string(what) + ": " + drainOpenSslErrors()};
}

void clearOpenSslErrors() {
  ERR_clear_error();
}

}  // namespace pki
