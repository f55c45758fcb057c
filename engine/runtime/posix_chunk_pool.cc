#include "engine/runtime/posix_chunk_pool.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace strata {

namespace {

constexpr size_t kHugePage = 2 * 1024 * 1024;
constexpr size_t kMappingBytes = 32 * 1024 * 1024;

// A fresh mapping aligned to a huge page, so that every 2 MiB of it can be one huge page.
uint8_t* map_region() {
  void* p = ::mmap(nullptr, kMappingBytes + kHugePage, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  auto raw = reinterpret_cast<uintptr_t>(p);
  uintptr_t aligned = (raw + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1);
  // Give back the unaligned head and the tail beyond the region.
  if (aligned > raw) ::munmap(p, aligned - raw);
  size_t tail = (raw + kMappingBytes + kHugePage) - (aligned + kMappingBytes);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + kMappingBytes), tail);
#ifdef MADV_HUGEPAGE
  ::madvise(reinterpret_cast<void*>(aligned), kMappingBytes, MADV_HUGEPAGE);  // advice only
#endif
  return reinterpret_cast<uint8_t*>(aligned);
}

}  // namespace

ChunkPool& ChunkPool::instance() {
  static ChunkPool* pool = new ChunkPool();  // never destroyed: files may outlive statics
  return *pool;
}

uint8_t* ChunkPool::take() {
  std::lock_guard lock(mu_);
  ++in_use_;
  if (!free_.empty()) {
    uint8_t* b = free_.back();
    free_.pop_back();
    return b;
  }
  if (next_ == end_) refill();
  uint8_t* b = next_;
  next_ += kBlockBytes;
  return b;
}

void ChunkPool::give(uint8_t* block) {
  std::lock_guard lock(mu_);
  --in_use_;
  free_.push_back(block);
}

size_t ChunkPool::in_use() const {
  std::lock_guard lock(mu_);
  return in_use_;
}

void ChunkPool::refill() {
  next_ = map_region();
  end_ = next_ + kMappingBytes;
}

}  // namespace strata
