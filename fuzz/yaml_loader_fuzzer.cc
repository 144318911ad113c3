// Fuzzes api::loadYaml (api/yaml_loader.h), the front end of meshgatectl and of the proxy's config
// file: YAML or JSON text in, JSON documents out, never a throw. Invariants: an error comes with no
// documents and no document is null; every document is JSON the encoders can write (text that
// dumps without throwing, so valid UTF-8, and no number JSON cannot hold) and that reads back
// equal.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/yaml_loader.h"
#include "fuzz/fuzz_check.h"

namespace {

bool finiteNumbers(const nlohmann::json& j) {
  if (j.is_number_float()) return std::isfinite(j.get<double>());
  if (j.is_structured()) {
    for (const auto& item : j)
      if (!finiteNumbers(item)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const meshgate::api::YamlLoadResult result = meshgate::api::loadYaml(text, "<fuzz>");
  if (!result.ok()) {
    FUZZ_CHECK(result.documents.empty());
    return 0;
  }
  for (const nlohmann::json& document : result.documents) {
    FUZZ_CHECK(!document.is_null());
    FUZZ_CHECK(finiteNumbers(document));
    const std::string dumped = document.dump();
    const auto reread = nlohmann::json::parse(dumped, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(reread == document);
  }
  return 0;
}
