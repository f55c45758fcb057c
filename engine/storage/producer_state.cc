#include "engine/storage/producer_state.h"

#include <algorithm>
#include <climits>

#include "engine/base/bytes.h"
#include "engine/base/crc32c.h"
#include "engine/storage/log_format.h"

namespace strata {
namespace {

using proto::ErrorCode;

constexpr int16_t kSnapshotVersion = 0;
constexpr size_t kSnapshotBatchBytes = 4 + 4 + 8 + 8 + 8;
constexpr size_t kSnapshotProducerBytes = 8 + 2 + 8 + 4;

std::string snapshot_path(const std::string& dir, Offset at) {
  return dir + "/" + log_format::segment_file_name(at, log_format::FileKind::kProducerSnapshot);
}

// The offsets of `dir`'s snapshots, ascending.
Result<std::vector<Offset>> list_snapshots(FileSystem& fs, const std::string& dir) {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.list_dir(dir));
  std::vector<Offset> out;
  for (const std::string& name : names) {
    auto parsed = log_format::parse_segment_file_name(name);
    if (parsed && parsed->kind == log_format::FileKind::kProducerSnapshot) {
      out.push_back(parsed->base);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<ProducerStateTable> decode_snapshot(ByteSpan data, Offset named) {
  if (data.size() < 2 + 8 + 4 + 4) return Status::corruption("shorter than its header");
  size_t body = data.size() - 4;
  if (crc32c::value(data.first(body)) != load_be32(data.data() + body)) {
    return Status::corruption("CRC-32C mismatch");
  }
  ByteReader r(data.first(body));
  int16_t version = r.i16();
  if (version != kSnapshotVersion) {
    return Status::corruption("version " + std::to_string(version));
  }
  int64_t at = r.i64();
  if (at != named.value()) {
    return Status::corruption("says offset " + std::to_string(at) + ", its name " +
                              std::to_string(named.value()));
  }
  int32_t producers = r.i32();
  if (producers < 0 || size_t(producers) > r.remaining() / kSnapshotProducerBytes) {
    return Status::corruption("bad producer count " + std::to_string(producers));
  }
  ProducerStateTable table;
  for (int32_t i = 0; i < producers; ++i) {
    int64_t pid = r.i64();
    int16_t epoch = r.i16();
    int64_t last_timestamp = r.i64();
    int32_t batches = r.i32();
    if (batches < 0 || size_t(batches) > ProducerStateTable::kBatchesRetained ||
        size_t(batches) * kSnapshotBatchBytes > r.remaining()) {
      return Status::corruption("bad batch count " + std::to_string(batches));
    }
    for (int32_t j = 0; j < batches; ++j) {
      ProducerBatch b;
      b.first_seq = r.i32();
      b.last_seq = r.i32();
      b.first_offset = r.i64();
      b.last_offset = r.i64();
      b.timestamp_ms = r.i64();
      table.record(pid, epoch, b, last_timestamp);
    }
  }
  if (!r.ok() || r.remaining() != 0) return Status::corruption("bad length");
  return table;
}

}  // namespace

Status write_producer_snapshot(FileSystem& fs, const std::string& dir, Offset at,
                               const ProducerStateTable& table) {
  Bytes data;
  ByteWriter w(data);
  w.i16(kSnapshotVersion);
  w.i64(at.value());
  w.i32(int32_t(table.producers()));
  for (const auto& [pid, e] : table.entries()) {
    w.i64(pid);
    w.i16(e.epoch);
    w.i64(e.last_timestamp_ms);
    w.i32(int32_t(e.batches.size()));
    for (const ProducerBatch& b : e.batches) {
      w.i32(b.first_seq);
      w.i32(b.last_seq);
      w.i64(b.first_offset);
      w.i64(b.last_offset);
      w.i64(b.timestamp_ms);
    }
  }
  w.u32(crc32c::value(data));
  // Not synced: a snapshot lost or torn by a crash fails its checks on the next start, which
  // then uses an older one or scans the log, so neither a roll nor the shutdown pays a sync.
  STRATA_RETURN_IF_ERROR(
      replace_file(fs, dir, snapshot_path(dir, at), data, Durability::kUnsynced));
  STRATA_ASSIGN_OR_RETURN(std::vector<Offset> all, list_snapshots(fs, dir));
  for (size_t i = 0; i + kProducerSnapshotsKept < all.size(); ++i) {
    STRATA_RETURN_IF_ERROR(fs.remove(snapshot_path(dir, all[i])));
  }
  return ok_status();
}

Result<LoadedProducerState> load_producer_snapshot(FileSystem& fs, const std::string& dir,
                                                   Offset log_end) {
  LoadedProducerState out;
  STRATA_ASSIGN_OR_RETURN(std::vector<Offset> all, list_snapshots(fs, dir));
  bool removed = false;
  while (!all.empty() && all.back() > log_end) {
    out.notes.push_back("removed " + snapshot_path(dir, all.back()) +
                        ": above the log end " + std::to_string(log_end.value()));
    STRATA_RETURN_IF_ERROR(fs.remove(snapshot_path(dir, all.back())));
    all.pop_back();
    removed = true;
  }
  // Made durable before the log grows past these offsets again and gives them a new meaning.
  if (removed) STRATA_RETURN_IF_ERROR(fs.sync_dir(dir));
  for (auto at = all.rbegin(); at != all.rend(); ++at) {
    std::string path = snapshot_path(dir, *at);
    STRATA_ASSIGN_OR_RETURN(std::string text, read_file_text(fs, path));
    auto table = decode_snapshot(as_bytes(text), *at);
    if (table) {
      out.table = std::move(*table);
      out.scan_from = *at;
      return out;
    }
    out.notes.push_back("ignored " + path + ": " + table.status().message());
  }
  return out;
}

SequenceCheck ProducerStateTable::check(int64_t pid, int16_t epoch, int32_t first_seq,
                                        int32_t last_seq) const {
  SequenceCheck c;
  auto it = producers_.find(pid);
  if (it == producers_.end()) return c;  // unknown here: any sequence starts it
  const ProducerEntry& e = it->second;
  auto describe = [&] {
    return "producer " + std::to_string(pid) + " epoch " + std::to_string(epoch) +
           " sequences " + std::to_string(first_seq) + ".." + std::to_string(last_seq);
  };
  if (epoch < e.epoch) {
    c.error = ErrorCode::kInvalidProducerEpoch;
    c.why = describe() + ": the producer's current epoch is " + std::to_string(e.epoch);
    return c;
  }
  if (epoch > e.epoch || e.batches.empty()) {
    if (epoch > e.epoch && first_seq != 0) {
      c.error = ErrorCode::kOutOfOrderSequenceNumber;
      c.why = describe() + ": a new epoch must start at sequence 0";
    }
    return c;
  }
  for (const ProducerBatch& b : e.batches) {
    if (b.first_seq == first_seq && b.last_seq == last_seq) {
      c.duplicate = &b;
      return c;
    }
  }
  int32_t expected = next_sequence(e.batches.back().last_seq);
  if (first_seq == expected) return c;
  c.error = ErrorCode::kOutOfOrderSequenceNumber;
  c.why = describe() + ": expected sequence " + std::to_string(expected);
  return c;
}

void ProducerStateTable::record(int64_t pid, int16_t epoch, const ProducerBatch& batch,
                                int64_t max_timestamp_ms) {
  ProducerEntry& e = producers_[pid];
  e.last_timestamp_ms = max_timestamp_ms;
  if (epoch != e.epoch) {
    e.epoch = epoch;
    e.batches.clear();
  }
  e.batches.push_back(batch);
  while (e.batches.size() > kBatchesRetained) e.batches.pop_front();
}

void ProducerStateTable::replay(const StoredBatchHeader& h) {
  if (h.producer_id < 0 || h.base_sequence < 0 || h.control()) return;
  ProducerBatch batch{h.base_sequence, last_sequence(h.base_sequence, h.last_offset_delta + 1),
                      h.base_offset, h.last().value(),
                      h.log_append_time() ? h.max_timestamp : -1};
  record(h.producer_id, h.producer_epoch, batch, h.max_timestamp);
}

size_t ProducerStateTable::expire(int64_t now_ms, int64_t expiration_ms) {
  return std::erase_if(producers_, [&](const auto& kv) {
    // The timestamp is the client's (a batch's max timestamp), any int64: the idle time may
    // not fit one. Overflowing, it is idle since long before now (or until long after).
    int64_t idle_ms = 0;
    if (__builtin_sub_overflow(now_ms, kv.second.last_timestamp_ms, &idle_ms)) {
      return kv.second.last_timestamp_ms < 0;
    }
    return idle_ms >= expiration_ms;
  });
}

const ProducerEntry* ProducerStateTable::find(int64_t pid) const {
  auto it = producers_.find(pid);
  return it == producers_.end() ? nullptr : &it->second;
}

}  // namespace strata
