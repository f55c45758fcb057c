#include "engine/runtime/mem_fs.h"

#include <algorithm>
#include <set>

#include "engine/runtime/posix_chunk_pool.h"

namespace strata {

// A file's bytes in fixed-size blocks from the ChunkPool, so that appending to a growing
// segment never copies (nor page-faults again) what is already written, as one growing
// vector would, and a deleted segment's blocks go to the next segment.
class ChunkedBytes {
 public:
  static constexpr size_t kChunkBytes = ChunkPool::kBlockBytes;

  ChunkedBytes() = default;
  ChunkedBytes(const ChunkedBytes&) = delete;
  ChunkedBytes& operator=(const ChunkedBytes&) = delete;
  ~ChunkedBytes() { resize(0); }

  size_t size() const { return size_; }

  size_t read(uint64_t offset, std::span<uint8_t> out) const {
    if (offset >= size_) return 0;
    size_t n = std::min<uint64_t>(out.size(), size_ - offset);
    for (size_t done = 0; done < n;) {
      size_t at = (offset + done) % kChunkBytes;
      size_t k = std::min(n - done, kChunkBytes - at);
      std::copy_n(chunks_[(offset + done) / kChunkBytes] + at, k, out.data() + done);
      done += k;
    }
    return n;
  }

  // Overwrites [offset, offset + data.size()), extending the file (with zeros up to
  // `offset` if that lies past the end).
  void write(uint64_t offset, ByteSpan data) {
    if (offset > size_) resize(offset);
    reserve(offset + data.size());
    while (!data.empty()) {
      size_t at = offset % kChunkBytes;
      size_t k = std::min(data.size(), kChunkBytes - at);
      std::copy_n(data.data(), k, chunks_[offset / kChunkBytes] + at);
      data = data.subspan(k);
      offset += k;
    }
    size_ = std::max<size_t>(size_, offset);
  }

  // Truncates, or extends with zeros.
  void resize(uint64_t n) {
    if (n <= size_) {
      size_t keep = (n + kChunkBytes - 1) / kChunkBytes;
      while (chunks_.size() > keep) {
        ChunkPool::instance().give(chunks_.back());
        chunks_.pop_back();
      }
      size_ = n;
      return;
    }
    reserve(n);
    for (uint64_t at = size_; at < n;) {
      size_t in = at % kChunkBytes;
      size_t k = std::min<uint64_t>(n - at, kChunkBytes - in);
      std::fill_n(chunks_[at / kChunkBytes] + in, k, uint8_t{0});
      at += k;
    }
    size_ = n;
  }

  Bytes prefix(size_t n) const {
    STRATA_ASSERT(n <= size_);
    Bytes out(n);
    read(0, out);
    return out;
  }

  void assign(ByteSpan data) {
    resize(0);
    write(0, data);
  }

 private:
  // Blocks for the first n bytes.
  void reserve(uint64_t n) {
    while (chunks_.size() * kChunkBytes < n) chunks_.push_back(ChunkPool::instance().take());
  }

  std::vector<uint8_t*> chunks_;  // owned, from ChunkPool; bytes past size_ are garbage
  size_t size_ = 0;
};

// One file's data. Durable content is `synced_copy` if set, else data[0, synced_len): the
// copy is taken lazily, only when a write or truncate touches bytes that were already synced,
// so the common append-then-sync pattern never copies.
struct MemFileSystem::Node {
  ChunkedBytes data;
  size_t synced_len = 0;
  std::optional<Bytes> synced_copy;

  void before_mutating(uint64_t from) {
    if (!synced_copy && from < synced_len) synced_copy = data.prefix(synced_len);
  }
  void sync() {
    synced_copy.reset();
    synced_len = data.size();
  }
  Bytes durable() const {
    if (synced_copy) return *synced_copy;
    return data.prefix(synced_len);
  }
};

namespace {

std::string normalize(const std::string& path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// "" for a relative single name, "/" for a child of the root.
std::string parent_of(const std::string& p) {
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

std::string child_prefix(const std::string& dir) {
  if (dir.empty()) return "";
  return dir == "/" ? "/" : dir + "/";
}

bool is_root(const std::string& p) {
  return p.empty() || p == "/";
}

class MemFile : public File {
 public:
  MemFile(MemFileSystem* fs, std::shared_ptr<MemFileSystem::Node> node, std::string path)
      : fs_(fs), node_(std::move(node)), path_(std::move(path)), generation_(fs->generation()) {}

  Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) override {
    STRATA_RETURN_IF_ERROR(check(MemFileSystem::kFaultRead));
    return node_->data.read(offset, out);
  }
  Status append(ByteSpan data) override { return write_at(node_->data.size(), data); }
  Status write_at(uint64_t offset, ByteSpan data) override {
    STRATA_RETURN_IF_ERROR(check(MemFileSystem::kFaultWrite));
    node_->before_mutating(offset);
    node_->data.write(offset, data);
    fs_->note_write(node_);
    return ok_status();
  }
  Status sync() override {
    STRATA_RETURN_IF_ERROR(check(MemFileSystem::kFaultSync));
    node_->sync();
    return ok_status();
  }
  Status truncate(uint64_t size) override {
    STRATA_RETURN_IF_ERROR(check(MemFileSystem::kFaultWrite));
    node_->before_mutating(size);
    node_->data.resize(size);
    return ok_status();
  }
  uint64_t size() const override { return node_->data.size(); }
  const std::string& path() const override { return path_; }

 private:
  Status check(MemFileSystem::FaultOp op) {
    if (generation_ != fs_->generation()) {
      return Status::io_error("stale file handle after crash: " + path_);
    }
    return fs_->maybe_fail(op, path_);
  }

  MemFileSystem* fs_;
  std::shared_ptr<MemFileSystem::Node> node_;
  std::string path_;
  uint64_t generation_;
};

}  // namespace

MemFileSystem::MemFileSystem() = default;
MemFileSystem::~MemFileSystem() = default;

Status MemFileSystem::maybe_fail(FaultOp op, const std::string& path) {
  if (fail_count_ <= 0 || (fail_mask_ & op) == 0) return ok_status();
  if (fail_skip_ > 0) {
    --fail_skip_;
    return ok_status();
  }
  --fail_count_;
  ++injected_failures_;
  return Status::io_error("injected fault on " + path);
}

void MemFileSystem::fail_next_ops(int count, uint32_t op_mask, int skip) {
  STRATA_ASSERT(count >= 0 && skip >= 0);
  fail_count_ = count;
  fail_mask_ = op_mask;
  fail_skip_ = skip;
}

const MemFileSystem::Entry* MemFileSystem::find(const std::string& p) const {
  auto it = live_.find(p);
  return it == live_.end() ? nullptr : &it->second;
}

bool MemFileSystem::dir_exists(const std::string& p) const {
  if (is_root(p)) return true;
  const Entry* e = find(p);
  return e != nullptr && e->is_dir;
}

void MemFileSystem::children(const Namespace& ns, const std::string& dir,
                             std::vector<std::string>* out_paths) {
  std::string prefix = child_prefix(dir);
  for (auto it = ns.lower_bound(prefix); it != ns.end(); ++it) {
    const std::string& p = it->first;
    if (p.compare(0, prefix.size(), prefix) != 0) break;
    if (p.size() == prefix.size()) continue;
    if (p.find('/', prefix.size()) != std::string::npos) continue;
    out_paths->push_back(p);
  }
}

Result<std::unique_ptr<File>> MemFileSystem::open(const std::string& path, OpenMode mode) {
  std::string p = normalize(path);
  STRATA_RETURN_IF_ERROR(maybe_fail(kFaultMeta, p));
  const Entry* e = find(p);
  if (e != nullptr && e->is_dir) return Status::invalid_argument("is a directory: " + p);
  std::shared_ptr<Node> node;
  if (e != nullptr) {
    node = e->node;
  } else {
    if (mode == OpenMode::kReadOnly || mode == OpenMode::kReadWrite) {
      return Status::not_found("no such file: " + p);
    }
    if (!dir_exists(parent_of(p))) return Status::not_found("no such directory for: " + p);
    node = std::make_shared<Node>();
    live_[p] = Entry{false, node};
  }
  if (mode == OpenMode::kCreateTruncate) {
    node->before_mutating(0);
    node->data.resize(0);
  }
  return std::unique_ptr<File>(std::make_unique<MemFile>(this, node, p));
}

bool MemFileSystem::exists(const std::string& path) {
  std::string p = normalize(path);
  return is_root(p) || find(p) != nullptr;
}

bool MemFileSystem::is_dir(const std::string& path) {
  return dir_exists(normalize(path));
}

Status MemFileSystem::create_dirs(const std::string& path) {
  std::string p = normalize(path);
  STRATA_RETURN_IF_ERROR(maybe_fail(kFaultMeta, p));
  std::vector<std::string> chain;
  for (std::string q = p; !is_root(q); q = parent_of(q)) chain.push_back(q);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Entry* e = find(*it);
    if (e != nullptr && !e->is_dir) return Status::io_error("not a directory: " + *it);
    live_[*it] = Entry{true, nullptr};
    durable_[*it] = Entry{true, nullptr};  // simplification: directories are durable at once
  }
  return ok_status();
}

Result<std::vector<std::string>> MemFileSystem::list_dir(const std::string& path) {
  std::string p = normalize(path);
  STRATA_RETURN_IF_ERROR(maybe_fail(kFaultRead, p));
  if (!dir_exists(p)) return Status::not_found("no such directory: " + p);
  std::vector<std::string> paths;
  children(live_, p, &paths);
  std::vector<std::string> names;
  names.reserve(paths.size());
  size_t skip = child_prefix(p).size();
  for (const std::string& q : paths) names.push_back(q.substr(skip));
  return names;  // std::map order: already sorted
}

Status MemFileSystem::rename(const std::string& from, const std::string& to) {
  std::string f = normalize(from);
  std::string t = normalize(to);
  STRATA_RETURN_IF_ERROR(maybe_fail(kFaultMeta, f));
  const Entry* e = find(f);
  if (e == nullptr) return Status::not_found("no such file: " + f);
  if (e->is_dir) return Status::unsupported("MemFileSystem renames files only: " + f);
  if (!dir_exists(parent_of(t))) return Status::not_found("no such directory for: " + t);
  const Entry* target = find(t);
  if (target != nullptr && target->is_dir) return Status::io_error("target is a directory: " + t);
  if (f == t) return ok_status();
  Entry moved = *e;
  live_.erase(f);
  live_[t] = moved;
  return ok_status();
}

Status MemFileSystem::remove(const std::string& path) {
  std::string p = normalize(path);
  STRATA_RETURN_IF_ERROR(maybe_fail(kFaultMeta, p));
  const Entry* e = find(p);
  if (e == nullptr) return Status::not_found("no such file: " + p);
  if (e->is_dir) {
    std::vector<std::string> kids;
    children(live_, p, &kids);
    if (!kids.empty()) return Status::io_error("directory not empty: " + p);
    durable_.erase(p);
  }
  live_.erase(p);
  return ok_status();
}

Status MemFileSystem::remove_all(const std::string& path) {
  std::string p = normalize(path);
  STRATA_RETURN_IF_ERROR(maybe_fail(kFaultMeta, p));
  STRATA_ASSERT(!is_root(p), "remove_all of the root");
  std::string prefix = p + "/";
  for (Namespace* ns : {&live_, &durable_}) {
    ns->erase(p);
    auto it = ns->lower_bound(prefix);
    while (it != ns->end() && it->first.compare(0, prefix.size(), prefix) == 0) {
      it = ns->erase(it);
    }
  }
  return ok_status();
}

Status MemFileSystem::sync_dir(const std::string& path) {
  std::string p = normalize(path);
  STRATA_RETURN_IF_ERROR(maybe_fail(kFaultSync, p));
  if (!dir_exists(p)) return Status::not_found("no such directory: " + p);
  std::vector<std::string> old_paths;
  children(durable_, p, &old_paths);
  for (const std::string& q : old_paths) {
    if (!durable_[q].is_dir) durable_.erase(q);
  }
  std::vector<std::string> new_paths;
  children(live_, p, &new_paths);
  for (const std::string& q : new_paths) {
    if (!live_[q].is_dir) durable_[q] = live_[q];
  }
  return ok_status();
}

Result<uint64_t> MemFileSystem::file_size(const std::string& path) {
  std::string p = normalize(path);
  const Entry* e = find(p);
  if (e == nullptr || e->is_dir) return Status::not_found("no such file: " + p);
  return uint64_t{e->node->data.size()};
}

void MemFileSystem::crash(std::optional<uint64_t> torn_random) {
  ++generation_;
  std::shared_ptr<Node> torn = last_written_.lock();
  std::set<Node*> seen;
  for (Namespace* ns : {&live_, &durable_}) {
    for (auto& [path, entry] : *ns) {
      Node* n = entry.node.get();
      if (n == nullptr || !seen.insert(n).second) continue;
      bool appends_only = !n->synced_copy;
      if (torn_random && n == torn.get() && appends_only && n->data.size() > n->synced_len) {
        uint64_t extra = n->data.size() - n->synced_len;
        n->data.resize(n->synced_len + *torn_random % (extra + 1));
      } else {
        n->data.assign(n->durable());
      }
      n->sync();
    }
  }
  live_ = durable_;
  last_written_.reset();
}

uint64_t MemFileSystem::unsynced_bytes() const {
  uint64_t total = 0;
  for (const auto& [path, entry] : live_) {
    if (entry.node == nullptr) continue;
    const Node& n = *entry.node;
    if (n.synced_copy) {
      total += n.data.size();  // rewritten in place: count the whole file as at risk
    } else {
      total += n.data.size() - n.synced_len;
    }
  }
  return total;
}

Result<Bytes> MemFileSystem::read_all(const std::string& path) const {
  const Entry* e = find(normalize(path));
  if (e == nullptr || e->is_dir) return Status::not_found("no such file: " + path);
  return e->node->data.prefix(e->node->data.size());
}

Status MemFileSystem::corrupt(const std::string& path, uint64_t offset, ByteSpan bytes) {
  const Entry* e = find(normalize(path));
  if (e == nullptr || e->is_dir) return Status::not_found("no such file: " + path);
  Node& n = *e->node;
  if (offset + bytes.size() > n.data.size()) return Status::out_of_range("past end: " + path);
  n.data.write(offset, bytes);
  if (n.synced_copy) {  // the durable copy goes bad too, where it holds those bytes
    for (size_t i = 0; i < bytes.size() && offset + i < n.synced_copy->size(); ++i) {
      (*n.synced_copy)[offset + i] = bytes[i];
    }
  }
  return ok_status();
}

}  // namespace strata
