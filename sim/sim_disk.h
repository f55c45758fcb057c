// SimDisk: a node's disk as its process sees it — a MemFileSystem (what survives a crash)
// plus I/O latency. strata's broker does its file I/O synchronously on its one loop, so a
// slow write or fsync stalls the whole process: SimDisk charges each operation's latency to
// the node, which runs nothing else until the stall has passed (and whose outgoing frames
// leave after it). Latency is per operation kind; zero by default.
#pragma once

#include <functional>
#include <memory>

#include "engine/runtime/mem_fs.h"

namespace strata::sim {

struct DiskLatency {
  Duration read{0};
  Duration write{0};  // append, write_at, truncate
  Duration sync{0};   // File::sync and sync_dir
  Duration meta{0};   // open, rename, remove, list
};

class SimDisk final : public FileSystem {
 public:
  // `charge` is called with the latency of each operation (the node blocks for it).
  SimDisk(MemFileSystem& fs, std::function<void(Duration)> charge)
      : fs_(fs), charge_(std::move(charge)) {}

  void set_latency(const DiskLatency& l) { latency_ = l; }
  const DiskLatency& latency() const { return latency_; }
  void charge(Duration d) {
    if (d.count() > 0) charge_(d);
  }

  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  bool exists(const std::string& path) override { return fs_.exists(path); }
  Status create_dirs(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;
  bool is_dir(const std::string& path) override { return fs_.is_dir(path); }
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status remove_all(const std::string& path) override;
  Status sync_dir(const std::string& path) override;
  Result<uint64_t> file_size(const std::string& path) override { return fs_.file_size(path); }

 private:
  MemFileSystem& fs_;
  std::function<void(Duration)> charge_;
  DiskLatency latency_;
};

}  // namespace strata::sim
