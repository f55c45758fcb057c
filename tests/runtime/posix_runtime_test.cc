// The POSIX runtime's loop: timers, stopping, clocks, random and logging.
#include <signal.h>

#include <catch2/catch.hpp>
#include <set>

#include "tests/runtime/transport_harness.h"

namespace strata {
namespace {

using test::make_runtime;
using namespace std::chrono_literals;

TEST_CASE("timers fire in deadline order, ties in scheduling order") {
  auto rt = make_runtime();
  std::vector<int> fired;
  rt->schedule(3ms, [&] { fired.push_back(3); });
  rt->schedule(1ms, [&] { fired.push_back(1); });
  rt->schedule(2ms, [&] { fired.push_back(20); });
  rt->schedule(2ms, [&] { fired.push_back(21); });
  rt->schedule(0ms, [&] { fired.push_back(0); });
  REQUIRE(rt->run_until([&] { return fired.size() == 5; }, 2s));
  CHECK(fired == std::vector<int>{0, 1, 20, 21, 3});
  CHECK(rt->timers_pending() == 0);
}

TEST_CASE("a cancelled timer never fires, cancelling twice or after firing is a no-op") {
  auto rt = make_runtime();
  int a = 0, b = 0;
  TimerId ta = rt->schedule(1ms, [&] { ++a; });
  TimerId tb = rt->schedule(2ms, [&] { ++b; });
  rt->cancel(ta);
  rt->cancel(ta);
  REQUIRE(rt->run_until([&] { return b == 1; }, 2s));
  rt->run_once(5ms);
  CHECK(a == 0);
  rt->cancel(tb);
  CHECK(b == 1);
}

TEST_CASE("a timer callback may cancel another due timer and schedule a new one") {
  auto rt = make_runtime();
  std::vector<std::string> log;
  TimerId second{};
  rt->schedule(1ms, [&] {
    log.push_back("first");
    rt->cancel(second);
    rt->schedule(0ms, [&] { log.push_back("third"); });
  });
  second = rt->schedule(1ms, [&] { log.push_back("second"); });
  REQUIRE(rt->run_until([&] { return log.size() == 2; }, 2s));
  CHECK(log == std::vector<std::string>{"first", "third"});
}

TEST_CASE("a sub-millisecond timer fires on time without spinning the loop") {
  auto rt = make_runtime();
  bool fired = false;
  MonoTime start = rt->now();
  rt->schedule(300us, [&] { fired = true; });
  size_t iterations = 0;
  while (!fired && rt->now() - start < 1s) {
    rt->run_once(1s);
    ++iterations;
  }
  CHECK(fired);
  CHECK(rt->now() - start >= 300us);
  CHECK(iterations < 10);  // a busy loop would take thousands
}

TEST_CASE("many cancelled timers do not accumulate") {
  auto rt = make_runtime();
  for (int i = 0; i < 10000; ++i) rt->cancel(rt->schedule(1h, [] {}));
  CHECK(rt->timers_pending() == 0);
  rt->run_once(0ms);
}

TEST_CASE("run_until gives up at its timeout and run_once returns when idle") {
  auto rt = make_runtime();
  MonoTime start = rt->now();
  CHECK_FALSE(rt->run_until([] { return false; }, 20ms));
  CHECK(rt->now() - start >= 20ms);
  CHECK(rt->run_once(1ms) == 0);
}

TEST_CASE("stop() from a timer ends run()") {
  auto rt = make_runtime();
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks == 3) {
      rt->stop();
    } else {
      rt->schedule(1ms, tick);
    }
  };
  rt->schedule(1ms, tick);
  rt->run();
  CHECK(ticks == 3);
  CHECK_FALSE(rt->stop_requested());
}

PosixRuntime* g_signal_runtime = nullptr;
extern "C" void on_test_signal(int) {
  g_signal_runtime->request_stop_from_signal();
}

TEST_CASE("request_stop_from_signal wakes a blocked run()") {
  auto rt = make_runtime();
  g_signal_runtime = rt.get();
  struct sigaction sa {};
  sa.sa_handler = on_test_signal;
  struct sigaction old {};
  REQUIRE(::sigaction(SIGUSR1, &sa, &old) == 0);
  // The timer raises the signal; run() then blocks in epoll for up to an hour unless the
  // signal's eventfd write wakes it.
  rt->schedule(1ms, [] { ::raise(SIGUSR1); });
  MonoTime start = rt->now();
  rt->run();
  CHECK(rt->now() - start < 2s);
  ::sigaction(SIGUSR1, &old, nullptr);
  g_signal_runtime = nullptr;
}

TEST_CASE("clocks: monotonic advances, wall clock is Unix milliseconds") {
  auto rt = make_runtime();
  MonoTime a = rt->now();
  MonoTime b = rt->now();
  CHECK(b >= a);
  CHECK(rt->wall_clock_ms() > 1'600'000'000'000);  // after September 2020
}

TEST_CASE("random_u64 differs between runtimes and between calls") {
  auto r1 = make_runtime();
  auto r2 = make_runtime();
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(r1->random_u64());
  CHECK(seen.size() == 1000);
  CHECK_FALSE(seen.contains(r2->random_u64()));
  for (int i = 0; i < 1000; ++i) CHECK(r1->random_below(7) < 7);
}

TEST_CASE("log lines carry an ISO-8601 time, the level and the component, levels filter") {
  auto rt = make_runtime();
  std::vector<std::string> lines;
  rt->set_log_sink([&](std::string_view l) { lines.emplace_back(l); });
  rt->set_log_level(LogLevel::kInfo);
  rt->debug("fs", "hidden");
  rt->info("broker", "started\nnode 1");
  rt->set_log_level(LogLevel::kError);
  rt->warn("broker", "hidden too");
  rt->error("broker", "boom");
  REQUIRE(lines.size() == 2);
  const std::string& l = lines[0];
  // 2024-05-01T12:34:56.789Z INFO [broker] started node 1
  REQUIRE(l.size() > 25);
  CHECK(l[4] == '-');
  CHECK(l[10] == 'T');
  CHECK(l[19] == '.');
  CHECK(l[23] == 'Z');
  CHECK(l.substr(24) == " INFO [broker] started node 1\n");
  CHECK(lines[1].substr(24) == " ERROR [broker] boom\n");
  CHECK(rt->log_level() == LogLevel::kError);
}

}  // namespace
}  // namespace strata
