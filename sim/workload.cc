#include "sim/workload.h"

#include <cmath>

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

std::string value_id_of(ByteSpan value) {
  std::string_view v = as_chars(value);
  size_t bar = v.find('|');
  return std::string(bar == std::string_view::npos ? v : v.substr(0, bar));
}

ProducerWorkload::ProducerWorkload(SimNode& node, History& history, ProducerSpec spec,
                                   std::vector<Endpoint> bootstrap)
    : node_(node), history_(history), spec_(std::move(spec)) {
  producer_ = std::make_unique<client::Producer>(node_, options_for(spec_.id, bootstrap),
                                                 spec_.config);
}

ProducerWorkload::~ProducerWorkload() {
  *alive_ = false;
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
  auto due = int64_t(std::floor(spec_.rate_per_s * elapsed_s));
  while (seq_ < due) send_one();
  timer_ = node_.schedule(kProducerTick, [this] { tick(); });
}

std::optional<Bytes> ProducerWorkload::next_key() {
  switch (spec_.keys) {
    case KeyDistribution::kNone: return std::nullopt;
    case KeyDistribution::kUniform: {
      std::string k = "k" + std::to_string(node_.random_below(uint64_t(spec_.key_cardinality)));
      return Bytes(k.begin(), k.end());
    }
    case KeyDistribution::kHot: {
      bool hot = double(node_.random_below(1'000'000)) < spec_.hot_fraction * 1e6;
      uint64_t n = hot ? 0 : 1 + node_.random_below(uint64_t(std::max(1, spec_.key_cardinality - 1)));
      std::string k = "k" + std::to_string(n);
      return Bytes(k.begin(), k.end());
    }
  }
  return std::nullopt;
}

void ProducerWorkload::send_one() {
  std::string id = spec_.id + ":" + std::to_string(seq_++);
  std::string value = id + "|";
  if (value.size() < size_t(spec_.record_size)) value.resize(size_t(spec_.record_size), 'x');
  client::ProducerRecord rec;
  rec.topic = spec_.topic;
  rec.key = next_key();
  rec.value = Bytes(value.begin(), value.end());
  std::string key = rec.key ? std::string(as_chars(*rec.key)) : std::string();
  history_.add({node_.now().ns, OpType::kSend, spec_.id, spec_.topic, -1, -1, key, id, ""});
  auto alive = alive_;
  Status s = producer_->send(std::move(rec), [this, alive, id, key](
                                                 Result<client::RecordMetadata> md) {
    if (!*alive) return;
    if (md) {
      history_.add({node_.now().ns, OpType::kAck, spec_.id, spec_.topic,
                    md->partition.value(), md->offset.value(), key, id, ""});
    } else {
      history_.add({node_.now().ns, OpType::kSendError, spec_.id, spec_.topic, -1, -1, key, id,
                    md.status().to_string()});
    }
  });
  if (!s) {
    history_.add({node_.now().ns, OpType::kSendError, spec_.id, spec_.topic, -1, -1, key, id,
                  s.to_string()});
  }
}

ConsumerWorkload::ConsumerWorkload(SimNode& node, History& history, ConsumerSpec spec,
                                   std::vector<Endpoint> bootstrap, int32_t topic_partitions)
    : node_(node), history_(history), spec_(std::move(spec)),
      topic_partitions_(topic_partitions) {
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
  consumer_->set_record_callback([this](client::ConsumerRecord r) { on_record(r); });
}

void ConsumerWorkload::stop() {
  consumer_->set_record_callback(nullptr);
  consumer_->assign({});
}

void ConsumerWorkload::on_record(const client::ConsumerRecord& r) {
  // A reset (auto.offset.reset after OFFSET_OUT_OF_RANGE) moves the position: record it as a
  // seek so that the checker does not mistake it for offsets going backwards.
  // Counted per partition: a reset of another partition says nothing about this one.
  auto progress = consumer_->progress({r.topic, r.partition});
  uint64_t resets = progress ? progress->offset_resets : 0;
  uint64_t& seen = resets_seen_[r.partition.value()];
  if (resets != seen) {
    seen = resets;
    history_.add({node_.now().ns, OpType::kSeek, spec_.id, r.topic, r.partition.value(),
                  r.offset.value(), "", "", "offset reset"});
  }
  ++polled_;
  std::string key = r.key ? std::string(as_chars(*r.key)) : std::string();
  std::string id = r.value ? value_id_of(*r.value) : std::string();
  history_.add({node_.now().ns, OpType::kPoll, spec_.id, r.topic, r.partition.value(),
                r.offset.value(), key, id, ""});
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
  std::vector<client::ConsumerRecord> records;
  consumer.set_record_callback([&](client::ConsumerRecord r) { records.push_back(std::move(r)); });
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
  for (const auto& r : records) {
    std::string id = r.value ? value_id_of(*r.value) : std::string();
    history.add({world.now().ns, OpType::kFinalRead, "final", topic, r.partition.value(),
                 r.offset.value(), "", id, ""});
  }
  consumer.assign({});
  return Status::ok();
}

}  // namespace strata::sim
