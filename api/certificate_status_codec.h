// JSON codec for CertificateStatus, shared by the status codecs of both kinds.
#pragma once

#include <nlohmann/json.hpp>

#include "api/certificate_status.h"
#include "api/field_error.h"
#include "api/field_path.h"

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                CertificateStatus& out);
void to_json(nlohmann::json& j, const CertificateStatus& in);

}  // namespace meshgate::api
