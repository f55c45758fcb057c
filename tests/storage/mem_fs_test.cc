// MemFileSystem's durability model and fault hooks. (Lives with the storage tests because the
// storage tests are its first user; it only needs strata_runtime.)
#include "engine/runtime/mem_fs.h"

#include <algorithm>

#include <catch2/catch.hpp>

#include "engine/runtime/posix_chunk_pool.h"

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

TEST_CASE("mem fs: files spanning many blocks read back, truncate, extend with zeros and "
          "give their blocks back") {
  constexpr size_t kBlock = ChunkPool::kBlockBytes;
  size_t in_use_before = ChunkPool::instance().in_use();
  {
    MemFileSystem fs;
    auto f = open_file(fs, "/seg", OpenMode::kCreate);
    // Appends of a size that straddles block boundaries, each byte a function of its offset.
    Bytes piece(kBlock / 3 + 7);
    uint64_t written = 0;
    while (written < 3 * kBlock + 100) {
      for (size_t i = 0; i < piece.size(); ++i) piece[i] = uint8_t((written + i) * 31 % 251);
      REQUIRE(f->append(piece).is_ok());
      written += piece.size();
    }
    REQUIRE(f->size() == written);
    CHECK(ChunkPool::instance().in_use() - in_use_before == (written + kBlock - 1) / kBlock);

    // A read across two block boundaries.
    Bytes out(kBlock + 20);
    Result<size_t> n = f->read_at(kBlock - 10, out);
    REQUIRE(n.is_ok());
    REQUIRE(*n == out.size());
    for (size_t i = 0; i < out.size(); ++i) REQUIRE(out[i] == uint8_t((kBlock - 10 + i) * 31 % 251));

    // An overwrite across a boundary, then truncation into the first block and re-extension:
    // the bytes past the cut read as zeros, not as what the reused block held.
    Bytes patch(30, 0xEE);
    REQUIRE(f->write_at(2 * kBlock - 15, patch).is_ok());
    REQUIRE(f->read_at(2 * kBlock - 15, std::span(out.data(), 30)).is_ok());
    CHECK(std::all_of(out.begin(), out.begin() + 30, [](uint8_t b) { return b == 0xEE; }));
    REQUIRE(f->truncate(100).is_ok());
    CHECK(ChunkPool::instance().in_use() - in_use_before == 1);
    REQUIRE(f->truncate(kBlock + 50).is_ok());
    Bytes tail(kBlock);
    REQUIRE(f->read_at(100, tail).is_ok());
    CHECK(std::all_of(tail.begin(), tail.end(), [](uint8_t b) { return b == 0; }));
    Bytes head(100);
    REQUIRE(f->read_at(0, head).is_ok());
    CHECK(head[99] == uint8_t(99 * 31 % 251));

    REQUIRE(fs.remove("/seg").is_ok());
    // Still open: the data lives until the handle goes (POSIX unlink).
    CHECK(ChunkPool::instance().in_use() - in_use_before == 2);
  }
  CHECK(ChunkPool::instance().in_use() == in_use_before);
}
