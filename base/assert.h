// MESHGATE_ASSERT(condition, message): an invariant the code relies on, checked at run time in
// debug and sanitizer builds (where a broken invariant should stop the test that broke it, with
// file and line) and compiled out of optimized builds, whose request path pays nothing for it.
// The condition is not evaluated when assertions are off: it must have no side effects.
#pragma once

#include <cstdio>
#include <cstdlib>

#if !defined(NDEBUG) || defined(MESHGATE_ASSERTIONS)
#define MESHGATE_ASSERTIONS_ON 1
#else
#define MESHGATE_ASSERTIONS_ON 0
#endif

namespace meshgate::detail {
[[noreturn]] inline void assertionFailed(const char* condition, const char* message,
                                         const char* file, int line) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s (%s)\n", file, line, condition, message);
  std::fflush(stderr);
  std::abort();
}
}  // namespace meshgate::detail

#if MESHGATE_ASSERTIONS_ON
#define MESHGATE_ASSERT(condition, message)                                         \
  do {                                                                              \
    if (!(condition))                                                               \
      ::meshgate::detail::assertionFailed(#condition, message, __FILE__, __LINE__); \
  } while (false)
#else
#define MESHGATE_ASSERT(condition, message) \
  do {                                      \
  } while (false && (condition))
#endif
