// MemFileSystem's durability model and fault hooks. (Lives with the storage tests because the
// storage tests are its first user; it only needs strata_runtime.)
#include "engine/runtime/mem_fs.h"

#include <catch2/catch.hpp>

using namespace strata;

namespace {

Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

std::string content(MemFileSystem& fs, const std::string& path) {
  Result<Bytes> b = fs.read_all(path);
  REQUIRE(b.is_ok());
  return std::string(b->begin(), b->end());
}

std::unique_ptr<File> open_file(MemFileSystem& fs, const std::string& path, OpenMode mode) {
  Result<std::unique_ptr<File>> f = fs.open(path, mode);
  REQUIRE(f.is_ok());
  return std::move(f).value();
}

}  // namespace

TEST_CASE("mem fs: crash keeps synced bytes and synced directory entries only") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/data/p-0").is_ok());
  auto f = open_file(fs, "/data/p-0/a", OpenMode::kCreate);
  REQUIRE(f->append(text("hello ")).is_ok());
  REQUIRE(f->sync().is_ok());
  REQUIRE(f->append(text("world")).is_ok());
  CHECK(content(fs, "/data/p-0/a") == "hello world");
  CHECK(fs.unsynced_bytes() == 5);

  SECTION("without sync_dir the new file vanishes") {
    fs.crash();
    CHECK_FALSE(fs.exists("/data/p-0/a"));
    CHECK(fs.is_dir("/data/p-0"));  // directories are durable at once (documented)
  }
  SECTION("with sync_dir the file keeps its synced prefix") {
    REQUIRE(fs.sync_dir("/data/p-0").is_ok());
    fs.crash();
    CHECK(content(fs, "/data/p-0/a") == "hello ");
    CHECK(fs.unsynced_bytes() == 0);
  }
  SECTION("a torn write keeps a prefix of the unsynced tail") {
    REQUIRE(fs.sync_dir("/data/p-0").is_ok());
    fs.crash(/*torn_random=*/3);
    CHECK(content(fs, "/data/p-0/a") == "hello wor");
  }
  SECTION("handles from before the crash are stale") {
    fs.crash();
    CHECK(f->append(text("x")).code() == StatusCode::kIoError);
  }
}

TEST_CASE("mem fs: rename and remove are undone by a crash unless the directory was synced") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/d").is_ok());
  auto f = open_file(fs, "/d/tmp", OpenMode::kCreateTruncate);
  REQUIRE(f->append(text("v1")).is_ok());
  REQUIRE(f->sync().is_ok());
  REQUIRE(fs.sync_dir("/d").is_ok());
  REQUIRE(fs.rename("/d/tmp", "/d/final").is_ok());
  CHECK(fs.list_dir("/d").value() == std::vector<std::string>{"final"});

  SECTION("unsynced rename") {
    fs.crash();
    CHECK(fs.list_dir("/d").value() == std::vector<std::string>{"tmp"});
  }
  SECTION("synced rename, then unsynced remove") {
    REQUIRE(fs.sync_dir("/d").is_ok());
    REQUIRE(fs.remove("/d/final").is_ok());
    CHECK_FALSE(fs.exists("/d/final"));
    fs.crash();
    CHECK(content(fs, "/d/final") == "v1");
  }
}

TEST_CASE("mem fs: overwriting synced bytes is undone by a crash") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/d").is_ok());
  auto f = open_file(fs, "/d/f", OpenMode::kCreate);
  REQUIRE(f->append(text("abcdef")).is_ok());
  REQUIRE(f->sync().is_ok());
  REQUIRE(fs.sync_dir("/d").is_ok());
  REQUIRE(f->write_at(1, text("XY")).is_ok());
  REQUIRE(f->truncate(4).is_ok());
  CHECK(content(fs, "/d/f") == "aXYd");
  fs.crash(/*torn_random=*/12345);  // not append-only: no torn prefix, plain rollback
  CHECK(content(fs, "/d/f") == "abcdef");
}

TEST_CASE("mem fs: open modes, listing and errors") {
  MemFileSystem fs;
  CHECK(fs.open("/nope/f", OpenMode::kCreate).status().code() == StatusCode::kNotFound);
  REQUIRE(fs.create_dirs("/x/y/").is_ok());
  CHECK(fs.is_dir("/x"));
  CHECK(fs.is_dir("/x//y"));
  CHECK(fs.open("/x/y/f", OpenMode::kReadWrite).status().code() == StatusCode::kNotFound);
  auto f = open_file(fs, "/x/y/f", OpenMode::kCreate);
  REQUIRE(f->append(text("0123456789")).is_ok());
  uint8_t buf[4];
  CHECK(f->read_at(8, buf).value() == 2);
  CHECK(f->read_at(20, buf).value() == 0);
  open_file(fs, "/x/y/b", OpenMode::kCreate);
  CHECK(fs.list_dir("/x/y").value() == std::vector<std::string>{"b", "f"});
  CHECK(fs.list_dir("/x").value() == std::vector<std::string>{"y"});
  CHECK(fs.file_size("/x/y/f").value() == 10);
  CHECK(fs.remove("/x/y").code() == StatusCode::kIoError);  // not empty
  REQUIRE(fs.remove_all("/x/y").is_ok());
  CHECK_FALSE(fs.exists("/x/y/f"));
  CHECK(f->size() == 10);  // an open handle keeps the unlinked data readable
}

TEST_CASE("mem fs: injected faults fail the next operations of the chosen kinds") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/d").is_ok());
  auto f = open_file(fs, "/d/f", OpenMode::kCreate);
  fs.fail_next_ops(2, MemFileSystem::kFaultSync);
  CHECK(f->append(text("a")).is_ok());  // not a sync: unaffected
  CHECK(f->sync().code() == StatusCode::kIoError);
  CHECK(fs.sync_dir("/d").code() == StatusCode::kIoError);
  CHECK(f->sync().is_ok());
  CHECK(fs.injected_failures() == 2);
  fs.fail_next_ops(1);
  CHECK(f->append(text("b")).code() == StatusCode::kIoError);
  CHECK(content(fs, "/d/f") == "a");  // a failed write has no effect
}
