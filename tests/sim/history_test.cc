// History's value ids: the fast reading of a workload value must agree with the general one.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/history.h"

using namespace strata::sim;

namespace {

// The id part of a workload value: everything before the first '|'.
std::string prefix_of(const std::string& value) { return value.substr(0, value.find('|')); }

}  // namespace

TEST_CASE("history: value ids read back exactly as the value's prefix") {
  History h;
  // Each value is read right after a value of producer "p1", so the fast path is tried.
  std::vector<std::string> values = {
      "p1:0|xx", "p1:7", "p1:42|xxxx", "p1:999999999999999999|x",  // 18 digits
      "p1:1000000000000000000|x", "p1:9223372036854775807|x",      // 19 digits, INT64_MAX
      "p1:9223372036854775808|x", "p1:10000000000000000000|x",     // beyond int64
      "p1:007|x", "p1:|x", "p1:12a|x", "p1:12:3|x", "p1:-4|x", "p1|x", "p1", "",
      "p10:5|x", "p:5|x", "p1x:5|x", "p1:5||", ":5|x", "p1:5 |x", "|p1:5", "p1:5\n|x"};
  for (const std::string& v : values) {
    INFO("value '" << v << "'");
    REQUIRE(h.value_string(h.value_id_of_value("p1:1|")) == "p1:1");
    ValueId id = h.value_id_of_value(v);
    CHECK(h.value_string(id) == prefix_of(v));
    CHECK(id == h.value_id(prefix_of(v)));
  }
}

TEST_CASE("history: canonical sequence numbers are split from the producer name") {
  History h;
  ValueId a = h.value_id_of_value("p1:42|xxxx");
  ValueId b = h.value_id_of_value("p1:43|xxxx");
  ValueId c = h.value_id_of_value("p2:43|xxxx");
  CHECK(a.seq == 42);
  CHECK(b.seq == 43);
  CHECK(a.name == b.name);
  CHECK(c.name != b.name);
  CHECK(h.name(c.name) == "p2");
  CHECK(h.value_id_of_value("p2:9223372036854775807|x").seq == INT64_MAX);
  CHECK(h.value_id_of_value("p2:9223372036854775808|x").seq == -1);  // beyond int64
  // Not canonical: kept whole as a name, with no sequence.
  ValueId d = h.value_id_of_value("p2:043|xxxx");
  CHECK(d.seq == -1);
  CHECK(h.name(d.name) == "p2:043");
}
