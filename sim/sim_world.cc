#include "sim/sim_world.h"

#include "engine/base/splitmix.h"

namespace strata::sim {
namespace {

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next() {
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Rng::below(uint64_t n) {
  STRATA_ASSERT(n > 0);
  // Rejection sampling keeps the distribution exactly uniform.
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t v;
  do {
    v = next();
  } while (v >= limit);
  return v % n;
}

double Rng::unit() { return double(next() >> 11) * 0x1.0p-53; }

Rng Rng::fork(uint64_t salt) { return Rng(next() ^ (salt * 0x9e3779b97f4a7c15ull)); }

SimWorld::SimWorld(uint64_t seed) : seed_(seed), rng_(seed) {}

EventKey SimWorld::schedule(Duration after, std::function<void()> fn) {
  STRATA_ASSERT(after.count() >= 0, "events cannot be scheduled in the past");
  return schedule_at(now_ + after, std::move(fn));
}

EventKey SimWorld::schedule_at(MonoTime at, std::function<void()> fn) {
  STRATA_ASSERT(at >= now_, "events cannot be scheduled in the past");
  EventKey key{at.ns, next_seq_++};
  queue_.emplace(key, std::move(fn));
  return key;
}

bool SimWorld::step() {
  if (queue_.empty()) return false;
  auto it = queue_.begin();
  STRATA_ASSERT(it->first.at_ns >= now_.ns, "time went backwards");
  now_ = MonoTime{it->first.at_ns};
  std::function<void()> fn = std::move(it->second);
  queue_.erase(it);
  ++events_run_;
  fn();
  if (after_event_) after_event_();
  return true;
}

void SimWorld::run_until(MonoTime until) {
  while (!queue_.empty() && queue_.begin()->first.at_ns <= until.ns) step();
  if (now_ < until) now_ = until;
}

void SimWorld::trace(std::string_view line) {
  // FNV-1a over the time and the line: the hash captures what happened and when.
  auto mix = [&](uint8_t b) {
    trace_hash_ ^= b;
    trace_hash_ *= 0x100000001b3ull;
  };
  for (int i = 0; i < 8; ++i) mix(uint8_t(now_.ns >> (8 * i)));
  for (char c : line) mix(uint8_t(c));
  mix('\n');
  if (trace_sink_) trace_sink_(now_, line);
}

}  // namespace strata::sim
