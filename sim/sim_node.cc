#include "sim/sim_node.h"

#include "sim/sim_network.h"

namespace strata::sim {

SimNode::SimNode(SimWorld& world, SimNetwork& network, int host, std::string name)
    : world_(world),
      network_(network),
      host_(host),
      name_(std::move(name)),
      rng_(world.rng().fork(uint64_t(host) + 1)),
      disk_(fs_, [this](Duration d) { block_for(d); }),
      transport_(std::make_unique<SimTransport>(network, *this)) {}

SimNode::~SimNode() = default;

Transport& SimNode::transport() { return *transport_; }

int64_t SimNode::wall_clock_ms() const {
  return kSimEpochWallMs + world_.now().ns / 1'000'000 + clock_skew_ms_;
}

void SimNode::run_event(uint64_t incarnation, const std::function<void()>& fn) {
  if (incarnation != incarnation_ || !up_) return;  // the process that asked is gone
  if (paused_ || world_.now() < busy_until_) {
    deferred_.push_back(fn);  // runs when the process can run again, in arrival order
    return;
  }
  fn();
}

void SimNode::block_for(Duration d) {
  bool was_idle = busy_until_ <= world_.now();
  busy_until_ = std::max(busy_until_, world_.now()) + d;
  if (was_idle) schedule_wake(incarnation_);
}

// Wakes the process when the stall is over; a stall extended meanwhile re-arms the wake.
void SimNode::schedule_wake(uint64_t inc) {
  world_.schedule_at(busy_until_, [this, inc] {
    if (inc != incarnation_) return;
    if (world_.now() < busy_until_) {
      schedule_wake(inc);
      return;
    }
    if (!paused_) drain_deferred();
  });
}

void SimNode::drain_deferred() {
  std::deque<std::function<void()>> due;
  due.swap(deferred_);
  uint64_t inc = incarnation_;
  for (auto& fn : due) {
    world_.schedule(Duration(0), [this, inc, fn = std::move(fn)] { run_event(inc, fn); });
  }
}

TimerId SimNode::schedule(Duration after, std::function<void()> fn) {
  STRATA_ASSERT(up_, "a crashed process cannot schedule timers");
  uint64_t id = next_timer_++;
  uint64_t inc = incarnation_;
  EventKey key = world_.schedule(after, [this, id, inc, fn = std::move(fn)] {
    timers_.erase(id);
    run_event(inc, fn);
  });
  timers_.emplace(id, key);
  return TimerId(id);
}

void SimNode::cancel(TimerId id) {
  auto it = timers_.find(id.value());
  if (it == timers_.end()) return;
  world_.cancel(it->second);
  timers_.erase(it);
}

void SimNode::post(Duration after, std::function<void()> fn) {
  uint64_t inc = incarnation_;
  world_.schedule(after, [this, inc, fn = std::move(fn)] { run_event(inc, fn); });
}

void SimNode::log(LogLevel level, std::string_view component, std::string_view message) {
  if (level < log_min_ || !log_sink_) return;
  std::string line = std::to_string(world_.now().ns / 1000) + "us " + name_ + " " +
                     std::string(log_level_name(level)) + " [" + std::string(component) +
                     "] " + std::string(message);
  log_sink_(line);
}

void SimNode::crash(bool tear_last_write, bool lose_unsynced) {
  STRATA_ASSERT(up_, "crash of a node that is down");
  for (auto& [id, key] : timers_) world_.cancel(key);
  timers_.clear();
  deferred_.clear();
  ++incarnation_;
  up_ = false;
  paused_ = false;
  busy_until_ = MonoTime{0};
  transport_->on_process_crash();
  if (!lose_unsynced) {
    // Process crash: the page cache keeps every write.
  } else if (tear_last_write) {
    fs_.crash(rng_.next());
  } else {
    fs_.crash();
  }
  world_.trace("crash " + name_);
}

void SimNode::restart() {
  STRATA_ASSERT(!up_, "restart of a node that is up");
  up_ = true;
  world_.trace("restart " + name_);
}

void SimNode::pause() {
  STRATA_ASSERT(up_ && !paused_);
  paused_ = true;
  world_.trace("pause " + name_);
}

void SimNode::resume() {
  STRATA_ASSERT(up_ && paused_);
  paused_ = false;
  world_.trace("resume " + name_);
  // Everything that came due while stopped runs now, in order, as a resumed process would.
  if (world_.now() >= busy_until_) drain_deferred();
}

}  // namespace strata::sim
