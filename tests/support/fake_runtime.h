// FakeRuntime: a header-only Runtime for unit tests.
//
//  * clocks: a manual monotonic clock and a wall clock that move only through advance();
//  * timers: kept in an ordered map and fired by advance(), in (due time, schedule order);
//  * random: splitmix64 from a fixed seed;
//  * files: a MemFileSystem owned by the runtime (or one supplied by the test);
//  * log: every line recorded (and echoed to stderr if `echo_log` is set) so tests can assert
//    on warnings;
//  * transport: none — any use aborts the test with a message.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/assert.h"
#include "engine/runtime/mem_fs.h"
#include "engine/runtime/runtime.h"

namespace strata::testing {

class FakeTransport : public Transport {
 public:
  Result<Endpoint> listen(const Endpoint&, ListenHandler*) override { die("listen"); }
  void stop_listening(const Endpoint&) override { die("stop_listening"); }
  Result<ConnId> connect(const Endpoint&, ConnectionHandler*) override { die("connect"); }
  Status send(ConnId, Bytes) override { die("send"); }
  size_t queued_bytes(ConnId) const override { die("queued_bytes"); }
  void set_reading(ConnId, bool) override { die("set_reading"); }
  void close(ConnId) override { die("close"); }
  void release(ConnId) override { die("release"); }

 private:
  [[noreturn]] static void die(const char* what) {
    ::strata::detail::assert_fail(what, __FILE__, __LINE__,
                                  "FakeRuntime has no transport; use the simulator");
  }
};

struct LogLine {
  LogLevel level;
  std::string component;
  std::string message;
};

class FakeRuntime : public Runtime {
 public:
  static constexpr int64_t kStartWallClockMs = 1'700'000'000'000;

  // Uses `fs` if given (not owned), else a MemFileSystem of its own.
  explicit FakeRuntime(FileSystem* fs = nullptr, uint64_t seed = 1)
      : fs_(fs != nullptr ? fs : &own_fs_), random_state_(seed) {}

  MonoTime now() const override { return now_; }
  int64_t wall_clock_ms() const override { return wall_clock_ms_; }

  TimerId schedule(Duration after, std::function<void()> fn) override {
    STRATA_ASSERT(after.count() >= 0);
    TimerId id{++last_timer_id_};
    timers_.emplace(std::make_pair(now_ + after, id.value()), Timer{id, std::move(fn)});
    return id;
  }
  void cancel(TimerId id) override {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->second.id == id) {
        timers_.erase(it);
        return;
      }
    }
  }

  uint64_t random_u64() override {  // splitmix64
    uint64_t z = (random_state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  FileSystem& fs() override { return *fs_; }
  Transport& transport() override { return transport_; }

  void log(LogLevel level, std::string_view component, std::string_view message) override {
    lines_.push_back({level, std::string(component), std::string(message)});
    if (echo_log) {
      std::fprintf(stderr, "%s %.*s: %.*s\n", std::string(log_level_name(level)).c_str(),
                   int(component.size()), component.data(), int(message.size()), message.data());
    }
  }

  // Moves both clocks forward by `d`, firing due timers in order (a timer may schedule more).
  void advance(Duration d) {
    STRATA_ASSERT(d.count() >= 0);
    MonoTime end = now_ + d;
    while (!timers_.empty() && timers_.begin()->first.first <= end) {
      auto it = timers_.begin();
      set_now(it->first.first);
      std::function<void()> fn = std::move(it->second.fn);
      timers_.erase(it);
      fn();
    }
    set_now(end);
  }
  void advance_ms(int64_t ms) { advance(std::chrono::milliseconds(ms)); }
  size_t pending_timers() const { return timers_.size(); }

  // The owned MemFileSystem (only valid if no file system was supplied).
  MemFileSystem& mem_fs() {
    STRATA_ASSERT(fs_ == &own_fs_, "FakeRuntime was given another file system");
    return own_fs_;
  }

  const std::vector<LogLine>& log_lines() const { return lines_; }
  void clear_log() { lines_.clear(); }
  // Lines at `level` whose message contains `needle`.
  size_t count_log(LogLevel level, std::string_view needle = {}) const {
    size_t n = 0;
    for (const LogLine& l : lines_) {
      if (l.level == level && l.message.find(needle) != std::string::npos) ++n;
    }
    return n;
  }

  bool echo_log = false;

 private:
  struct Timer {
    TimerId id;
    std::function<void()> fn;
  };
  void set_now(MonoTime t) {
    wall_clock_ms_ += t.ms() - now_.ms();
    now_ = t;
  }

  MemFileSystem own_fs_;
  FileSystem* fs_;
  FakeTransport transport_;
  MonoTime now_{};
  int64_t wall_clock_ms_ = kStartWallClockMs;
  uint64_t random_state_;
  uint64_t last_timer_id_ = 0;
  std::map<std::pair<MonoTime, uint64_t>, Timer> timers_;
  std::vector<LogLine> lines_;
};

}  // namespace strata::testing
