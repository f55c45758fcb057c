// SimWorld: virtual time and the one event queue of a deterministic simulation.
//
// Time advances only by running the next event. Events are ordered by (time, sequence
// number), the sequence being the order in which they were scheduled, so two runs with the
// same seed and inputs execute the same events in the same order. All randomness of a run
// derives from the world seed (see Rng). Nothing here reads a real clock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "engine/runtime/runtime.h"

namespace strata::sim {

// xoshiro256** seeded through splitmix64: fast, and identical on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  uint64_t below(uint64_t n);  // uniform in [0, n)
  double unit();               // uniform in [0, 1)
  bool chance(double p) { return unit() < p; }
  // A new independent stream (for a node, a link, a workload) derived from this one.
  Rng fork(uint64_t salt);

 private:
  uint64_t s_[4];
};

struct EventKey {
  int64_t at_ns;
  uint64_t seq;
  auto operator<=>(const EventKey&) const = default;
};

class SimWorld {
 public:
  explicit SimWorld(uint64_t seed);
  SimWorld(const SimWorld&) = delete;
  SimWorld& operator=(const SimWorld&) = delete;

  uint64_t seed() const { return seed_; }
  MonoTime now() const { return now_; }
  Rng& rng() { return rng_; }

  EventKey schedule(Duration after, std::function<void()> fn);
  EventKey schedule_at(MonoTime at, std::function<void()> fn);
  void cancel(const EventKey& key) { queue_.erase(key); }

  // Runs the next event; false when the queue is empty.
  bool step();
  // Runs after every event (the runner's cluster-invariant checks). Must not schedule.
  void set_after_event(std::function<void()> fn) { after_event_ = std::move(fn); }
  // Runs events up to and including time `until` and leaves the clock there.
  void run_until(MonoTime until);
  bool empty() const { return queue_.empty(); }
  size_t pending() const { return queue_.size(); }
  uint64_t events_run() const { return events_run_; }

  // The trace: every notable happening is folded into a running hash (FNV-1a 64), so two
  // runs can be compared cheaply; a sink may also record the lines.
  void trace(std::string_view line);
  uint64_t trace_hash() const { return trace_hash_; }
  void set_trace_sink(std::function<void(MonoTime, std::string_view)> sink) {
    trace_sink_ = std::move(sink);
  }

 private:
  uint64_t seed_;
  Rng rng_;
  MonoTime now_{0};
  uint64_t next_seq_ = 0;
  uint64_t events_run_ = 0;
  uint64_t trace_hash_ = 0xcbf29ce484222325ull;
  std::map<EventKey, std::function<void()>> queue_;
  std::function<void(MonoTime, std::string_view)> trace_sink_;
  std::function<void()> after_event_;
};

}  // namespace strata::sim
