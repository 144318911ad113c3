// Secret data decoding.
#include "operator/secret_data.h"

#include "base/base64.h"

namespace meshgate::op {

std::string secretData(const nlohmann::json& secret, const char* key) {
  const auto data = secret.find("data");
  if (data == secret.end() || !data->is_object()) return "";
  const auto value = data->find(key);
  if (value == data->end() || !value->is_string()) return "";
  return base64Decode(value->get<std::string>()).value_or("");
}

}  // namespace meshgate::op
