// Result<T> carries either a value or an ApiError; kube/ never throws across its API.
#pragma once

#include "base/expected.h"
#include "kube/api_error.h"

namespace kube {

template <class T>
using Result = meshgate::Expected<T, ApiError>;

// For calls that return nothing on success.
using Ok = meshgate::Ok;
using Status = Result<Ok>;

}  // namespace kube
