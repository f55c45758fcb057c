// run_in_processes: tasks run in forked workers, every result comes back once, and a worker
// that dies reports its unfinished tasks as errors instead of hanging the parent.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <string>

#include "engine/runtime/posix_process.h"

using namespace strata;

TEST_CASE("processes: 3 workers run 10 tasks, each result comes back once") {
  std::map<size_t, std::string> results;
  ProcessTasks tasks;
  tasks.count = 10;
  tasks.jobs = 3;
  tasks.work = [](size_t t) { return std::string(t * 1000, 'x') + std::to_string(t); };
  tasks.done = [&](size_t t, Result<std::string> r) {
    REQUIRE(r.is_ok());
    CHECK(results.emplace(t, *r).second);
  };
  REQUIRE(run_in_processes(tasks).is_ok());
  REQUIRE(results.size() == 10);
  for (size_t t = 0; t < 10; ++t) {
    CHECK(results[t] == std::string(t * 1000, 'x') + std::to_string(t));
  }
}

TEST_CASE("processes: a worker that dies fails its remaining tasks") {
  std::map<size_t, bool> ok;
  ProcessTasks tasks;
  tasks.count = 4;
  tasks.jobs = 2;
  tasks.work = [](size_t t) {
    if (t == 1) std::_Exit(7);  // worker 1 dies on its first task
    return std::string("fine");
  };
  tasks.done = [&](size_t t, Result<std::string> r) { ok[t] = r.is_ok(); };
  REQUIRE(run_in_processes(tasks).is_ok());
  CHECK(ok == std::map<size_t, bool>{{0, true}, {1, false}, {2, true}, {3, false}});
}
