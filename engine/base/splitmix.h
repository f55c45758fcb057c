// SplitMix64: turns one 64-bit seed into a stream of well-mixed values. Used to seed
// generators (the runtimes' xoshiro256**) and to derive ids from a seeded random value, so
// that a simulated run makes the same ids from the same seed on every platform.
#pragma once

#include <cstdint>

namespace strata {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace strata
