// Turns the thread's OpenSSL error queue into a pki::Error and empties it. Every failing OpenSSL
// call in pki/ goes through here: a stale entry left on the queue would be misread by the next
// TLS call on the same thread (SSL_get_error consults it). Also used by the operator's config
// server for the TLS contexts it builds.
#pragma once

#include <string>
#include <string_view>

#include "pki/error.h"

namespace pki {

// The queued OpenSSL reasons ("PEM routines: no start line"), joined and deduplicated, or
// "unknown OpenSSL error" when the queue was empty. Only library and reason strings are read —
// never the per-error data, which may echo input.
std::string drainOpenSslErrors();

// Error{"<what>: <drained reasons>"}.
Error openSslError(std::string_view what);

// Empties the queue after calls that push entries on expected outcomes (end of a PEM bundle, a
// signature that does not verify).
void clearOpenSslErrors();

}  // namespace pki
