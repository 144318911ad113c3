// RFC 6902 JSON Patch between two documents, the form a mutating webhook returns
// (patchType JSONPatch). admitPod() diffs the original pod against the injected one with it, and
// mutateMeshService() the object against its defaulted copy; the tests apply the result with
// nlohmann::json::patch to check it.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace meshgate::webhook {

// The operations (a JSON array, empty when the documents are equal) that turn `from` into `to`.
// Object keys in paths are escaped per RFC 6901, so `meshgate.io/injected` appears as
// `/metadata/annotations/meshgate.io~1injected`; an element appended to an array is added at
// `<array>/-`.
nlohmann::json jsonPatch(const nlohmann::json& from, const nlohmann::json& to);

// One reference token of a JSON Pointer (RFC 6901 §3): `~` becomes `~0` and `/` becomes `~1`, as
// if `~` were replaced first: `/` must not end up as `~01`.
std::string escapeJsonPointerToken(std::string_view token);

}  // namespace meshgate::webhook
