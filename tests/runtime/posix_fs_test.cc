// PosixFileSystem against a scratch directory under $TMPDIR.
#include "engine/runtime/posix_fs.h"

#include <stdlib.h>

#include <catch2/catch.hpp>

namespace strata {
namespace {

// A fresh directory, removed with everything in it when the test ends.
struct ScratchDir {
  PosixFileSystem fs;
  std::string path;
  ScratchDir() {
    const char* tmp = ::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr ? tmp : "/tmp") + "/strata-fs-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~ScratchDir() { (void)fs.remove_all(path); }
  std::string at(const std::string& name) const { return path + "/" + name; }
};

std::string read_all(File& f) {
  std::string s(f.size(), '\0');
  auto n = f.read_at(0, {reinterpret_cast<uint8_t*>(s.data()), s.size()});
  REQUIRE(n.is_ok());
  s.resize(*n);
  return s;
}

TEST_CASE("append tracks size, read_at is positional and short at end of file") {
  ScratchDir d;
  auto f = d.fs.open(d.at("seg.log"), OpenMode::kCreate);
  REQUIRE(f.is_ok());
  File& file = **f;
  CHECK(file.size() == 0);
  REQUIRE(file.append(as_bytes("hello ")).is_ok());
  REQUIRE(file.append(as_bytes("world")).is_ok());
  CHECK(file.size() == 11);
  uint8_t buf[8];
  auto n = file.read_at(6, buf);
  REQUIRE(n.is_ok());
  CHECK(*n == 5);
  CHECK(as_chars({buf, *n}) == "world");
  REQUIRE(file.sync().is_ok());
  CHECK(*d.fs.file_size(d.at("seg.log")) == 11);
  CHECK(file.path() == d.at("seg.log"));
}

TEST_CASE("write_at overwrites and extends, truncate shrinks") {
  ScratchDir d;
  auto f = d.fs.open(d.at("idx"), OpenMode::kCreateTruncate);
  REQUIRE(f.is_ok());
  REQUIRE((*f)->append(as_bytes("aaaaaaaa")).is_ok());
  REQUIRE((*f)->write_at(2, as_bytes("BB")).is_ok());
  REQUIRE((*f)->write_at(10, as_bytes("Z")).is_ok());
  CHECK((*f)->size() == 11);
  CHECK(read_all(**f) == std::string("aaBBaaaa\0\0Z", 11));
  REQUIRE((*f)->truncate(3).is_ok());
  CHECK((*f)->size() == 3);
  REQUIRE((*f)->append(as_bytes("c")).is_ok());
  CHECK(read_all(**f) == "aaBc");
}

TEST_CASE("open modes: must-exist modes fail with not found, create keeps, truncate clears") {
  ScratchDir d;
  auto missing = d.fs.open(d.at("nope"), OpenMode::kReadOnly);
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message().find(d.at("nope")) != std::string::npos);
  CHECK(d.fs.open(d.at("nope"), OpenMode::kReadWrite).status().code() == StatusCode::kNotFound);
  {
    auto f = d.fs.open(d.at("x"), OpenMode::kCreate);
    REQUIRE(f.is_ok());
    REQUIRE((*f)->append(as_bytes("keep")).is_ok());
  }
  auto again = d.fs.open(d.at("x"), OpenMode::kCreate);
  REQUIRE(again.is_ok());
  CHECK((*again)->size() == 4);
  auto ro = d.fs.open(d.at("x"), OpenMode::kReadOnly);
  REQUIRE(ro.is_ok());
  CHECK(read_all(**ro) == "keep");
  CHECK((*ro)->append(as_bytes("no")).code() == StatusCode::kIoError);
  auto tr = d.fs.open(d.at("x"), OpenMode::kCreateTruncate);
  REQUIRE(tr.is_ok());
  CHECK((*tr)->size() == 0);
  CHECK_FALSE(d.fs.open(d.path, OpenMode::kReadOnly).is_ok());  // a directory is not a file
}

TEST_CASE("rename atomically replaces the target") {
  ScratchDir d;
  for (auto [name, text] : {std::pair{"cp", "old"}, std::pair{"cp.tmp", "new"}}) {
    auto f = d.fs.open(d.at(name), OpenMode::kCreateTruncate);
    REQUIRE(f.is_ok());
    REQUIRE((*f)->append(as_bytes(text)).is_ok());
    REQUIRE((*f)->sync().is_ok());
  }
  // Keep the old file open: a reader of the replaced file still sees the old content.
  auto old_reader = d.fs.open(d.at("cp"), OpenMode::kReadOnly);
  REQUIRE(old_reader.is_ok());
  REQUIRE(d.fs.rename(d.at("cp.tmp"), d.at("cp")).is_ok());
  REQUIRE(d.fs.sync_dir(d.path).is_ok());
  CHECK_FALSE(d.fs.exists(d.at("cp.tmp")));
  auto f = d.fs.open(d.at("cp"), OpenMode::kReadOnly);
  REQUIRE(f.is_ok());
  CHECK(read_all(**f) == "new");
  CHECK(read_all(**old_reader) == "old");
  Status s = d.fs.rename(d.at("missing"), d.at("cp"));
  CHECK(s.code() == StatusCode::kNotFound);
  CHECK(s.message().find("missing") != std::string::npos);
}

TEST_CASE("directories: create_dirs, list_dir sorted, is_dir, remove, remove_all") {
  ScratchDir d;
  REQUIRE(d.fs.create_dirs(d.at("a/b/c")).is_ok());
  REQUIRE(d.fs.create_dirs(d.at("a/b/c")).is_ok());  // already there: fine
  CHECK(d.fs.is_dir(d.at("a/b/c")));
  for (const char* name : {"z.log", "a.index", "m.log"}) {
    REQUIRE(d.fs.open(d.at(std::string("a/") + name), OpenMode::kCreate).is_ok());
  }
  auto names = d.fs.list_dir(d.at("a"));
  REQUIRE(names.is_ok());
  CHECK(*names == std::vector<std::string>{"a.index", "b", "m.log", "z.log"});
  CHECK(d.fs.list_dir(d.at("none")).status().code() == StatusCode::kNotFound);
  CHECK_FALSE(d.fs.is_dir(d.at("a/m.log")));
  CHECK(d.fs.exists(d.at("a/m.log")));

  REQUIRE(d.fs.remove(d.at("a/m.log")).is_ok());
  CHECK_FALSE(d.fs.exists(d.at("a/m.log")));
  CHECK(d.fs.remove(d.at("a/m.log")).code() == StatusCode::kNotFound);
  CHECK_FALSE(d.fs.remove(d.at("a/b")).is_ok());  // not empty
  REQUIRE(d.fs.remove(d.at("a/b/c")).is_ok());    // empty directory
  REQUIRE(d.fs.remove_all(d.at("a")).is_ok());
  CHECK_FALSE(d.fs.exists(d.at("a")));
  REQUIRE(d.fs.remove_all(d.at("a")).is_ok());  // nothing left: still fine
  CHECK(d.fs.sync_dir(d.at("a")).code() == StatusCode::kNotFound);
  CHECK(d.fs.file_size(d.at("a")).status().code() == StatusCode::kNotFound);
}

TEST_CASE("create_dirs over an existing file fails") {
  ScratchDir d;
  REQUIRE(d.fs.open(d.at("f"), OpenMode::kCreate).is_ok());
  CHECK_FALSE(d.fs.create_dirs(d.at("f")).is_ok());
  CHECK_FALSE(d.fs.create_dirs(d.at("f/sub")).is_ok());
}

TEST_CASE("a large append and read back") {
  ScratchDir d;
  auto f = d.fs.open(d.at("big"), OpenMode::kCreate);
  REQUIRE(f.is_ok());
  Bytes data(3 * 1024 * 1024 + 17);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 31 + 7);
  REQUIRE((*f)->append(data).is_ok());
  Bytes back(data.size());
  auto n = (*f)->read_at(0, back);
  REQUIRE(n.is_ok());
  CHECK(*n == data.size());
  CHECK(back == data);
}

}  // namespace
}  // namespace strata
