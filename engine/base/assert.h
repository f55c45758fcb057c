// Always-on assertions. An assertion documents a programmer error: it is never used for
// input that comes from a socket or a disk (that is decoded into a Status instead).
#pragma once

namespace strata::detail {
[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const char* msg);
}  // namespace strata::detail

#define STRATA_ASSERT(cond, ...)                                                       \
  do {                                                                                 \
    if (!(cond)) [[unlikely]]                                                          \
      ::strata::detail::assert_fail(#cond, __FILE__, __LINE__, "" __VA_ARGS__);        \
  } while (0)

#define STRATA_UNREACHABLE(msg) ::strata::detail::assert_fail("unreachable", __FILE__, __LINE__, msg)
