#include "engine/runtime/posix_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace strata {

Status posix_error(std::string_view what, const std::string& path, int err) {
  std::string m = std::string(what) + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return Status::not_found(std::move(m));
  if (err == EEXIST) return Status::already_exists(std::move(m));
  return Status::io_error(std::move(m));
}

namespace {

// Retries a system call that was interrupted by a signal before doing anything.
template <class Fn>
auto retry_eintr(Fn fn) {
  for (;;) {
    auto r = fn();
    if (r >= 0 || errno != EINTR) return r;
  }
}

int open_flags(OpenMode mode) {
  switch (mode) {
    case OpenMode::kReadOnly:
      return O_RDONLY;
    case OpenMode::kReadWrite:
      return O_RDWR;
    case OpenMode::kCreate:
      return O_RDWR | O_CREAT;
    case OpenMode::kCreateTruncate:
      return O_RDWR | O_CREAT | O_TRUNC;
  }
  STRATA_UNREACHABLE("bad OpenMode");
}

Status fs_error(std::string_view what, const std::string& path, const std::error_code& ec) {
  return posix_error(what, path, ec.value());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PosixFile

PosixFile::~PosixFile() {
  // close() is not retried on EINTR: on Linux the descriptor is released regardless.
  if (fd_ >= 0) ::close(fd_);
}

Result<size_t> PosixFile::read_at(uint64_t offset, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = retry_eintr(
        [&] { return ::pread(fd_, out.data() + done, out.size() - done, off_t(offset + done)); });
    if (n < 0) return posix_error("pread", path_, errno);
    if (n == 0) break;  // end of file
    done += size_t(n);
  }
  STRATA_ASSERT(done <= out.size());
  return done;
}

Status PosixFile::write_at(uint64_t offset, ByteSpan data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = retry_eintr([&] {
      return ::pwrite(fd_, data.data() + done, data.size() - done, off_t(offset + done));
    });
    if (n < 0) {
      // A partial write may have extended the file; learn the truth rather than guess.
      struct stat st;
      if (::fstat(fd_, &st) == 0) size_ = uint64_t(st.st_size);
      return posix_error("pwrite", path_, errno);
    }
    done += size_t(n);
  }
  size_ = std::max(size_, offset + data.size());
  return ok_status();
}

Status PosixFile::append(ByteSpan data) {
  return write_at(size_, data);
}

Status PosixFile::sync() {
  if (retry_eintr([&] { return ::fsync(fd_); }) != 0) return posix_error("fsync", path_, errno);
  return ok_status();
}

Status PosixFile::truncate(uint64_t size) {
  if (retry_eintr([&] { return ::ftruncate(fd_, off_t(size)); }) != 0) {
    return posix_error("ftruncate", path_, errno);
  }
  size_ = size;
  return ok_status();
}

// ---------------------------------------------------------------------------------------------
// PosixFileSystem

Result<std::unique_ptr<File>> PosixFileSystem::open(const std::string& path, OpenMode mode) {
  int fd = retry_eintr([&] { return ::open(path.c_str(), open_flags(mode) | O_CLOEXEC, 0644); });
  if (fd < 0) return posix_error("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = posix_error("fstat", path, errno);
    ::close(fd);
    return s;
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return posix_error("open", path, EISDIR);
  }
  return std::unique_ptr<File>(new PosixFile(fd, path, uint64_t(st.st_size)));
}

bool PosixFileSystem::exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool PosixFileSystem::is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status PosixFileSystem::create_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return fs_error("mkdir -p", path, ec);
  if (!is_dir(path)) return posix_error("mkdir -p", path, ENOTDIR);
  return ok_status();
}

Result<std::vector<std::string>> PosixFileSystem::list_dir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return posix_error("opendir", path, errno);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(dir);
    if (e == nullptr) break;
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return posix_error("readdir", path, err);
  std::sort(names.begin(), names.end());
  return names;
}

Status PosixFileSystem::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return posix_error("rename", from + " -> " + to, errno);
  }
  return ok_status();
}

Status PosixFileSystem::remove(const std::string& path) {
  if (::unlink(path.c_str()) == 0) return ok_status();
  // unlink refuses directories (EISDIR on Linux, EPERM per POSIX); fall back to rmdir.
  if ((errno == EISDIR || errno == EPERM) && is_dir(path)) {
    if (::rmdir(path.c_str()) == 0) return ok_status();
    return posix_error("rmdir", path, errno);
  }
  return posix_error("unlink", path, errno);
}

Status PosixFileSystem::remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return fs_error("remove_all", path, ec);
  return ok_status();
}

Status PosixFileSystem::sync_dir(const std::string& path) {
  int fd = retry_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return posix_error("open dir", path, errno);
  int rc = retry_eintr([&] { return ::fsync(fd); });
  int err = errno;
  ::close(fd);
  if (rc != 0) return posix_error("fsync dir", path, err);
  return ok_status();
}

Result<uint64_t> PosixFileSystem::file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return posix_error("stat", path, errno);
  if (S_ISDIR(st.st_mode)) return posix_error("file_size", path, EISDIR);
  return uint64_t(st.st_size);
}

}  // namespace strata
