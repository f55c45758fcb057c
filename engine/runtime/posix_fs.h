// PosixFileSystem: the real FileSystem over POSIX file descriptors.
//
// Errors carry the path and strerror text. ENOENT maps to kNotFound and EEXIST to
// kAlreadyExists, so callers can tell "missing" from "broken"; everything else is kIoError.
// Interrupted calls are retried and short reads/writes are continued.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/runtime.h"

namespace strata {

// An open file. Owns its descriptor; closes it on destruction. Tracks its size so that append
// needs no fstat (the size is refreshed only by this object's own writes and truncates).
class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixFile() override;
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) override;
  Status append(ByteSpan data) override;
  Status write_at(uint64_t offset, ByteSpan data) override;
  Status sync() override;
  Status truncate(uint64_t size) override;
  uint64_t size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  int fd_;
  std::string path_;
  uint64_t size_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  bool exists(const std::string& path) override;
  Status create_dirs(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;
  bool is_dir(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  // Removes a file or an empty directory.
  Status remove(const std::string& path) override;
  // Removing a path that does not exist succeeds.
  Status remove_all(const std::string& path) override;
  Status sync_dir(const std::string& path) override;
  Result<uint64_t> file_size(const std::string& path) override;
};

// Status for a failed system call: `what` names the operation, `path` the object, `err` errno.
Status posix_error(std::string_view what, const std::string& path, int err);

}  // namespace strata
