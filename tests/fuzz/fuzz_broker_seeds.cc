// Writes the seed corpus of the fuzz_broker target (format: fuzz_broker_input.h):
//
//   fuzz_broker_seeds FUZZ_REQUEST_CORPUS OUT_DIR
//   e.g. build-fuzz/tests/fuzz/fuzz_broker_seeds tests/fuzz/corpus/fuzz_request \
//            tests/fuzz/corpus/fuzz_broker
//
// Two kinds of seed, so that the fuzzer starts from conversations the broker takes seriously:
//  - replays: request frames real clients sent (captured by make_corpus.py into the
//    fuzz_request corpus), a few per seed behind a CreateTopics for the topics they use;
//  - scenarios written here with the protocol encoders, for what the captures lack: consumer
//    groups from the first JoinGroup to DeleteGroups, idempotent producers and their
//    retries, acks=0, long-poll fetches woken by a produce, topic configs that roll and
//    delete segments, admin requests of every version (config changes at runtime and
//    DeleteRecords too), and the inputs of bugs found while fuzzing (extreme timestamps,
//    reserved topic names). Not the 32 KiB strings of another: one such seed makes libFuzzer
//    try inputs that long everywhere, at a fraction of the speed (tests/broker covers that
//    bug).
// Output is deterministic; OUT_DIR's old seeds are removed first.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "engine/protocol/framing.h"
#include "engine/protocol/messages.h"
#include "engine/protocol/record_batch.h"
#include "tests/fuzz/fuzz_broker_input.h"

using namespace strata;
namespace fb = strata::fuzz_broker;
namespace fs = std::filesystem;

namespace {

// Builds one seed: steps of encoded requests, pauses and reconnects.
class Script {
 public:
  template <class Msg>
  Script& send(const Msg& msg, int16_t version, uint8_t control = fb::control(0)) {
    proto::RequestHeader h{Msg::kApiKey, version, next_correlation_++, "seed"};
    Bytes frame;
    proto::append_request_unframed(frame, h, msg);
    return raw(control, frame);
  }
  Script& raw(uint8_t control, ByteSpan frame) {
    fb::append_step(input_, control, frame);
    return *this;
  }
  // Lets kAdvance[advance] of virtual time pass.
  Script& pause(int advance) { return raw(fb::control(0, advance), {}); }
  const Bytes& bytes() const { return input_; }

 private:
  Bytes input_;
  int32_t next_correlation_ = 1;
};

Bytes batch(int records, const BatchBuilderOptions& options = {}, int64_t timestamp_ms = 0) {
  RecordBatchBuilder b(options);
  for (int i = 0; i < records; ++i) {
    std::string key = "k" + std::to_string(i);
    std::string value = "value " + std::to_string(i);
    b.add(timestamp_ms == 0 ? 1'700'000'000'000 + i : timestamp_ms, as_bytes(key), as_bytes(value));
  }
  return *b.build();
}

BatchBuilderOptions idempotent(int64_t pid, int16_t epoch, int32_t sequence) {
  BatchBuilderOptions o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = sequence;
  return o;
}

proto::CreateTopicsRequest create(const std::string& name, int32_t partitions,
                                  std::vector<std::pair<std::string, std::string>> configs = {}) {
  proto::CreateTopicsRequest req;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = 1;
  for (auto& [k, v] : configs) t.configs.push_back({k, v});
  return req;
}

proto::ProduceRequest produce(const std::string& topic, int32_t partition, const Bytes& records,
                              int16_t acks = -1) {
  proto::ProduceRequest req;
  req.transactional_id = std::nullopt;
  req.acks = acks;
  req.timeout_ms = 1000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  t.partition_data.push_back({partition, ByteSpan(records)});
  return req;
}

proto::FetchRequest fetch(const std::string& topic, int32_t partition, int64_t offset,
                          int32_t max_wait_ms = 0) {
  proto::FetchRequest req;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = 1;
  req.max_bytes = 1 << 20;
  auto& t = req.topics.emplace_back();
  t.topic = topic;
  auto& p = t.partitions.emplace_back();
  p.partition = partition;
  p.fetch_offset = offset;
  p.partition_max_bytes = 1 << 20;
  return req;
}

proto::ListOffsetsRequest list_offsets(const std::string& topic, int64_t timestamp) {
  proto::ListOffsetsRequest req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  t.partitions.push_back({0, -1, timestamp});
  return req;
}

proto::JoinGroupRequest join(const std::string& group, const std::string& member_id,
                             std::optional<std::string> instance = std::nullopt) {
  proto::JoinGroupRequest req;
  req.group_id = group;
  req.session_timeout_ms = 10000;
  req.rebalance_timeout_ms = 5000;
  req.member_id = member_id;
  req.group_instance_id = std::move(instance);
  req.protocol_type = "consumer";
  req.protocols.push_back({"range", Bytes{0, 1, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 0}});
  req.protocols.push_back({"roundrobin", Bytes{0, 1, 0, 0, 0, 0, 0, 0, 0, 0}});
  return req;
}

// The member id a placeholder stands for: the client id "seed" (or the instance id of a
// static member), a dash, and the uuid of the d-th newest member id.
std::string member(int d, const std::string& prefix = "seed") {
  return prefix + "-" + fb::member_uuid(d);
}

proto::SyncGroupRequest sync(const std::string& group, int32_t generation,
                             const std::string& member_id,
                             const std::vector<std::string>& assign_to = {}) {
  proto::SyncGroupRequest req;
  req.group_id = group;
  req.generation_id = generation;
  req.member_id = member_id;
  for (const auto& m : assign_to) req.assignments.push_back({m, Bytes{0, 0, 0, 0, 0, 1}});
  return req;
}

proto::HeartbeatRequest heartbeat(const std::string& group, int32_t generation,
                                  const std::string& member_id) {
  proto::HeartbeatRequest req;
  req.group_id = group;
  req.generation_id = generation;
  req.member_id = member_id;
  return req;
}

proto::OffsetCommitRequest commit(const std::string& group, int32_t generation,
                                  const std::string& member_id, const std::string& topic,
                                  int64_t offset) {
  proto::OffsetCommitRequest req;
  req.group_id = group;
  req.generation_id = generation;
  req.member_id = member_id;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  t.partitions.push_back({0, offset, -1, -1, std::string("meta")});
  return req;
}

proto::OffsetFetchRequest offset_fetch(const std::string& group, const std::string& topic) {
  proto::OffsetFetchRequest req;
  req.group_id = group;
  req.topics->push_back({topic, {0, 1}});
  return req;
}

proto::DescribeConfigsRequest describe_configs(int8_t type, const std::string& name) {
  proto::DescribeConfigsRequest req;
  req.resources.push_back({type, name, std::nullopt});
  req.include_synonyms = true;
  return req;
}

// Produce, fetch and list offsets on a topic of three partitions.
Script produce_fetch() {
  Script s;
  s.send(proto::ApiVersionsRequest{}, 3).send(create("t", 3), 4);
  Bytes one = batch(5), two = batch(3);
  s.send(produce("t", 0, one), 7).send(produce("t", 1, two, 1), 3).send(produce("t", 0, two), 7);
  s.send(fetch("t", 0, 0), 11).send(fetch("t", 0, 5), 4).send(fetch("t", 2, 0), 11);
  s.send(list_offsets("t", -1), 5).send(list_offsets("t", -2), 1);
  s.send(list_offsets("t", 1'700'000'000'002), 5);
  proto::MetadataRequest m;
  m.topics->push_back({"t"});
  return s.send(m, 8);
}

// Every codec, then a fetch of what they wrote.
Script codecs() {
  Script s;
  s.send(create("z", 1), 2);
  for (Codec c : {Codec::kGzip, Codec::kSnappy, Codec::kLz4, Codec::kZstd}) {
    BatchBuilderOptions o;
    o.codec = c;
    Bytes b = batch(20, o);
    s.send(produce("z", 0, b), 7);
  }
  return s.send(fetch("z", 0, 0), 11).send(fetch("z", 0, 45), 11);
}

// An idempotent producer: in-order batches, a retried duplicate, a gap, a new epoch, and a
// batch from an unknown producer id; then a restart-like second producer id.
Script idempotence() {
  Script s;
  proto::InitProducerIdRequest init;
  init.transactional_id = std::nullopt;
  s.send(create("i", 1), 4).send(init, 4).send(init, 0);
  Bytes b0 = batch(5, idempotent(0, 0, 0)), b1 = batch(5, idempotent(0, 0, 5));
  Bytes gap = batch(2, idempotent(0, 0, 20)), epoch1 = batch(2, idempotent(0, 1, 0));
  Bytes stale = batch(2, idempotent(0, 0, 10)), other = batch(1, idempotent(1, 0, 7));
  s.send(produce("i", 0, b0), 7).send(produce("i", 0, b1), 7).send(produce("i", 0, b0), 7);
  s.send(produce("i", 0, gap), 7).send(produce("i", 0, epoch1), 7).send(produce("i", 0, stale), 7);
  s.send(produce("i", 0, other), 7, fb::control(1));
  return s.send(fetch("i", 0, 0), 11);
}

// acks=0: a good produce gets no answer; a bad one closes the connection, and the next
// request opens a new one.
Script acks_zero() {
  Script s;
  Bytes b = batch(3);
  s.send(create("a", 1), 4).send(produce("a", 0, b, 0), 7).send(produce("nope", 0, b, 0), 7);
  s.send(produce("a", 0, b, 0), 3).send(produce("a", 0, b, 5), 7);
  return s.send(list_offsets("a", -1), 5);
}

// A long-poll fetch on connection 1 woken by a produce on connection 0.
Script long_poll() {
  Script s;
  Bytes b = batch(4);
  s.send(create("w", 2), 4);
  s.send(fetch("w", 0, 0, 5000), 11, fb::control(1, 0, fb::kPipeline));
  s.send(fetch("w", 1, 0, 500), 11, fb::control(2, 0, fb::kPipeline));
  s.send(produce("w", 0, b), 7, fb::control(0, 2));
  return s.pause(4);
}

// One consumer through a whole group life: KIP-394 member id, join, sync, heartbeat,
// commit, fetch the commit, describe, list, leave, delete.
Script group_lifecycle() {
  Script s;
  proto::FindCoordinatorRequest fc;
  fc.key = "g";
  s.send(create("t", 2), 4).send(fc, 2).send(join("g", ""), 5).send(join("g", member(0)), 5);
  s.pause(5);
  s.send(sync("g", 1, member(0), {member(0)}), 3).send(heartbeat("g", 1, member(0)), 3);
  s.send(commit("g", 1, member(0), "t", 7), 7).send(offset_fetch("g", "t"), 5);
  proto::DescribeGroupsRequest dg;
  dg.groups = {"g", "missing"};
  s.send(dg, 4).send(proto::ListGroupsRequest{}, 2);
  proto::LeaveGroupRequest leave;
  leave.group_id = "g";
  leave.members.push_back({member(0), std::nullopt});
  s.send(leave, 3);
  proto::DeleteGroupsRequest del;
  del.groups_names = {"g", "missing"};
  return s.send(del, 1).send(dg, 0);
}

// Two members on two connections; the leader assigns, the follower syncs, then the follower
// leaves (v0 LeaveGroup) and the leader's heartbeat sees the rebalance.
Script group_two_members() {
  Script s;
  s.send(join("g2", ""), 4, fb::control(0)).send(join("g2", ""), 4, fb::control(1));
  // member(1) joined first (connection 0), member(0) second (connection 1).
  s.send(join("g2", member(1)), 4, fb::control(0, 0, fb::kPipeline));
  s.send(join("g2", member(0)), 4, fb::control(1));
  s.pause(5);
  s.send(sync("g2", 1, member(1), {member(1), member(0)}), 2, fb::control(0, 0, fb::kPipeline));
  s.send(sync("g2", 1, member(0)), 2, fb::control(1));
  proto::LeaveGroupRequest leave;
  leave.group_id = "g2";
  leave.member_id = member(0);
  s.send(leave, 1, fb::control(1)).send(heartbeat("g2", 1, member(1)), 1);
  return s.send(join("g2", member(1)), 4, fb::control(0, 0)).pause(4);
}

// Old clients: JoinGroup v0 hands out the member id with the join; a static member (v5)
// comes back with a new id and fences the old one.
Script group_old_and_static() {
  Script s;
  s.send(join("g0", ""), 0).pause(5).send(sync("g0", 1, member(0), {member(0)}), 0);
  s.send(heartbeat("g0", 1, member(0)), 0).send(commit("g0", 1, member(0), "t", 3), 2);
  s.send(join("gs", "", "inst"), 5, fb::control(1)).pause(5);
  s.send(sync("gs", 1, member(0, "inst"), {member(0, "inst")}), 3, fb::control(1));
  s.send(join("gs", "", "inst"), 5, fb::control(2));
  s.send(heartbeat("gs", 1, member(1, "inst")), 3, fb::control(1));
  return s.send(heartbeat("gs", 1, member(0, "inst")), 3, fb::control(2));
}

// Offsets outside group management: generation -1, no member, old versions.
Script simple_commits() {
  Script s;
  s.send(create("c", 1), 0);
  for (int16_t v : {0, 1, 2, 5, 7}) s.send(commit("sc", -1, "", "c", 10 + v), v);
  proto::OffsetFetchRequest all;
  all.group_id = "sc";
  all.topics = std::nullopt;
  return s.send(offset_fetch("sc", "c"), 1).send(all, 5).send(offset_fetch("none", "c"), 0);
}

// Topic administration with configs, good and bad, in several versions.
Script admin() {
  Script s;
  s.send(create("cfg", 2, {{"cleanup.policy", "compact"}, {"retention.ms", "60000"}}), 4);
  s.send(create("bad", 1, {{"segment.bytes", "1"}}), 1).send(create("bad2", 1, {{"x.y", "1"}}), 4);
  s.send(create("bad3", 0), 0).send(create("a..b/c", 1), 3);
  auto dup = create("d1", 1);
  dup.topics.push_back(dup.topics.front());
  dup.validate_only = true;
  s.send(dup, 4);
  proto::CreatePartitionsRequest cp;
  cp.topics.push_back({"cfg", 4, std::nullopt});
  cp.topics.push_back({"cfg", 3, std::nullopt});
  s.send(cp, 1);
  s.send(describe_configs(2, "cfg"), 2).send(describe_configs(4, "0"), 1);
  s.send(describe_configs(2, "nope"), 0);
  proto::DeleteTopicsRequest dt;
  dt.topic_names = {"cfg", "nope"};
  s.send(dt, 3);
  proto::MetadataRequest m;
  m.topics->push_back({"auto-created"});
  return s.send(m, 4).send(proto::MetadataRequest{}, 0);
}

// Changing configs of a running topic and deleting records: AlterConfigs,
// IncrementalAlterConfigs (every operation) and DeleteRecords, good and bad, between produces
// and fetches.
Script alter_and_delete() {
  Script s;
  s.send(create("ad", 2, {{"segment.bytes", "300"}}), 4);
  for (int i = 0; i < 4; ++i) s.send(produce("ad", i % 2, batch(4)), 7);
  proto::AlterConfigsRequest ac;
  ac.resources.push_back({2, "ad", {{"retention.bytes", "600"}, {"max.message.bytes", "500"}}});
  ac.resources.push_back({4, "0", {{"log.retention.ms", "1"}}});
  s.send(ac, 0).send(ac, 2);
  proto::IncrementalAlterConfigsRequest iac;
  iac.resources.push_back({2, "ad",
                           {{"cleanup.policy", 2, std::string("compact")},
                            {"retention.ms", 0, std::string("100")},
                            {"max.message.bytes", 1, std::nullopt}}});
  iac.resources.push_back({2, "nope", {{"retention.ms", 0, std::string("1")}}});
  s.send(iac, 0);
  iac.resources[0].configs[0].config_operation = 3;  // subtract what was appended
  s.send(iac, 1);
  proto::DeleteRecordsRequest dr;
  dr.topics.push_back({"ad", {{0, 3}, {1, -1}, {7, 0}}});
  dr.topics.push_back({"nope", {{0, 0}}});
  s.send(dr, 0).send(dr, 2);
  return s.send(produce("ad", 0, batch(2)), 7).send(fetch("ad", 0, 0), 11);
}

// Small segments, time-based roll, retention and flush: a produce, a roll, deletions.
Script segments() {
  Script s;
  s.send(create("r", 1,
                {{"segment.bytes", "200"},
                 {"retention.bytes", "300"},
                 {"segment.ms", "1000"},
                 {"flush.messages", "1"}}),
         4);
  s.send(create("lat", 1, {{"message.timestamp.type", "LogAppendTime"}, {"retention.ms", "10"}}),
         4);
  for (int i = 0; i < 4; ++i) {
    Bytes b = batch(3, {}, 1'000 + i);
    s.send(produce("r", 0, b), 7).send(produce("lat", 0, b), 7);
  }
  s.pause(6).send(list_offsets("r", -2), 5).send(fetch("r", 0, 0), 11);
  return s.send(fetch("lat", 0, 0), 11).send(list_offsets("lat", 0), 5);
}

bool contains_separator(const Bytes& frame) {
  return std::search(frame.begin(), frame.end(), fb::kStepSeparator.begin(),
                     fb::kStepSeparator.end()) != frame.end();
}

// Timestamps at the ends of int64: an idempotent producer whose last batch claims the
// earliest one (then idle-producer expiry runs), and records whose base timestamp plus delta
// passes INT64_MAX (then ListOffsets searches them). The second batch's header is edited, so
// its step asks for the CRC to be fixed.
Script extreme_timestamps() {
  Script s;
  s.send(create("ts", 1), 4);
  RecordBatchBuilder early({.producer_id = 3, .producer_epoch = 0, .base_sequence = 0});
  early.add(INT64_MIN, std::nullopt, as_bytes("early"));
  Bytes b1 = *early.build();
  RecordBatchBuilder late;
  late.add(1'700'000'000'000, std::nullopt, as_bytes("a"));
  late.add(1'700'000'000'010, std::nullopt, as_bytes("b"));
  Bytes b2 = *late.build();
  store_be64(&b2[batch_format::kBaseTimestampAt], uint64_t(INT64_MAX - 5));
  store_be64(&b2[batch_format::kMaxTimestampAt], uint64_t(INT64_MAX));
  s.send(produce("ts", 0, b1), 7).send(produce("ts", 0, b2), 7, fb::control(0, 0, fb::kFixCrcs));
  for (int64_t t : {INT64_MAX - 4, INT64_MIN, int64_t(-3), int64_t(0)}) {
    s.send(list_offsets("ts", t), 5);
  }
  return s.pause(6).send(produce("ts", 0, b1), 7).send(fetch("ts", 0, 0), 11);
}

// Names the broker keeps for itself: the metadata log's, the group coordinator's topic made
// by a client first, then used by a group.
Script reserved_names() {
  Script s;
  Bytes b = batch(1);
  s.send(create("__cluster_metadata", 1), 4).send(create("__consumer_offsets", 1), 4);
  proto::MetadataRequest m;
  m.topics->push_back({"__cluster_metadata"});
  s.send(m, 4).send(produce("__cluster_metadata", 0, b), 7);
  s.send(produce("__consumer_offsets", 0, b), 7);
  s.send(join("g", ""), 0).pause(5).send(commit("g", 1, member(0), "t", 1), 2);
  proto::DeleteTopicsRequest dt;
  dt.topic_names = {"__cluster_metadata", "__consumer_offsets"};
  return s.send(dt, 3).send(commit("g", 1, member(0), "t", 2), 2).send(offset_fetch("g", "t"), 1);
}

// The request frames real clients sent (files named k<key>-v<version>-<digest>), taken from
// each API in turn — a Produce, a Fetch, a ListOffsets, a Metadata, … — so that neighbours
// in the list are different requests on the same topics.
std::vector<Bytes> captured_frames(const fs::path& dir) {
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().rfind("k", 0) == 0) paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  std::map<std::string, std::vector<Bytes>> by_key;
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    Bytes frame{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!contains_separator(frame)) by_key[p.filename().string().substr(0, 3)].push_back(frame);
  }
  std::vector<Bytes> frames;
  for (size_t round = 0;; ++round) {
    size_t taken = 0;
    for (auto& [key, list] : by_key) {
      if (round < list.size()) {
        frames.push_back(list[round]);
        ++taken;
      }
    }
    if (taken == 0) return frames;
  }
}

// The topics make_corpus.py's clients produce to and read.
Script replay_preamble() {
  proto::CreateTopicsRequest req;
  for (const char* name : {"corpus", "kp", "kcat-gzip", "kcat-snappy", "kcat-lz4", "kcat-zstd"}) {
    req.topics.push_back(create(name, 1).topics.front());
  }
  req.topics.push_back(create("ck", 2).topics.front());
  Script s;
  s.send(req, 4);
  return s;
}

void write(const fs::path& dir, const std::string& name, const Bytes& data) {
  std::ofstream out(dir / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s FUZZ_REQUEST_CORPUS OUT_DIR\n", argv[0]);
    return 2;
  }
  fs::path out(argv[2]);
  fs::remove_all(out);
  fs::create_directories(out);
  const std::pair<const char*, Script (*)()> scenarios[] = {
      {"produce-fetch", produce_fetch},
      {"codecs", codecs},
      {"idempotence", idempotence},
      {"acks-zero", acks_zero},
      {"long-poll", long_poll},
      {"group-lifecycle", group_lifecycle},
      {"group-two-members", group_two_members},
      {"group-old-and-static", group_old_and_static},
      {"simple-commits", simple_commits},
      {"admin", admin},
      {"alter-and-delete", alter_and_delete},
      {"segments", segments},
      {"extreme-timestamps", extreme_timestamps},
      {"reserved-names", reserved_names},
  };
  for (const auto& [name, make] : scenarios) {
    write(out, std::string("scenario-") + name, make().bytes());
  }

  // Replays: the captured frames three at a time, spread over the three connections.
  constexpr size_t kFramesPerReplay = 3;
  std::vector<Bytes> frames = captured_frames(argv[1]);
  size_t replays = 0;
  for (size_t i = 0; i < frames.size(); i += kFramesPerReplay) {
    Script s = replay_preamble();
    for (size_t j = i; j < std::min(frames.size(), i + kFramesPerReplay); ++j) {
      s.raw(fb::control(int(j % fb::kConnections)), frames[j]);
    }
    char name[32];
    std::snprintf(name, sizeof name, "replay-%02zu", replays++);
    write(out, name, s.bytes());
  }
  std::printf("%zu scenarios and %zu replays of %zu captured frames -> %s\n", std::size(scenarios),
              replays, frames.size(), out.c_str());
  return 0;
}
