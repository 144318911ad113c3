// Reading a Secret object's data: the base64 of `data[key]` decoded, or "" when the key is
// absent or not valid base64. Shared by everything that reads certificate Secrets.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace meshgate::op {

std::string secretData(const nlohmann::json& secret, const char* key);

}  // namespace meshgate::op
