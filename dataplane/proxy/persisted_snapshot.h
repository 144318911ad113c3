// PersistedSnapshot: a gateway's copy of the last config the operator streamed to it
// (--snapshot-file), so that a restarted gateway serves at once — before the operator answers, or
// while it is down. ProxyServer writes it after every snapshot it applied and reads it at start.
// The file holds secrets (listener private keys): it is created with mode 0600 as PATH.tmp, synced
// and renamed over PATH, so a crash never leaves half a file and no other user can read it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/expected.h"

namespace meshgate::dp {

// Replaces `path` with `text` atomically; the error says which step failed and why.
Expected<Ok, std::string> writePersistedSnapshot(const std::string& path, std::string_view text);

// The JSON document in `path`; nullopt when there is no such file; an error when it cannot be read
// or is not JSON (a corrupt file).
Expected<std::optional<nlohmann::json>, std::string> readPersistedSnapshot(const std::string& path);

}  // namespace meshgate::dp
