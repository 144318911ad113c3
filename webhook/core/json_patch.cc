// JSON Patch generation; see webhook/core/json_patch.h.
#include "webhook/core/json_patch.h"

namespace meshgate::webhook {

nlohmann::json jsonPatch(const nlohmann::json& from, const nlohmann::json& to) {
  // nlohmann's diff escapes keys (RFC 6901) and emits removals from the end of an array first, so
  // each operation's index is valid when the apiserver applies them in order; json_patch_test
  // checks both, as a future library change would break every injected pod.
  return nlohmann::json::diff(from, to);
}

std::string escapeJsonPointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (const char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace meshgate::webhook
