// Consumer: building Fetch requests and turning their answers into records.
#include <algorithm>

#include "engine/client/client_errors.h"
#include "engine/client/consumer.h"

namespace strata::client {

void Consumer::fetch(NodeId leader, std::vector<TopicPartition> tps) {
  STRATA_ASSERT(!tps.empty());
  proto::FetchRequest req;
  req.replica_id = -1;
  req.max_wait_ms = config_.fetch_max_wait_ms;
  req.min_bytes = config_.fetch_min_bytes;
  req.max_bytes = config_.fetch_max_bytes;
  req.isolation_level = config_.isolation_level;
  req.session_id = 0;      // no fetch sessions: every request is a full fetch
  req.session_epoch = -1;
  std::vector<FetchedPartition> asked;
  for (const auto& tp : tps) {
    PartitionState& s = state(tp);
    STRATA_ASSERT(s.position.has_value());
    s.fetching = true;
    asked.push_back(FetchedPartition{tp, s.epoch, *s.position});
    auto t = std::find_if(req.topics.begin(), req.topics.end(),
                          [&](const auto& x) { return x.topic == tp.topic; });
    if (t == req.topics.end()) {
      t = req.topics.insert(req.topics.end(), proto::FetchRequest::FetchTopic{});
      t->topic = tp.topic;
    }
    auto& p = t->partitions.emplace_back();
    p.partition = tp.partition.value();
    p.fetch_offset = s.position->value();
    p.partition_max_bytes = config_.max_partition_fetch_bytes;
  }
  fetching_from_[leader] = true;
  ++stats_.fetches;
  SendOptions o;
  // The broker may hold the request for fetch.max.wait.ms before answering.
  o.timeout = milliseconds(config_.request_timeout_ms + config_.fetch_max_wait_ms);
  net_.send(
      leader, std::move(req),
      [this, leader, asked = std::move(asked)](Result<proto::FetchResponse> r) mutable {
        on_fetch(leader, std::move(asked), std::move(r));
      },
      o);
}

void Consumer::on_fetch(NodeId leader, std::vector<FetchedPartition> asked,
                        Result<proto::FetchResponse> resp) {
  fetching_from_[leader] = false;
  for (const auto& f : asked) {
    auto it = parts_.find(f.tp);
    if (it == parts_.end()) continue;
    PartitionState& s = it->second;
    s.fetching = false;
    if (s.epoch != f.epoch || s.position != f.offset) continue;  // seeked meanwhile
    if (!resp) {
      retry_later(s);  // the lost connection already asked for fresh metadata
      continue;
    }
    const proto::FetchResponse::PartitionData* pd = nullptr;
    for (const auto& t : resp->responses) {
      if (t.topic != f.tp.topic) continue;
      for (const auto& p : t.partitions) {
        if (p.partition_index == f.tp.partition.value()) pd = &p;
      }
    }
    if (resp->error_code != 0) {
      proto::FetchResponse::PartitionData top;
      top.error_code = resp->error_code;
      on_fetch_partition(f, top);
    } else if (pd == nullptr) {
      retry_later(s);  // the broker left it out (e.g. fetch.max.bytes reached)
    } else {
      on_fetch_partition(f, *pd);
    }
  }
  wake(rt_.now());
  report();
}

void Consumer::on_fetch_partition(const FetchedPartition& f,
                                  const proto::FetchResponse::PartitionData& data) {
  PartitionState& s = state(f.tp);
  using proto::ErrorCode;
  int16_t code = data.error_code;
  if (code == 0) {
    s.progress.high_watermark = data.high_watermark;
    s.progress.last_stable_offset = data.last_stable_offset;
    s.progress.log_start_offset = data.log_start_offset;
    if (data.records && !data.records->empty()) {
      if (Status st = take_records(f.tp, s, *data.records); !st) {
        fail_partition(f.tp, s, st);
      }
    }
    return;
  }
  if (code == proto::to_int(ErrorCode::kOffsetOutOfRange)) {
    if (config_.auto_offset_reset == OffsetReset::kNone) {
      return fail_partition(f.tp, s,
                            kafka_error(code, "Fetch position " +
                                                  std::to_string(f.offset.value()) +
                                                  " is out of range for partition " +
                                                  f.tp.to_string()));
    }
    rt_.info("consumer", "fetch offset " + std::to_string(f.offset.value()) +
                             " is out of range for " + f.tp.to_string() + ", resetting");
    s.position.reset();
    s.reset = config_.auto_offset_reset;
    return;
  }
  if (NetworkClient::is_metadata_error(code) || proto::is_retriable(ErrorCode{code})) {
    net_.request_metadata_update();
    return retry_later(s);
  }
  fail_partition(f.tp, s, kafka_error(code, "fetching " + f.tp.to_string()));
}

Status Consumer::take_records(const TopicPartition& tp, PartitionState& s, ByteSpan records) {
  // One copy of the fetched bytes, which the records delivered from them share.
  std::shared_ptr<const Bytes> fetched;
  BatchSplitter splitter(records);
  while (auto one = splitter.next()) {
    auto header = parse_batch_header(*one);
    if (!header) return header.status();
    Offset position = *s.position;
    if (header->last() < position) continue;  // the whole batch was delivered before
    if (header->control()) {
      s.position = header->last() + 1;
      continue;
    }
    if (!fetched) fetched = std::make_shared<const Bytes>(records.begin(), records.end());
    ByteSpan batch = ByteSpan(*fetched).subspan(size_t(one->data() - records.data()), one->size());
    Bytes decompressed;
    if (Status st = decode_record_views(batch, decoded_, decompressed); !st) {
      return Status::corruption("batch at offset " + std::to_string(header->base_offset) +
                                " of " + tp.to_string() + ": " + st.message());
    }
    std::shared_ptr<const Bytes> storage = fetched;
    if (!decompressed.empty()) storage = std::make_shared<const Bytes>(std::move(decompressed));
    for (RecordView& r : decoded_) {
      Offset offset(header->base_offset + r.offset_delta);
      if (offset < position) continue;
      ConsumerRecord& cr = queue_.emplace_back();
      cr.topic = tp.topic;
      cr.partition = tp.partition;
      cr.offset = offset;
      cr.log_append_time = header->log_append_time();
      cr.timestamp_ms = cr.log_append_time ? header->max_timestamp
                                           : header->base_timestamp + r.timestamp_delta;
      cr.key = r.key;
      cr.value = r.value;
      cr.headers = std::move(r.headers);
      cr.storage = storage;
      stats_.bytes += (cr.key ? cr.key->size() : 0) + (cr.value ? cr.value->size() : 0);
      ++stats_.records;
    }
    s.position = header->last() + 1;
  }
  // A trailing partial batch is dropped: the next fetch starts at it. A malformed length is
  // corruption.
  if (splitter.tail() == BatchSplitter::Tail::kMalformed) return splitter.tail_status();
  return ok_status();
}

}  // namespace strata::client
