// The broker's log cleaner over a real loopback connection: a compacted topic keeps the latest
// record of every key, drops tombstones after delete.retention.ms, refuses keyless records,
// and __consumer_offsets compacts without losing a committed offset across a restart.
#include <map>

#include "engine/group/offsets_codec.h"
#include "tests/broker/broker_harness.h"

using namespace strata;
using namespace strata::testing;
using proto::ErrorCode;

namespace {

using Client = WireClient<PosixRuntime>;

struct Fetched {
  int64_t offset;
  std::string key;
  std::optional<std::string> value;
};

std::string text(const std::optional<Bytes>& b) {
  return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string();
}

// Every record from `from` to the high watermark, in offset order.
std::vector<Fetched> fetch_all(Client& c, const std::string& topic, int64_t from = 0) {
  std::vector<Fetched> out;
  for (int64_t next = from;;) {
    c.send(fetch_request(topic, 0, next, 0), 11);
    auto resp = c.receive<proto::FetchResponse>(11);
    const auto& pd = resp.responses.at(0).partitions.at(0);
    REQUIRE(pd.error_code == 0);
    if (next >= pd.high_watermark || !pd.records || pd.records->empty()) break;
    BatchSplitter batches(*pd.records);
    while (auto batch = batches.next()) {
      auto h = parse_batch_header(*batch);
      REQUIRE(h);
      auto records = decode_records(*batch);
      REQUIRE(records);
      for (const Record& r : *records) {
        int64_t offset = h->base_offset + r.offset_delta;
        if (offset < next) continue;
        std::optional<std::string> value;
        if (r.value) value = text(r.value);
        out.push_back({offset, text(r.key), value});
      }
      next = h->base_offset + h->last_offset_delta + 1;
    }
  }
  return out;
}

Bytes keyed_batch(const std::vector<std::pair<std::string, std::optional<std::string>>>& kvs,
                  int64_t timestamp) {
  RecordBatchBuilder b;
  for (const auto& [k, v] : kvs) {
    std::optional<ByteSpan> value;
    if (v) value = as_bytes(*v);
    b.add(timestamp, as_bytes(k), value);
  }
  auto built = b.build();
  REQUIRE(built);
  return *built;
}

int16_t produce(Client& c, const std::string& topic, const Bytes& batch) {
  c.send(produce_request(topic, 0, batch), 7);
  return c.receive<proto::ProduceResponse>(7).responses.at(0).partition_responses.at(0).error_code;
}

void create_compacted(Client& c, const std::string& name,
                      std::vector<std::pair<std::string, std::string>> configs) {
  auto req = create_topic_request(name, 1);
  req.topics[0].configs.push_back({"cleanup.policy", std::string("compact")});
  for (auto& [k, v] : configs) req.topics[0].configs.push_back({k, v});
  c.send(req, 4);
  auto resp = c.receive<proto::CreateTopicsResponse>(4);
  INFO(resp.topics.at(0).error_message.value_or(""));
  REQUIRE(resp.topics.at(0).error_code == 0);
}

int64_t now_ms(PosixRuntime& rt) {
  return rt.wall_clock_ms();
}

// The tests write with the cleaner off, so that what they measure before cleaning does not
// depend on how fast the writes run (sanitizer builds are slow); this restarts the broker
// with it on (its timer every 20 ms).
void restart_with_cleaner(BrokerFixture& f) {
  f.config.log_cleaner_enable = true;
  f.config.log_cleaner_backoff_ms = 20;
  f.restart();
}

}  // namespace

TEST_CASE("a compacted topic keeps the latest record of every key, across a restart") {
  BrokerFixture f;
  f.config.log_cleaner_enable = false;
  f.restart();
  Client c0(*f.rt, f.endpoint());
  create_compacted(c0, "c", {{"segment.bytes", "300"}, {"min.cleanable.dirty.ratio", "0.01"}});

  // Five keys, each written eight times; the value says which round wrote it.
  for (int round = 0; round < 8; ++round) {
    std::vector<std::pair<std::string, std::optional<std::string>>> kvs;
    for (int k = 0; k < 5; ++k) {
      kvs.emplace_back("k" + std::to_string(k), "r" + std::to_string(round));
    }
    REQUIRE(produce(c0, "c", keyed_batch(kvs, now_ms(*f.rt))) == 0);
  }
  REQUIRE(f.broker->topics().find("c", 0)->log->segments().size() > 3);
  std::vector<Fetched> before = fetch_all(c0, "c");
  REQUIRE(before.size() == 40);

  // The cleaner runs on the broker's own timer; everything below the active segment gets
  // cleaned.
  restart_with_cleaner(f);
  Client c(*f.rt, f.endpoint());
  PartitionLog& log = *f.broker->topics().find("c", 0)->log;
  REQUIRE(f.rt->run_until([&] { return log.cleaner_point() == log.segments().back().base_offset; },
                          std::chrono::seconds(10)));
  Offset active = log.segments().back().base_offset;
  auto check = [&](const std::vector<Fetched>& after) {
    std::map<std::string, std::string> latest;
    std::map<std::string, int> below_active;
    int64_t last_offset = -1;
    for (const Fetched& r : after) {
      CHECK(r.offset > last_offset);
      last_offset = r.offset;
      latest[r.key] = r.value.value_or("");
      if (r.offset < active.value()) ++below_active[r.key];
    }
    CHECK(last_offset == 39);
    CHECK(latest.size() == 5);
    for (const auto& [k, v] : latest) CHECK(v == "r7");
    // Below the active segment, a key appears at most once (its latest record there).
    for (const auto& [k, n] : below_active) CHECK(n == 1);
    CHECK(after.size() < before.size());
  };
  std::vector<Fetched> after = fetch_all(c, "c");
  check(after);
  size_t segments_after = log.segments().size();

  // A consumer part-way through (at an offset the cleaner removed) reads on from the next
  // record that is left.
  std::vector<Fetched> from_middle = fetch_all(c, "c", 12);
  REQUIRE(!from_middle.empty());
  CHECK(from_middle.front().offset >= 12);
  CHECK(from_middle.back().offset == 39);

  f.restart();
  Client c2(*f.rt, f.endpoint());
  std::vector<Fetched> reopened = fetch_all(c2, "c");
  check(reopened);
  CHECK(reopened.size() == after.size());
  CHECK(f.broker->topics().find("c", 0)->log->segments().size() == segments_after);
  // The log goes on from its end.
  c2.send(produce_request("c", 0, keyed_batch({{"k0", std::string("new")}}, now_ms(*f.rt))), 7);
  CHECK(
      c2.receive<proto::ProduceResponse>(7).responses.at(0).partition_responses.at(0).base_offset ==
      40);
}

TEST_CASE("a compacted topic refuses records without a key") {
  BrokerFixture f;
  Client c(*f.rt, f.endpoint());
  create_compacted(c, "c", {});
  CHECK(produce(c, "c", make_batch(2)) == static_cast<int16_t>(ErrorCode::kInvalidRecord));
  CHECK(produce(c, "c", keyed_batch({{"k", std::string("v")}}, now_ms(*f.rt))) == 0);
  // cleanup.policy=delete topics take keyless records as before.
  c.send(create_topic_request("d", 1), 4);
  REQUIRE(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);
  CHECK(produce(c, "d", make_batch(2)) == 0);
}

TEST_CASE("a tombstone outlives one clean and goes after delete.retention.ms") {
  BrokerFixture f;
  f.config.log_cleaner_enable = false;
  f.restart();
  auto c = std::make_unique<Client>(*f.rt, f.endpoint());
  create_compacted(*c, "c",
                   {{"segment.bytes", "200"},
                    {"min.cleanable.dirty.ratio", "0.01"},
                    {"delete.retention.ms", "300"}});
  auto fill = [&](const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      REQUIRE(produce(*c, "c",
                      keyed_batch({{prefix + std::to_string(i), std::string("v")}},
                                  now_ms(*f.rt))) == 0);
    }
  };
  REQUIRE(produce(*c, "c", keyed_batch({{"gone", std::string("v")}}, now_ms(*f.rt))) == 0);
  REQUIRE(produce(*c, "c", keyed_batch({{"gone", std::nullopt}}, now_ms(*f.rt))) == 0);
  fill("a", 6);
  restart_with_cleaner(f);
  c = std::make_unique<Client>(*f.rt, f.endpoint());
  PartitionLog& log = *f.broker->topics().find("c", 0)->log;
  auto cleaned_all = [&] { return log.cleaner_point() == log.segments().back().base_offset; };
  REQUIRE(f.rt->run_until(cleaned_all, std::chrono::seconds(10)));

  // The first clean keeps the tombstone (offset 1) and stamps its delete horizon.
  std::vector<Fetched> first = fetch_all(*c, "c");
  REQUIRE(!first.empty());
  CHECK(first.front().offset == 1);
  CHECK(first.front().key == "gone");
  CHECK(!first.front().value.has_value());

  // Past the horizon, the next clean (it needs new dirty data to run) drops it.
  f.rt->run_until([] { return false; }, std::chrono::milliseconds(400));
  fill("b", 6);
  REQUIRE(f.rt->run_until([&] { return cleaned_all() && fetch_all(*c, "c").front().key != "gone"; },
                          std::chrono::seconds(10)));
  for (const Fetched& r : fetch_all(*c, "c")) CHECK(r.key != "gone");
}

TEST_CASE("__consumer_offsets compacts and the committed offsets survive a restart") {
  BrokerFixture f;
  f.config.group.offsets_topic_num_partitions = 1;
  f.config.group.offsets_topic_segment_bytes = 400;
  f.config.topic_defaults.min_cleanable_dirty_ratio = 0.01;
  // No cleaning while the commits go in, so that `before` below measures an uncleaned log
  // however slowly the commits run (sanitizer builds).
  f.config.log_cleaner_enable = false;
  f.restart();
  Client c(*f.rt, f.endpoint());
  c.send(create_topic_request("t", 2), 4);
  REQUIRE(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);
  find_coordinator(c, "g", f.endpoint());

  auto commit = [&](int32_t partition, int64_t offset) {
    proto::OffsetCommitRequest req;
    req.group_id = "g";
    auto& t = req.topics.emplace_back();
    t.name = "t";
    auto& p = t.partitions.emplace_back();
    p.partition_index = partition;
    p.committed_offset = offset;
    c.send(req, 2);
    auto resp = c.receive<proto::OffsetCommitResponse>(2);
    REQUIRE(resp.topics.at(0).partitions.at(0).error_code == 0);
  };
  for (int64_t i = 0; i < 30; ++i) commit(int32_t(i % 2), i);

  auto offsets_log = [&]() -> PartitionLog& {
    return *f.broker->topics().find(std::string(group::kOffsetsTopic), 0)->log;
  };
  REQUIRE(offsets_log().segments().size() > 3);
  auto bytes_below_active = [&] {
    uint64_t n = 0;
    std::vector<SegmentInfo> segments = offsets_log().segments();
    for (size_t i = 0; i + 1 < segments.size(); ++i) n += segments[i].size_bytes;
    return n;
  };
  uint64_t before = bytes_below_active();
  // The commits are replayed at the restart, then the cleaner runs.
  restart_with_cleaner(f);
  PartitionLog& log = offsets_log();
  REQUIRE(f.rt->run_until([&] { return log.cleaner_point() == log.segments().back().base_offset; },
                          std::chrono::seconds(10)));
  // Two keys (group g, partitions 0 and 1) are left of every cleaned segment's commits; the
  // segments themselves stay (a first pass does not merge full segments), mostly empty.
  CHECK(bytes_below_active() * 4 < before);

  f.restart();
  Client c2(*f.rt, f.endpoint());
  proto::OffsetFetchRequest req;
  req.group_id = "g";
  auto& t = req.topics->emplace_back();
  t.name = "t";
  t.partition_indexes = {0, 1};
  c2.send(req, 1);
  auto resp = c2.receive<proto::OffsetFetchResponse>(1);
  REQUIRE(resp.topics.size() == 1);
  std::map<int32_t, int64_t> committed;
  for (const auto& p : resp.topics[0].partitions) committed[p.partition_index] = p.committed_offset;
  CHECK(committed[0] == 28);
  CHECK(committed[1] == 29);
}
