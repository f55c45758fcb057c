// PosixRuntime: the real Runtime — one thread, one epoll loop, the monotonic clock, POSIX files
// and TCP sockets. The deterministic simulator (sim/) implements the same interface.
//
// Ownership: the runtime owns its file system and transport; both live exactly as long as the
// runtime. Every callback (timer, deferred task, transport event) runs from run(), run_once()
// or run_until() on the calling thread, one at a time. Destroying the runtime closes every
// socket without calling any handler and drops pending timers.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/runtime/posix_fs.h"
#include "engine/runtime/posix_transport.h"
#include "engine/runtime/runtime.h"

namespace strata {

struct PosixRuntimeOptions {
  LogLevel log_level_min = LogLevel::kInfo;
  // At most limits::kConnectionsMax; tests lower it to exercise the refusal path.
  size_t connections_max = limits::kConnectionsMax;
};

class PosixRuntime final : public Runtime {
 public:
  // Fails only if the kernel refuses an epoll instance or an eventfd.
  static Result<std::unique_ptr<PosixRuntime>> create(PosixRuntimeOptions options = {});
  ~PosixRuntime() override;
  PosixRuntime(const PosixRuntime&) = delete;
  PosixRuntime& operator=(const PosixRuntime&) = delete;

  // --- Runtime -------------------------------------------------------------------------------
  MonoTime now() const override;
  int64_t wall_clock_ms() const override;
  TimerId schedule(Duration after, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  uint64_t random_u64() override;
  FileSystem& fs() override { return fs_; }
  Transport& transport() override { return *transport_; }
  void log(LogLevel level, std::string_view component, std::string_view message) override;

  // --- Loop ----------------------------------------------------------------------------------
  // Runs until stop() or request_stop_from_signal(); clears the stop request on return.
  void run();
  // One iteration: waits at most `timeout` for I/O (less if a timer is due sooner, not at all
  // if deferred work is pending), then dispatches I/O, due timers and deferred work. Returns
  // the number of callbacks dispatched.
  size_t run_once(Duration timeout);
  // Iterates until done() is true (checked before each iteration), `timeout` has passed, or a
  // stop was requested. Returns done().
  bool run_until(const std::function<bool()>& done, Duration timeout);
  // Makes run() return after the current iteration. Loop thread only.
  void stop() { stop_requested_.store(true, std::memory_order_relaxed); }
  // Async-signal-safe stop: sets a lock-free flag and wakes the loop through an eventfd.
  void request_stop_from_signal();
  // Makes SIGINT and SIGTERM stop run() (one runtime per process may do this); ignores SIGPIPE.
  Status stop_on_signals();
  bool stop_requested() const { return stop_requested_.load(std::memory_order_relaxed); }

  // --- Logging -------------------------------------------------------------------------------
  void set_log_level(LogLevel level_min) { log_level_min_ = level_min; }
  LogLevel log_level() const { return log_level_min_; }
  // Receives each formatted line (with its trailing newline) instead of stderr; tests use it.
  // An empty function restores stderr.
  void set_log_sink(std::function<void(std::string_view line)> sink) { sink_ = std::move(sink); }

  PosixFileSystem& posix_fs() { return fs_; }
  PosixTransport& posix_transport() { return *transport_; }
  size_t timers_pending() const { return timers_.size(); }

  // --- For PosixTransport --------------------------------------------------------------------
  // Registers `fd` with epoll; `token` comes back to PosixTransport::on_io. Token 0 is the
  // runtime's own wake eventfd.
  Status watch_fd(int fd, uint32_t events, uint64_t token);
  Status rewatch_fd(int fd, uint32_t events, uint64_t token);
  void unwatch_fd(int fd);
  // Runs `fn` from the loop after the current dispatch phase: how the transport reports events
  // without re-entering a handler that is calling into it.
  void defer(std::function<void()> fn);

 private:
  struct TimerEntry {
    int64_t deadline_ns;
    uint64_t id;  // also the tie-break: equal deadlines fire in scheduling order
    bool operator>(const TimerEntry& o) const {
      return deadline_ns != o.deadline_ns ? deadline_ns > o.deadline_ns : id > o.id;
    }
  };

  PosixRuntime(PosixRuntimeOptions options, int epoll_fd, int wake_fd, uint64_t seed[4]);
  int64_t wait_timeout_ns(Duration timeout);
  int wait_for_events(int64_t timeout_ns);
  size_t dispatch_events(int count);
  size_t run_due_timers();
  size_t run_deferred();
  void compact_timer_heap();
  void drain_wake_fd();

  int epoll_fd_;
  int wake_fd_;
  LogLevel log_level_min_;
  std::function<void(std::string_view)> sink_;
  std::atomic<bool> stop_requested_{false};
  bool in_run_once_ = false;
  bool have_epoll_pwait2_ = true;  // cleared on ENOSYS (older kernels, some sandboxes)
  uint64_t rng_[4];                // xoshiro256**, seeded from getrandom

  std::vector<TimerEntry> timer_heap_;  // min-heap; may hold cancelled entries (lazy delete)
  std::unordered_map<uint64_t, std::function<void()>> timers_;  // the live timers
  uint64_t next_timer_id_ = 1;

  std::vector<std::function<void()>> deferred_;
  std::vector<epoll_event> events_;

  PosixFileSystem fs_;
  std::unique_ptr<PosixTransport> transport_;  // declared last: destroyed first
};

}  // namespace strata
