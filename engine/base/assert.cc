#include "engine/base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace strata::detail {

// Writing to stderr here is the one exception to "the world only through Runtime": an
// assertion failure means the process is about to die and no Runtime can be trusted.
void assert_fail(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "strata: assertion failed: %s at %s:%d %s\n", expr, file, line, msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace strata::detail
