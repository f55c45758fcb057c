#include <catch2/catch.hpp>

#include "engine/base/ids.h"
#include "engine/base/status.h"

using namespace strata;

namespace {
Result<int> parse_positive(int v) {
  if (v <= 0) return Status::invalid_argument("not positive: " + std::to_string(v));
  return v;
}
Status double_it(int v, int* out) {
  STRATA_ASSIGN_OR_RETURN(int x, parse_positive(v));
  *out = x * 2;
  return ok_status();
}
}  // namespace

TEST_CASE("Status and Result carry errors and values") {
  CHECK(ok_status().is_ok());
  Status s = Status::corruption("bad crc");
  CHECK_FALSE(s.is_ok());
  CHECK(s.to_string() == "CORRUPTION: bad crc");
  int out = 0;
  CHECK(double_it(4, &out).is_ok());
  CHECK(out == 8);
  Status e = double_it(-1, &out);
  CHECK(e.code() == StatusCode::kInvalidArgument);
  CHECK(e.message() == "not positive: -1");
}

TEST_CASE("strong ids compare and count") {
  Offset a{10};
  CHECK(a + 5 == Offset{15});
  CHECK(Offset{15} - a == 5);
  CHECK(a < Offset{11});
  CHECK(NodeId{1} != NodeId{2});
}
