// Workloads: producers and consumers that run our own client (engine/client) on simulated
// nodes, exactly as the CLI runs it on real sockets, and write every operation to the
// History for the checker.
//
// Record values are "<producer id>:<sequence>" then '|' and padding up to record_size bytes,
// so every record is unique and the checker can name it. Keys follow a distribution.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/fifo.h"
#include "engine/client/consumer.h"
#include "engine/client/group_consumer.h"
#include "engine/client/producer.h"
#include "sim/history.h"
#include "sim/sim_node.h"

namespace strata::sim {

enum class KeyDistribution { kNone, kUniform, kHot };

struct ProducerSpec {
  std::string id = "p1";
  std::string topic;
  double rate_per_s = 100;
  KeyDistribution keys = KeyDistribution::kUniform;
  int32_t key_cardinality = 100;
  double hot_fraction = 0.9;  // kHot: this share of records uses key "k0"
  int32_t record_size = 100;
  Duration start{0};
  std::optional<Duration> stop;  // default: until the run's workload end
  client::ProducerConfig config;  // acks, retries, linger, compression, in-flight, timeouts
};

// How a group member commits: Kafka's auto-commit (enable.auto.commit), a synchronous
// commit of each batch's offsets before the next poll(), or never.
enum class CommitMode { kAuto, kBatch, kNone };

struct ConsumerSpec {
  std::string id = "c1";
  std::string topic;
  std::vector<int32_t> partitions;  // empty: all partitions of the topic
  bool from_beginning = true;
  Duration start{0};
  std::optional<Duration> stop;
  client::ConsumerConfig config;  // auto_offset_reset, fetch sizes and waits

  // Group members (`group` set) subscribe to `topic` and share its partitions through the
  // coordinator (sim/group_workload.h); `partitions` and `from_beginning` do not apply.
  std::string group;
  client::GroupConsumerConfig group_config;  // group_id = group; consumer = config at start
  CommitMode commit = CommitMode::kAuto;
  Duration poll_interval = std::chrono::milliseconds(50);  // the application's loop
  int32_t max_poll_records = 500;
  bool is_group_member() const { return !group.empty(); }
};

// One producer on its node. Lifetime: create after the node is up; destroy before the node
// crashes or when the run ends.
class ProducerWorkload {
 public:
  // `first_seq`: the sequence of the first record, so that a producer restarted after a
  // crash (crash_client) goes on where its previous process stopped and values stay unique.
  ProducerWorkload(SimNode& node, History& history, ProducerSpec spec,
                   std::vector<Endpoint> bootstrap, int64_t first_seq = 0);
  ~ProducerWorkload();
  void start();
  void stop();  // stops sending new records; in-flight ones may still complete
  bool drained() const;
  const ProducerSpec& spec() const { return spec_; }
  int64_t sent() const { return seq_; }
  const client::ProducerStats& client_stats() const { return producer_->stats(); }

 private:
  struct Key {
    Bytes bytes;  // "k<n>"
    NameId name = kNoName;
  };
  static constexpr NameId kDoneKey = UINT32_MAX;

  void tick();
  void send_one();
  std::optional<uint64_t> next_key();
  const Key& key(uint64_t n);
  void fill_value(int64_t seq, Bytes& value);
  void record(OpType type, ValueId id, NameId key, int32_t partition, int64_t offset,
              NameId error);
  void track_key(int64_t seq, NameId key);
  NameId untrack_key(int64_t seq);

  SimNode& node_;
  History& history_;
  ProducerSpec spec_;
  NameId client_name_;
  NameId topic_name_;
  MonoTime started_;
  int64_t first_seq_ = 0;
  int64_t seq_ = 0;
  bool running_ = false;
  TimerId timer_{0};
  std::vector<Key> keys_;  // by key number, filled as keys are first used
  Fifo<NameId> in_flight_keys_;  // key of record first_in_flight_ + i, or kDoneKey
  int64_t first_in_flight_ = 0;
  client::ProducerRecord record_;  // send_one()'s, reused for its buffers
  struct Digits {  // the decimal text of the last sequence filled into record_'s value
    char text[24] = {};
    size_t count = 0;
    int64_t seq = -2;
  };
  Digits digits_;
  // Declared last, destroyed first: its callbacks point into this object (and are dropped
  // unrun when it is destroyed).
  std::unique_ptr<client::Producer> producer_;
};

class ConsumerWorkload {
 public:
  ConsumerWorkload(SimNode& node, History& history, ConsumerSpec spec,
                   std::vector<Endpoint> bootstrap, int32_t topic_partitions);
  ~ConsumerWorkload();
  void start();
  void stop();
  int64_t polled() const { return polled_; }

 private:
  void on_record(const client::ConsumerRecord& r);

  SimNode& node_;
  History& history_;
  ConsumerSpec spec_;
  int32_t topic_partitions_;
  NameId client_name_;
  NameId topic_name_;
  std::unique_ptr<client::Consumer> consumer_;
  struct PartitionResets {
    uint64_t seen = 0;  // the partition's auto.offset.reset count as last recorded
    // Look its count up again: no record of it seen yet, or the consumer's total moved.
    bool stale = true;
  };
  std::vector<PartitionResets> resets_;  // by partition
  // The consumer's reset count when every partition's was last looked at; while it stands,
  // no partition has a new reset and a record needs no progress() lookup.
  uint64_t resets_total_ = 0;
  int64_t polled_ = 0;
};

// After a run: reads every partition of `topic` from its log start to its high watermark
// through a fresh consumer on `node`, recording kFinalBounds and kFinalRead. Drives the
// world until done or `timeout` of simulated time passes.
Status final_read(SimWorld& world, SimNode& node, History& history, const std::string& topic,
                  int32_t partitions, std::vector<Endpoint> bootstrap, Duration timeout);

// Appends a consumer's poll of `r` to the history, preceded by a kSeek ("offset reset") when
// the partition's count of auto.offset.reset moves (`resets`) differs from `resets_seen`,
// the caller's count for that partition, which this updates.
void record_poll(History& history, MonoTime now, NameId client, NameId topic,
                 const client::ConsumerRecord& r, uint64_t resets, uint64_t& resets_seen);

}  // namespace strata::sim
