// pki::Error and pki::Result<T>: how every pki/ call reports failure (pki/ never throws across its
// API). Messages name what was wrong and never contain key material, so callers may put them in
// logs, Events and status conditions as they are.
#pragma once

#include <string>

#include "base/expected.h"

namespace pki {

struct Error {
  std::string message;
};

template <class T>
using Result = meshgate::Expected<T, Error>;

// For calls that return nothing on success.
using Ok = meshgate::Ok;
using Status = Result<Ok>;

}  // namespace pki
