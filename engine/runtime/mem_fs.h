// MemFileSystem: an in-memory FileSystem with an explicit durability model (LevelDB's memenv
// plus the fault-injection env), used by tests and by the deterministic simulator.
//
// Durability model — what survives crash():
//  * File contents: bytes become durable when File::sync() is called on any handle of that
//    file. crash() rolls every file back to its last synced content. With a caller-supplied
//    random value, the file that received the last write keeps a random prefix of its
//    unsynced appended tail (a torn write), provided its unsynced changes were appends only.
//  * File directory entries (creation by open(), rename(), remove() of a file) become durable
//    only when sync_dir() is called on the directory that holds them; crash() restores each
//    directory's entries as of its last sync_dir (a created-but-unsynced file vanishes, an
//    unsynced rename is undone, an unsynced remove is undone).
//  * Simplification: directories themselves (create_dirs, remove of an empty directory,
//    remove_all) are durable immediately; real POSIX would need an fsync of the parent.
//
// Handles opened before crash() are stale afterwards: every operation on them fails with
// kIoError (the process that held them is gone). No OS calls: paths are plain strings, "/"
// separated, normalised (repeated and trailing slashes dropped).
//
// Fault hooks: fail_next_ops(n, mask) makes the next n operations of the chosen kinds fail
// with kIoError without side effects.
//
// Ownership: the file system owns all file data; File handles share a file's node, so a file
// removed while open stays readable through the handle (POSIX unlink semantics).
// Single-threaded, like every Runtime.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/runtime/runtime.h"

namespace strata {

class MemFileSystem : public FileSystem {
 public:
  // Operation kinds for fault injection (a bit mask).
  enum FaultOp : uint32_t {
    kFaultRead = 1,   // File::read_at, list_dir
    kFaultWrite = 2,  // append, write_at, truncate
    kFaultSync = 4,   // File::sync, sync_dir
    kFaultMeta = 8,   // open, create_dirs, rename, remove, remove_all
    kFaultAll = 15,
  };

  struct Node;  // one file's data; defined in mem_fs.cc

  MemFileSystem();
  ~MemFileSystem() override;
  MemFileSystem(const MemFileSystem&) = delete;
  MemFileSystem& operator=(const MemFileSystem&) = delete;

  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  bool exists(const std::string& path) override;
  Status create_dirs(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;
  bool is_dir(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status remove_all(const std::string& path) override;
  Status sync_dir(const std::string& path) override;
  Result<uint64_t> file_size(const std::string& path) override;

  // Simulated power loss: drops unsynced data and unsynced directory entries (see above).
  // `torn_random`, if given, picks how much of the last written file's unsynced tail survives.
  void crash(std::optional<uint64_t> torn_random = std::nullopt);

  // The next `count` operations whose kind is in `op_mask` fail with kIoError, after `skip`
  // such operations that succeed (a crash at every step of a protocol, one run per skip).
  void fail_next_ops(int count, uint32_t op_mask = kFaultAll, int skip = 0);
  int64_t injected_failures() const { return injected_failures_; }

  // Bytes written but not yet synced, over all live files (for tests and the visualizer).
  uint64_t unsynced_bytes() const;
  // Whole content of a file (test helper; no fault injection). NotFound if missing.
  Result<Bytes> read_all(const std::string& path) const;
  // Overwrites existing bytes in both the current and the durable content, bypassing fault
  // injection: a test's "the disk went bad".
  Status corrupt(const std::string& path, uint64_t offset, ByteSpan bytes);

  // Internal, used by the file handles.
  Status maybe_fail(FaultOp op, const std::string& path);
  uint64_t generation() const { return generation_; }
  void note_write(const std::shared_ptr<Node>& node) { last_written_ = node; }

 private:
  struct Entry {
    bool is_dir = false;
    std::shared_ptr<Node> node;  // null for directories
  };
  using Namespace = std::map<std::string, Entry>;

  const Entry* find(const std::string& normalized) const;
  bool dir_exists(const std::string& normalized) const;
  static void children(const Namespace& ns, const std::string& dir,
                       std::vector<std::string>* out_paths);

  Namespace live_;     // what open/list_dir see now
  Namespace durable_;  // what survives crash()
  std::weak_ptr<Node> last_written_;
  uint64_t generation_ = 0;  // bumped by crash(); stale handles compare against it
  int fail_count_ = 0;
  uint32_t fail_mask_ = 0;
  int fail_skip_ = 0;
  int64_t injected_failures_ = 0;
};

}  // namespace strata
