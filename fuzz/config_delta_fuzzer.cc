// Fuzzes api::stream::applyDelta (api/config_delta.h): a Delta frame, decoded as a proxy decodes
// it, applied to a fixed base config like the ones the operator streams. Invariants: nothing
// throws; an applied delta gives a JSON object; the delta the operator would encode from the base
// to that result, decoded and applied to the base, gives the result again, and joining its split
// form gives its dump (the text the version digest is taken of).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "api/config_delta.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace meshgate::api::stream;

const nlohmann::json& baseConfig() {
  static const nlohmann::json base = nlohmann::json::parse(R"({
    "version": "v1",
    "admin": {"address": "127.0.0.1", "port": 15000},
    "listeners": [{"name": "http", "address": "0.0.0.0", "port": 8080}],
    "routes": [
      {"metadata": {"name": "shop", "namespace": "default"},
       "spec": {"hosts": ["shop.example.com"],
                "rules": [{"backends": [{"service": "web", "port": 80}]}]}},
      {"metadata": {"name": "api", "namespace": "default"},
       "spec": {"hosts": ["api.example.com"],
                "rules": [{"backends": [{"service": "orders", "port": 9100}]}]}}
    ],
    "clusters": [
      {"name": "web", "endpoints": [{"address": "10.0.0.1"}, {"address": "10.0.0.2"}]},
      {"name": "orders", "endpoints": [{"address": "10.0.1.1", "port": 9100}]}
    ],
    "tags": ["a", "b", 3]
  })");
  return base;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  const auto decoded = decodeServerMessage(frame);
  if (!decoded.ok() || !std::holds_alternative<Delta>(*decoded)) return 0;
  const Delta& delta = std::get<Delta>(*decoded);
  const auto applied = applyDelta(baseConfig(), delta);
  if (!applied.ok()) {
    FUZZ_CHECK(!applied.error().empty());
    return 0;
  }
  const nlohmann::json& result = *applied;
  FUZZ_CHECK(result.is_object());

  const SplitConfig base = splitConfig(baseConfig());
  const SplitConfig target = splitConfig(result, &base);
  FUZZ_CHECK(joinConfig(target) == result.dump());
  const std::string again = encodeDeltaFrame(delta.version, delta.base, base, target);
  const auto redecoded = decodeServerMessage(again);
  FUZZ_CHECK(redecoded.ok() && std::holds_alternative<Delta>(*redecoded));
  const auto reapplied = applyDelta(baseConfig(), std::get<Delta>(*redecoded));
  FUZZ_CHECK(reapplied.ok());
  FUZZ_CHECK(*reapplied == result);
  return 0;
}
