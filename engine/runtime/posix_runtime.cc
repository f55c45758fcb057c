#include "engine/runtime/posix_runtime.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/base/splitmix.h"

namespace strata {

namespace {

// Events taken from one epoll wait; more stay pending (level-triggered) for the next.
constexpr size_t kEventsPerWaitMax = 256;
// Deferred tasks may defer more (on_closed handlers that close other connections); this many
// rounds run per iteration, and anything left makes the next wait non-blocking.
constexpr int kDeferredRoundsMax = 8;
// Lazily cancelled heap entries are purged once they outnumber live timers by this much.
constexpr size_t kTimerHeapSlack = 1024;
constexpr uint64_t kWakeToken = 0;

int64_t clock_ns(clockid_t clock) {
  timespec ts;
  ::clock_gettime(clock, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

// Formats `<ISO-8601 UTC time with ms> <LEVEL> [<component>] <message>\n` with newlines in the
// message flattened, so that one call is one line.
std::string format_line(int64_t wall_ms, LogLevel level, std::string_view component,
                        std::string_view message) {
  time_t secs = time_t(wall_ms / 1000);
  tm utc;
  ::gmtime_r(&secs, &utc);
  char stamp[64];  // roomy enough that no tm value can truncate it
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                int(wall_ms % 1000));
  std::string line;
  line.reserve(64 + component.size() + message.size());
  line.append(stamp).append(" ").append(log_level_name(level)).append(" [");
  line.append(component).append("] ");
  for (char ch : message) line.push_back(ch == '\n' || ch == '\r' ? ' ' : ch);
  line.push_back('\n');
  return line;
}

}  // namespace

Result<std::unique_ptr<PosixRuntime>> PosixRuntime::create(PosixRuntimeOptions options) {
  STRATA_ASSERT(options.connections_max > 0 && options.connections_max <= limits::kConnectionsMax);
  uint64_t seed[4] = {};
  size_t got = 0;
  while (got < sizeof seed) {
    ssize_t n = ::getrandom(reinterpret_cast<uint8_t*>(seed) + got, sizeof seed - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::io_error(std::string("getrandom: ") + std::strerror(errno));
    got += size_t(n);
  }
  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Status::io_error(std::string("epoll_create1: ") + std::strerror(errno));
  int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    Status s = Status::io_error(std::string("eventfd: ") + std::strerror(errno));
    ::close(epoll_fd);
    return s;
  }
  std::unique_ptr<PosixRuntime> rt(new PosixRuntime(options, epoll_fd, wake_fd, seed));
  STRATA_RETURN_IF_ERROR(rt->watch_fd(wake_fd, EPOLLIN, kWakeToken));
  return rt;
}

PosixRuntime::PosixRuntime(PosixRuntimeOptions options, int epoll_fd, int wake_fd, uint64_t seed[4])
    : epoll_fd_(epoll_fd),
      wake_fd_(wake_fd),
      log_level_min_(options.log_level_min),
      events_(kEventsPerWaitMax),
      transport_(std::make_unique<PosixTransport>(*this, options.connections_max)) {
  for (int i = 0; i < 4; ++i) rng_[i] = splitmix64(seed[i]);
}

namespace {
// The runtime that SIGINT/SIGTERM stop (see stop_on_signals).
std::atomic<PosixRuntime*> g_signal_target{nullptr};
extern "C" void on_stop_signal(int) {
  if (PosixRuntime* rt = g_signal_target.load()) rt->request_stop_from_signal();
}
}  // namespace

PosixRuntime::~PosixRuntime() {
  PosixRuntime* self = this;
  g_signal_target.compare_exchange_strong(self, nullptr);
  transport_.reset();  // closes sockets while the epoll instance still exists
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

// ---------------------------------------------------------------------------------------------
// Clocks, random, logging

MonoTime PosixRuntime::now() const {
  return MonoTime{clock_ns(CLOCK_MONOTONIC)};
}

int64_t PosixRuntime::wall_clock_ms() const {
  return clock_ns(CLOCK_REALTIME) / 1'000'000;
}

uint64_t PosixRuntime::random_u64() {
  // xoshiro256** (Blackman & Vigna): fast, and good enough for jitter, ids and sampling.
  uint64_t result = rotl(rng_[1] * 5, 7) * 9;
  uint64_t t = rng_[1] << 17;
  rng_[2] ^= rng_[0];
  rng_[3] ^= rng_[1];
  rng_[1] ^= rng_[2];
  rng_[0] ^= rng_[3];
  rng_[2] ^= t;
  rng_[3] = rotl(rng_[3], 45);
  return result;
}

void PosixRuntime::log(LogLevel level, std::string_view component, std::string_view message) {
  if (level < log_level_min_) return;
  std::string line = format_line(wall_clock_ms(), level, component, message);
  if (sink_) {
    sink_(line);
    return;
  }
  // One write per line, so that lines from several processes sharing stderr do not interleave.
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report a failing stderr
    done += size_t(n);
  }
}

// ---------------------------------------------------------------------------------------------
// Timers

TimerId PosixRuntime::schedule(Duration after, std::function<void()> fn) {
  STRATA_ASSERT(fn != nullptr);
  STRATA_ASSERT(timers_.size() < limits::kTimersMax, "timer limit reached: a timer leak?");
  uint64_t id = next_timer_id_++;
  int64_t deadline = (now() + std::max(after, Duration::zero())).ns;
  timers_.emplace(id, std::move(fn));
  timer_heap_.push_back({deadline, id});
  std::push_heap(timer_heap_.begin(), timer_heap_.end(), std::greater<>());
  if (timer_heap_.size() > 2 * timers_.size() + kTimerHeapSlack) compact_timer_heap();
  return TimerId(id);
}

void PosixRuntime::cancel(TimerId id) {
  timers_.erase(id.value());
}

void PosixRuntime::compact_timer_heap() {
  std::erase_if(timer_heap_, [this](const TimerEntry& e) { return !timers_.contains(e.id); });
  std::make_heap(timer_heap_.begin(), timer_heap_.end(), std::greater<>());
  STRATA_ASSERT(timer_heap_.size() == timers_.size());
}

size_t PosixRuntime::run_due_timers() {
  int64_t now_ns = now().ns;
  // Timers scheduled by a callback wait for the next iteration even if already due, so a
  // timer that re-arms itself with zero delay cannot starve I/O.
  uint64_t id_limit = next_timer_id_;
  size_t fired = 0;
  while (!timer_heap_.empty()) {
    TimerEntry top = timer_heap_.front();
    if (top.deadline_ns > now_ns || top.id >= id_limit) break;
    std::pop_heap(timer_heap_.begin(), timer_heap_.end(), std::greater<>());
    timer_heap_.pop_back();
    auto it = timers_.find(top.id);
    if (it == timers_.end()) continue;  // cancelled
    std::function<void()> fn = std::move(it->second);
    timers_.erase(it);
    fn();
    ++fired;
  }
  return fired;
}

// ---------------------------------------------------------------------------------------------
// The loop

void PosixRuntime::defer(std::function<void()> fn) {
  STRATA_ASSERT(fn != nullptr);
  deferred_.push_back(std::move(fn));
}

size_t PosixRuntime::run_deferred() {
  size_t ran = 0;
  for (int round = 0; round < kDeferredRoundsMax && !deferred_.empty(); ++round) {
    std::vector<std::function<void()>> batch;
    batch.swap(deferred_);
    for (auto& fn : batch) fn();
    ran += batch.size();
  }
  return ran;
}

// How long the next wait may block: never past the next live timer, not at all when work is
// already pending.
int64_t PosixRuntime::wait_timeout_ns(Duration timeout) {
  if (!deferred_.empty() || stop_requested()) return 0;
  int64_t wait = std::max<int64_t>(timeout.count(), 0);
  while (!timer_heap_.empty() && !timers_.contains(timer_heap_.front().id)) {
    std::pop_heap(timer_heap_.begin(), timer_heap_.end(), std::greater<>());
    timer_heap_.pop_back();  // cancelled: drop it now that it is on top
  }
  if (!timer_heap_.empty()) {
    wait = std::min(wait, std::max<int64_t>(timer_heap_.front().deadline_ns - now().ns, 0));
  }
  return wait;
}

int PosixRuntime::wait_for_events(int64_t timeout_ns) {
  int max_events = int(events_.size());
  for (;;) {
    int n;
    if (have_epoll_pwait2_) {
      // Nanosecond timeout: a 200 µs timer neither spins nor sleeps a whole millisecond.
      timespec ts{time_t(timeout_ns / 1'000'000'000), long(timeout_ns % 1'000'000'000)};
      n = ::epoll_pwait2(epoll_fd_, events_.data(), max_events, &ts, nullptr);
      if (n < 0 && errno == ENOSYS) {
        have_epoll_pwait2_ = false;
        continue;
      }
    } else {
      // Millisecond fallback rounds up, so an early wake-up cannot turn into a busy loop.
      int64_t ms = (timeout_ns + 999'999) / 1'000'000;
      n = ::epoll_wait(epoll_fd_, events_.data(), max_events, int(std::min<int64_t>(ms, 1 << 30)));
    }
    if (n >= 0) return n;
    if (errno == EINTR) return 0;  // a signal: let the caller look at the stop flag
    STRATA_ASSERT(false, "epoll wait failed on a valid epoll descriptor");
  }
}

size_t PosixRuntime::dispatch_events(int count) {
  for (int i = 0; i < count; ++i) {
    const epoll_event& ev = events_[size_t(i)];
    if (ev.data.u64 == kWakeToken) {
      drain_wake_fd();
    } else {
      transport_->on_io(ev.data.u64, ev.events);
    }
  }
  return size_t(count);
}

void PosixRuntime::drain_wake_fd() {
  uint64_t value;
  while (::read(wake_fd_, &value, sizeof value) > 0) {
  }
}

size_t PosixRuntime::run_once(Duration timeout) {
  STRATA_ASSERT(!in_run_once_, "run_once called from inside a callback");
  in_run_once_ = true;
  int n = wait_for_events(wait_timeout_ns(timeout));
  size_t handled = dispatch_events(n);
  handled += run_due_timers();
  handled += run_deferred();
  in_run_once_ = false;
  return handled;
}

void PosixRuntime::run() {
  while (!stop_requested()) run_once(std::chrono::hours(1));
  stop_requested_.store(false, std::memory_order_relaxed);
}

bool PosixRuntime::run_until(const std::function<bool()>& done, Duration timeout) {
  MonoTime deadline = now() + timeout;
  for (;;) {
    if (done()) return true;
    MonoTime t = now();
    if (t >= deadline || stop_requested()) return false;
    run_once(deadline - t);
  }
}

void PosixRuntime::request_stop_from_signal() {
  static_assert(std::atomic<bool>::is_always_lock_free);
  stop_requested_.store(true, std::memory_order_relaxed);
  uint64_t one = 1;
  int saved = errno;  // a signal handler must leave errno as it found it
  (void)!::write(wake_fd_, &one, sizeof one);
  errno = saved;
}

Status PosixRuntime::stop_on_signals() {
  g_signal_target.store(this);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGINT, &sa, nullptr) != 0 || ::sigaction(SIGTERM, &sa, nullptr) != 0) {
    return Status::io_error(std::string("sigaction: ") + std::strerror(errno));
  }
  ::signal(SIGPIPE, SIG_IGN);
  return ok_status();
}

// ---------------------------------------------------------------------------------------------
// Descriptor registration for the transport

Status PosixRuntime::watch_fd(int fd, uint32_t events, uint64_t token) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return Status::io_error(std::string("epoll_ctl add: ") + std::strerror(errno));
  }
  return ok_status();
}

Status PosixRuntime::rewatch_fd(int fd, uint32_t events, uint64_t token) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    return Status::io_error(std::string("epoll_ctl mod: ") + std::strerror(errno));
  }
  return ok_status();
}

void PosixRuntime::unwatch_fd(int fd) {
  // Failure means the descriptor was never registered; closing it removes it anyway.
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

}  // namespace strata
