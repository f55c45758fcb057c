// ChunkPool: fixed-size blocks of memory for MemFileSystem's file data.
//
// An in-memory log grows by hundreds of megabytes over a long simulated run, and on a
// virtualised machine every fresh 4 KiB page costs a page fault that is dearer than the
// record written into it. The pool takes memory from the OS in large mappings that ask for
// transparent huge pages (one fault per 2 MiB where the kernel grants them), carves them into
// blocks, and keeps blocks given back (a deleted segment's) on a free list for the next file,
// so a run whose retention deletes as fast as it appends stops asking the OS for memory.
// Memory once taken is kept for the life of the process, as a heap keeps its arena.
//
// It asks the OS for memory only (mmap, madvise), which is why it is a posix_ file: nothing
// it does is visible to the simulation or changes its course.
//
// Thread-safe: runtimes are single-threaded, but tests may run several in one process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace strata {

class ChunkPool {
 public:
  static constexpr size_t kBlockBytes = 64 * 1024;

  static ChunkPool& instance();

  // A block of kBlockBytes; its contents are unspecified.
  uint8_t* take();
  void give(uint8_t* block);

  // Blocks handed out and not given back.
  size_t in_use() const;

 private:
  ChunkPool() = default;
  void refill();

  mutable std::mutex mu_;
  std::vector<uint8_t*> free_;
  uint8_t* next_ = nullptr;  // uncarved rest of the newest mapping
  uint8_t* end_ = nullptr;
  size_t in_use_ = 0;
};

}  // namespace strata
