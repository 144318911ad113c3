// Fuzzes the ApiRoute codec (api/api_route_codec.h) behind api::loadYaml, as meshgatectl and the
// webhook feed it, then the schema defaults and semantic validation of what decoded. Invariants:
// nothing throws; a decoded route encodes to JSON that decodes back to an equal route and encodes
// to the same JSON again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/api_route_codec.h"
#include "api/api_route_validation.h"
#include "api/schema_defaults.h"
#include "api/yaml_loader.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshgate::api;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const YamlLoadResult yaml = loadYaml(text, "<fuzz>");
  for (const nlohmann::json& document : yaml.documents) {
    const DecodeResult<ApiRoute> decoded = decodeApiRoute(document);
    FUZZ_CHECK(decoded.ok() == decoded.object.has_value());
    if (!decoded.ok()) continue;
    const nlohmann::json encoded = encodeApiRoute(*decoded.object);
    const DecodeResult<ApiRoute> again = decodeApiRoute(encoded);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again.object == *decoded.object);
    FUZZ_CHECK(encodeApiRoute(*again.object) == encoded);

    (void)validateApiRoute(*decoded.object);
    ApiRoute defaulted = *decoded.object;
    applySchemaDefaults(defaulted);
    (void)validateApiRoute(defaulted);
  }
  return 0;
}
