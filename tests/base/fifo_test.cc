// Fifo: order, indexing, erase_if and compaction against std::deque as the model.
#include <catch2/catch.hpp>
#include <deque>
#include <memory>
#include <random>
#include <string>

#include "engine/base/fifo.h"

using strata::Fifo;

TEST_CASE("fifo: first in first out with indexing and erase_if") {
  Fifo<std::string> q;
  CHECK(q.empty());
  q.push_back("a");
  q.emplace_back("b");
  q.emplace_back("c");
  CHECK(q.size() == 3);
  CHECK(q.front() == "a");
  CHECK(q[2] == "c");
  q.pop_front();
  CHECK(q.front() == "b");
  CHECK(q.erase_if([](const std::string& s) { return s == "c"; }) == 1);
  CHECK(q.size() == 1);
  q.pop_front();
  CHECK(q.empty());
  q.emplace_back("d");
  CHECK(q.front() == "d");
}

TEST_CASE("fifo: long random runs agree with std::deque") {
  std::mt19937_64 rng(7);
  Fifo<std::unique_ptr<int>> q;  // move-only elements survive compaction
  std::deque<int> model;
  int next = 0;
  for (int step = 0; step < 200000; ++step) {
    auto op = rng() % 100;
    if (op < 55) {
      q.emplace_back(std::make_unique<int>(next));
      model.push_back(next++);
    } else if (op < 97) {
      if (!model.empty()) {
        REQUIRE(*q.front() == model.front());
        q.pop_front();
        model.pop_front();
      }
    } else if (op < 99) {
      int mod = int(rng() % 5) + 2;
      auto removed = q.erase_if([&](const std::unique_ptr<int>& p) { return *p % mod == 0; });
      auto before = model.size();
      std::erase_if(model, [&](int v) { return v % mod == 0; });
      REQUIRE(removed == before - model.size());
    } else if (!model.empty()) {
      size_t i = rng() % model.size();
      REQUIRE(*q[i] == model[i]);
    }
    REQUIRE(q.size() == model.size());
  }
  size_t i = 0;
  for (const auto& p : q) REQUIRE(*p == model[i++]);
}
