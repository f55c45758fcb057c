// SimNode: one simulated machine and the process on it. Its Runtime is what the broker or
// client code running on the node sees: virtual clocks (with optional wall-clock skew),
// timers on the world's queue, a random stream of its own, a MemFileSystem that outlives
// process crashes, and the node's view of the simulated network.
//
// Faults:
//  - crash(): the process dies. Every pending timer and delivery of this incarnation becomes
//    a no-op, connections reset, and the disk keeps only synced bytes (optionally tearing the
//    last write). The owner destroys the engine objects and may restart() later, which runs
//    the real recovery code on the surviving files.
//  - pause()/resume(): the process stops running (a GC pause, SIGSTOP). Events due while
//    paused run at resume, in their original order; the network still carries bytes to it.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "engine/runtime/mem_fs.h"
#include "sim/sim_disk.h"
#include "sim/sim_world.h"

namespace strata::sim {

class SimNetwork;
class SimTransport;

class SimNode final : public Runtime {
 public:
  SimNode(SimWorld& world, SimNetwork& network, int host, std::string name);
  ~SimNode() override;

  // Runtime.
  MonoTime now() const override { return world_.now(); }
  int64_t wall_clock_ms() const override;
  TimerId schedule(Duration after, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  uint64_t random_u64() override { return rng_.next(); }
  FileSystem& fs() override { return disk_; }
  Transport& transport() override;
  void log(LogLevel level, std::string_view component, std::string_view message) override;

  // Runs `fn` on this node after `after`, unless the process crashes first; deferred while
  // paused. The network uses it to deliver events to the node.
  void post(Duration after, std::function<void()> fn);

  void crash(bool tear_last_write) { crash(tear_last_write, true); }
  // lose_unsynced=false is a process crash (kill -9): the OS page cache survives, so every
  // written byte stays; only the process state goes.
  void crash(bool tear_last_write, bool lose_unsynced);
  void restart();
  void pause();
  void resume();
  bool up() const { return up_; }
  bool paused() const { return paused_; }
  uint64_t incarnation() const { return incarnation_; }
  int host() const { return host_; }
  const std::string& name() const { return name_; }
  MemFileSystem& disk() { return fs_; }
  // Slow disk: I/O latency blocks the process (see sim_disk.h).
  void set_disk_latency(const DiskLatency& l) { disk_.set_latency(l); }
  // The process is blocked (a slow synchronous I/O) until this time.
  MonoTime busy_until() const { return busy_until_; }
  void set_clock_skew_ms(int64_t skew) { clock_skew_ms_ = skew; }
  void set_log_sink(std::function<void(std::string_view)> sink) { log_sink_ = std::move(sink); }
  void set_log_level(LogLevel min) { log_min_ = min; }

 private:
  void run_event(uint64_t incarnation, const std::function<void()>& fn);
  void block_for(Duration d);
  void schedule_wake(uint64_t incarnation);
  void drain_deferred();

  SimWorld& world_;
  SimNetwork& network_;
  int host_;
  std::string name_;
  Rng rng_;
  MemFileSystem fs_;
  SimDisk disk_;
  MonoTime busy_until_{0};
  std::unique_ptr<SimTransport> transport_;
  bool up_ = true;
  bool paused_ = false;
  uint64_t incarnation_ = 1;
  int64_t clock_skew_ms_ = 0;
  uint64_t next_timer_ = 1;
  std::map<uint64_t, EventKey> timers_;
  std::deque<std::function<void()>> deferred_;  // events that came due while paused
  std::function<void(std::string_view)> log_sink_;
  LogLevel log_min_ = LogLevel::kInfo;
};

// Wall clock of the simulated world at virtual time zero (2023-11-14T22:13:20Z): record
// timestamps look real, and every run starts at the same instant.
inline constexpr int64_t kSimEpochWallMs = 1'700'000'000'000;

}  // namespace strata::sim
