#include "sim/workload.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace strata::sim {
namespace {

constexpr Duration kProducerTick = std::chrono::milliseconds(1);

client::ClientOptions options_for(const std::string& id, std::vector<Endpoint> bootstrap) {
  client::ClientOptions o;
  o.bootstrap_servers = std::move(bootstrap);
  o.client_id = id;
  return o;
}

}  // namespace

ProducerWorkload::ProducerWorkload(SimNode& node, History& history, ProducerSpec spec,
                                   std::vector<Endpoint> bootstrap, int64_t first_seq)
    : node_(node), history_(history), spec_(std::move(spec)),
      client_name_(history_.intern(spec_.id)), topic_name_(history_.intern(spec_.topic)),
      first_seq_(first_seq), seq_(first_seq) {
  producer_ = std::make_unique<client::Producer>(node_, options_for(spec_.id, bootstrap),
                                                 spec_.config);
}

ProducerWorkload::~ProducerWorkload() {
  if (timer_.value() != 0 && node_.up()) node_.cancel(timer_);
}

void ProducerWorkload::start() {
  STRATA_ASSERT(!running_, "producer started twice");
  running_ = true;
  started_ = node_.now();
  timer_ = node_.schedule(kProducerTick, [this] { tick(); });
}

void ProducerWorkload::stop() {
  running_ = false;
  if (timer_.value() != 0) node_.cancel(timer_);
  timer_ = TimerId(0);
}

bool ProducerWorkload::drained() const { return producer_->pending_records() == 0; }

void ProducerWorkload::tick() {
  timer_ = TimerId(0);
  if (!running_) return;
  // Send exactly rate × elapsed records so far, whatever the tick granularity.
  double elapsed_s = double((node_.now() - started_).count()) / 1e9;
  auto due = first_seq_ + int64_t(std::floor(spec_.rate_per_s * elapsed_s));
  while (seq_ < due) send_one();
  timer_ = node_.schedule(kProducerTick, [this] { tick(); });
}

std::optional<uint64_t> ProducerWorkload::next_key() {
  switch (spec_.keys) {
    case KeyDistribution::kNone: return std::nullopt;
    case KeyDistribution::kUniform:
      return node_.random_below(uint64_t(spec_.key_cardinality));
    case KeyDistribution::kHot: {
      bool hot = double(node_.random_below(1'000'000)) < spec_.hot_fraction * 1e6;
      return hot ? 0 : 1 + node_.random_below(uint64_t(std::max(1, spec_.key_cardinality - 1)));
    }
  }
  return std::nullopt;
}

// "k<n>", as bytes for the record and interned for the history; cached per key number.
const ProducerWorkload::Key& ProducerWorkload::key(uint64_t n) {
  if (n >= keys_.size()) keys_.resize(size_t(n) + 1);
  Key& k = keys_[size_t(n)];
  if (k.bytes.empty()) {
    char text[24] = {'k'};
    auto [end, ec] = std::to_chars(text + 1, text + sizeof text, n);
    STRATA_ASSERT(ec == std::errc());
    k.bytes.assign(text, end);
    k.name = history_.intern(std::string_view(text, size_t(end - text)));
  }
  return k;
}

// "<producer>:<seq>|" padded with 'x' to record_size bytes, into `value`, whose memory the
// next record reuses: when it holds the previous value and `seq` has as many digits, only
// the digits are written. Sequences mostly go up by one: their digits are incremented.
void ProducerWorkload::fill_value(int64_t seq, Bytes& value) {
  Digits& d = digits_;
  size_t previous_count = d.count;  // the digits `value` holds, if it holds the last value
  bool carried_out = true;
  if (seq == d.seq + 1 && d.count > 0) {
    for (size_t i = d.count; i-- > 0;) {
      if (d.text[i] != '9') {
        ++d.text[i];
        carried_out = false;
        break;
      }
      d.text[i] = '0';
    }
  }
  if (carried_out) {  // a new number of digits, or not the next sequence
    auto [end, ec] = std::to_chars(d.text, d.text + sizeof d.text, seq);
    STRATA_ASSERT(ec == std::errc());
    d.count = size_t(end - d.text);
  }
  d.seq = seq;
  size_t prefix = spec_.id.size() + 1 + d.count + 1;
  size_t size = std::max(prefix, size_t(spec_.record_size));
  if (value.size() == size && d.count == previous_count) {
    std::memcpy(value.data() + spec_.id.size() + 1, d.text, d.count);
    return;
  }
  value.assign(size, uint8_t('x'));
  std::memcpy(value.data(), spec_.id.data(), spec_.id.size());
  uint8_t* at = value.data() + spec_.id.size();
  *at++ = ':';
  std::memcpy(at, d.text, d.count);
  at[d.count] = '|';
}

void ProducerWorkload::send_one() {
  int64_t seq = seq_++;
  ValueId id{client_name_, seq};
  client::ProducerRecord& rec = record_;  // reused: send() copies its bytes
  rec.topic = spec_.topic;
  NameId key_name = kNoName;
  if (auto n = next_key()) {
    const Key& k = key(*n);
    rec.key = k.bytes;
    key_name = k.name;
  } else {
    rec.key.reset();
  }
  if (!rec.value) rec.value.emplace();
  fill_value(seq, *rec.value);
  record(OpType::kSend, id, key_name, -1, -1, kNoName);
  track_key(seq, key_name);
  Status s = producer_->send(rec, [this, seq](const Result<client::RecordMetadata>& md) {
    NameId k = untrack_key(seq);
    if (md) {
      record(OpType::kAck, ValueId{client_name_, seq}, k, md->partition.value(),
             md->offset.value(), kNoName);
    } else {
      record(OpType::kSendError, ValueId{client_name_, seq}, k, -1, -1,
             history_.intern(md.status().to_string()));
    }
  });
  if (!s) {
    untrack_key(seq);
    record(OpType::kSendError, id, key_name, -1, -1, history_.intern(s.to_string()));
  }
}

void ProducerWorkload::record(OpType type, ValueId id, NameId key, int32_t partition,
                              int64_t offset, NameId error) {
  OpRecord op;
  op.t_ns = node_.now().ns;
  op.type = type;
  op.client = client_name_;
  op.topic = topic_name_;
  op.partition = partition;
  op.offset = offset;
  op.key = key;
  op.value = id;
  op.error = error;
  history_.add(op);
}

// Keys of the records in flight, so that a callback needs to capture only its sequence
// number (small enough for std::function to store without allocating).
void ProducerWorkload::track_key(int64_t seq, NameId key) {
  if (in_flight_keys_.empty()) first_in_flight_ = seq;
  STRATA_ASSERT(seq == first_in_flight_ + int64_t(in_flight_keys_.size()));
  in_flight_keys_.push_back(key);
}

NameId ProducerWorkload::untrack_key(int64_t seq) {
  size_t i = size_t(seq - first_in_flight_);
  STRATA_ASSERT(seq >= first_in_flight_ && i < in_flight_keys_.size());
  NameId key = in_flight_keys_[i];
  in_flight_keys_[i] = kDoneKey;
  while (!in_flight_keys_.empty() && in_flight_keys_.front() == kDoneKey) {
    in_flight_keys_.pop_front();
    ++first_in_flight_;
  }
  return key;
}

ConsumerWorkload::ConsumerWorkload(SimNode& node, History& history, ConsumerSpec spec,
                                   std::vector<Endpoint> bootstrap, int32_t topic_partitions)
    : node_(node), history_(history), spec_(std::move(spec)),
      topic_partitions_(topic_partitions), client_name_(history_.intern(spec_.id)),
      topic_name_(history_.intern(spec_.topic)) {
  consumer_ = std::make_unique<client::Consumer>(node_, options_for(spec_.id, bootstrap),
                                                 spec_.config);
}

ConsumerWorkload::~ConsumerWorkload() = default;

void ConsumerWorkload::start() {
  std::vector<client::TopicPartition> tps;
  std::vector<int32_t> parts = spec_.partitions;
  if (parts.empty()) {
    for (int32_t p = 0; p < topic_partitions_; ++p) parts.push_back(p);
  }
  for (int32_t p : parts) tps.push_back({spec_.topic, PartitionId(p)});
  consumer_->assign(tps);
  if (spec_.from_beginning) {
    consumer_->seek_to_beginning(tps);
  } else {
    consumer_->seek_to_end(tps);
  }
  consumer_->set_record_callback([this](const client::ConsumerRecord& r) { on_record(r); });
}

void ConsumerWorkload::stop() {
  consumer_->set_record_callback(nullptr);
  consumer_->assign({});
}

void ConsumerWorkload::on_record(const client::ConsumerRecord& r) {
  if (uint64_t total = consumer_->stats().offset_resets; total != resets_total_) {
    resets_total_ = total;
    for (PartitionResets& e : resets_) e.stale = true;
  }
  auto p = size_t(r.partition.value());
  if (p >= resets_.size()) resets_.resize(p + 1);
  PartitionResets& e = resets_[p];
  uint64_t resets = e.seen;
  if (e.stale) {
    e.stale = false;
    auto progress = consumer_->progress({r.topic, r.partition});
    resets = progress ? progress->offset_resets : 0;
  }
  NameId topic = r.topic == spec_.topic ? topic_name_ : history_.intern(r.topic);
  record_poll(history_, node_.now(), client_name_, topic, r, resets, e.seen);
  ++polled_;
}

void record_poll(History& history, MonoTime now, NameId client, NameId topic,
                 const client::ConsumerRecord& r, uint64_t resets, uint64_t& resets_seen) {
  OpRecord op;
  op.t_ns = now.ns;
  op.client = client;
  op.topic = topic;
  op.partition = r.partition.value();
  op.offset = r.offset.value();
  // A reset (auto.offset.reset after OFFSET_OUT_OF_RANGE) moves the position: record it as a
  // seek so that the checker does not mistake it for offsets going backwards. Counted per
  // partition: a reset of another partition says nothing about this one.
  if (resets != resets_seen) {
    resets_seen = resets;
    op.type = OpType::kSeek;
    op.error = history.intern("offset reset");
    history.add(op);
    op.error = kNoName;
  }
  op.type = OpType::kPoll;
  if (r.key) op.key = history.intern(as_chars(*r.key));
  if (r.value) op.value = history.value_id_of_value(as_chars(*r.value));
  history.add(op);
}

Status final_read(SimWorld& world, SimNode& node, History& history, const std::string& topic,
                  int32_t partitions, std::vector<Endpoint> bootstrap, Duration timeout) {
  client::ConsumerConfig cfg;
  cfg.auto_offset_reset = client::OffsetReset::kEarliest;
  cfg.fetch_max_wait_ms = 50;
  client::Consumer consumer(node, options_for("final-read", bootstrap), cfg);
  std::vector<client::TopicPartition> tps;
  for (int32_t p = 0; p < partitions; ++p) tps.push_back({topic, PartitionId(p)});
  consumer.assign(tps);
  consumer.seek_to_beginning(tps);
  // What the history needs of each record read, until the bounds are known.
  std::vector<OpRecord> reads;
  NameId final_name = history.intern("final");
  NameId topic_name = history.intern(topic);
  consumer.set_record_callback([&](const client::ConsumerRecord& r) {
    OpRecord& op = reads.emplace_back();
    op.type = OpType::kFinalRead;
    op.client = final_name;
    op.topic = topic_name;
    op.partition = r.partition.value();
    op.offset = r.offset.value();
    if (r.key) op.key = history.intern(as_chars(*r.key));
    if (r.value) op.value = history.value_id_of_value(as_chars(*r.value));
  });
  auto caught_up = [&] {
    for (const auto& tp : tps) {
      auto pr = consumer.progress(tp);
      if (!pr || !pr->position || pr->high_watermark < 0) return false;
      if (pr->position->value() < pr->high_watermark) return false;
    }
    return true;
  };
  MonoTime limit = world.now() + timeout;
  while (!caught_up() && world.now() < limit && world.step()) {
  }
  if (!caught_up()) return Status::timed_out("final read of " + topic + " did not catch up");
  for (const auto& tp : tps) {
    auto pr = consumer.progress(tp);
    Op b{world.now().ns, OpType::kFinalBounds, "final", topic, tp.partition.value(),
         pr->log_start_offset, "", "", ""};
    b.high_watermark = pr->high_watermark;
    history.add(b);
  }
  for (OpRecord& op : reads) {
    op.t_ns = world.now().ns;
    history.add(op);
  }
  consumer.assign({});
  return ok_status();
}

}  // namespace strata::sim
