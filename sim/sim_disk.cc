#include "sim/sim_disk.h"

namespace strata::sim {
namespace {

class SimFile final : public File {
 public:
  SimFile(std::unique_ptr<File> inner, SimDisk& disk) : inner_(std::move(inner)), disk_(disk) {}

  Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) override {
    disk_.charge(disk_.latency().read);
    return inner_->read_at(offset, out);
  }
  Status append(ByteSpan data) override {
    disk_.charge(disk_.latency().write);
    return inner_->append(data);
  }
  Status write_at(uint64_t offset, ByteSpan data) override {
    disk_.charge(disk_.latency().write);
    return inner_->write_at(offset, data);
  }
  Status sync() override {
    disk_.charge(disk_.latency().sync);
    return inner_->sync();
  }
  Status truncate(uint64_t size) override {
    disk_.charge(disk_.latency().write);
    return inner_->truncate(size);
  }
  uint64_t size() const override { return inner_->size(); }
  const std::string& path() const override { return inner_->path(); }

 private:
  std::unique_ptr<File> inner_;
  SimDisk& disk_;
};

}  // namespace

Result<std::unique_ptr<File>> SimDisk::open(const std::string& path, OpenMode mode) {
  charge(latency_.meta);
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> inner, fs_.open(path, mode));
  return std::unique_ptr<File>(std::make_unique<SimFile>(std::move(inner), *this));
}

Status SimDisk::create_dirs(const std::string& path) {
  charge(latency_.meta);
  return fs_.create_dirs(path);
}

Result<std::vector<std::string>> SimDisk::list_dir(const std::string& path) {
  charge(latency_.meta);
  return fs_.list_dir(path);
}

Status SimDisk::rename(const std::string& from, const std::string& to) {
  charge(latency_.meta);
  return fs_.rename(from, to);
}

Status SimDisk::remove(const std::string& path) {
  charge(latency_.meta);
  return fs_.remove(path);
}

Status SimDisk::remove_all(const std::string& path) {
  charge(latency_.meta);
  return fs_.remove_all(path);
}

Status SimDisk::sync_dir(const std::string& path) {
  charge(latency_.sync);
  return fs_.sync_dir(path);
}

}  // namespace strata::sim
