// The broker as its own controller: metadata from the controller's image, leader epochs that
// the controller numbers, an unreadable metadata log refused, and an older strata's metadata
// log carried over.
#include <catch2/catch.hpp>

#include "engine/broker/metadata_log.h"
#include "engine/broker/topic_record.h"
#include "tests/broker/broker_harness.h"

namespace strata::testing {
namespace {

using proto::ErrorCode;

int16_t err(ErrorCode e) {
  return static_cast<int16_t>(e);
}

proto::MetadataResponse metadata(WireClient<PosixRuntime>& c, const std::string& topic) {
  proto::MetadataRequest req;
  req.topics = std::vector<proto::MetadataRequest::Topic>{{topic}};
  req.allow_auto_topic_creation = false;
  c.send(req, 8);
  return c.receive<proto::MetadataResponse>(8);
}

// Appends one batch of records (key, value) to the partition log in `dir`.
void append_records(PosixRuntime& rt, const std::string& dir,
                    const std::vector<std::pair<std::optional<std::string>, Bytes>>& records) {
  auto log = PartitionLog::open(rt, dir, LogConfig{});
  REQUIRE(log);
  RecordBatchBuilder b;
  for (const auto& [key, value] : records) {
    std::optional<ByteSpan> k;
    if (key) k = as_bytes(*key);
    b.add(1'700'000'000'000, k, ByteSpan(value));
  }
  auto batch = b.build();
  REQUIRE(batch);
  REQUIRE((*log)->append(*batch, LeaderEpoch(0), 1'700'000'000'000));
  REQUIRE((*log)->close());
}

TEST_CASE(
    "Metadata reports the controller's brokers, leaders and epochs, and a restart is a new "
    "leader epoch") {
  BrokerFixture f;
  int32_t epoch_before = 0;
  {
    WireClient c(*f.rt, f.endpoint());
    c.send(create_topic_request("t", 2), 4);
    REQUIRE(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);
    auto md = metadata(c, "t");
    REQUIRE(md.brokers.size() == 1);
    CHECK(md.brokers[0].node_id == 0);
    CHECK(md.brokers[0].port == f.endpoint().port);
    CHECK(md.controller_id == 0);
    const auto& p = md.topics.at(0).partitions.at(1);
    CHECK(p.leader_id == 0);
    CHECK(p.replica_nodes == std::vector<int32_t>{0});
    CHECK(p.isr_nodes == std::vector<int32_t>{0});
    epoch_before = p.leader_epoch;
    // A replication factor above the live brokers is refused by the controller.
    auto wide = create_topic_request("wide", 1);
    wide.topics[0].replication_factor = 2;
    c.send(wide, 4);
    auto refused = c.receive<proto::CreateTopicsResponse>(4).topics.at(0);
    CHECK(refused.error_code == err(ErrorCode::kInvalidReplicationFactor));
    c.send(produce_request("t", 1, make_batch(3)), 7);
    REQUIRE(
        c.receive<proto::ProduceResponse>(7).responses.at(0).partition_responses.at(0).error_code ==
        0);
  }
  f.restart();
  WireClient c(*f.rt, f.endpoint());
  auto md = metadata(c, "t");
  const auto& p = md.topics.at(0).partitions.at(1);
  CHECK(p.leader_id == 0);
  CHECK(p.leader_epoch > epoch_before);
  CHECK(f.broker->topics().find("t", 1)->leader_epoch.value() == p.leader_epoch);
  // A consumer still on the old epoch is told it is behind.
  auto fetch = fetch_request("t", 1, 0, 0);
  fetch.topics[0].partitions[0].current_leader_epoch = epoch_before;
  c.send(fetch, 11);
  auto fr = c.receive<proto::FetchResponse>(11);
  CHECK(fr.responses.at(0).partitions.at(0).error_code == err(ErrorCode::kFencedLeaderEpoch));
  fetch.topics[0].partitions[0].current_leader_epoch = p.leader_epoch;
  c.send(fetch, 11);
  fr = c.receive<proto::FetchResponse>(11);
  CHECK(fr.responses.at(0).partitions.at(0).error_code == 0);
  CHECK(fr.responses.at(0).partitions.at(0).high_watermark == 3);
}

TEST_CASE("a metadata log with a record the controller cannot read stops the start") {
  BrokerFixture f;
  {
    WireClient c(*f.rt, f.endpoint());
    c.send(create_topic_request("t", 1), 4);
    REQUIRE(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);
  }
  REQUIRE(f.broker->shutdown());
  f.broker.reset();
  const std::string meta = f.dir + "/__cluster_metadata-0";
  append_records(*f.rt, meta, {{std::nullopt, Bytes{0x00, 0x63, 0x00, 0x00}}});
  broker::Broker b(*f.rt, f.config);
  Status started = b.start();
  REQUIRE_FALSE(started);
  CHECK(started.code() == StatusCode::kCorruption);
  CHECK(started.message().find("metadata record at offset") != std::string::npos);
  CHECK(started.message().find("unknown type 99") != std::string::npos);
}

TEST_CASE("an older strata's metadata log is carried over: topics, configs, data, producer ids") {
  BrokerFixture f(false);
  const std::string meta = f.dir + "/__cluster_metadata-0";
  broker::TopicRecord legacy{"old", {}, 2, {{"retention.ms", "3600000"}}};
  legacy.id.fill(7);
  broker::TopicRecord deleted{"gone", {}, 1, {}};
  Bytes producer_ids(10);
  store_be16(producer_ids.data(), 0);
  store_be64(producer_ids.data() + 2, 5000);
  append_records(*f.rt, meta,
                 {{"old", broker::encode_topic_record_value(legacy)},
                  {"gone", broker::encode_topic_record_value(deleted)},
                  {"!producer-ids", producer_ids}});
  // The tombstone of "gone", as a keyed record without a value.
  {
    auto log = PartitionLog::open(*f.rt, meta, LogConfig{});
    REQUIRE(log);
    RecordBatchBuilder b;
    b.add(1'700'000'000'000, as_bytes(std::string("gone")), std::nullopt);
    auto batch = b.build();
    REQUIRE(batch);
    REQUIRE((*log)->append(*batch, LeaderEpoch(0), 1'700'000'000'000));
    REQUIRE((*log)->close());
  }
  append_records(*f.rt, f.dir + "/old-1", {{std::nullopt, Bytes{'a'}}, {std::nullopt, Bytes{'b'}}});
  f.start();
  for (int round = 0; round < 2; ++round) {
    INFO("start " << round + 1);
    auto* t = f.broker->topics().find("old");
    REQUIRE(t != nullptr);
    CHECK(t->partitions.size() == 2);
    CHECK(t->record.configs.at("retention.ms") == "3600000");
    CHECK(f.broker->topics().find("gone") == nullptr);
    CHECK(f.broker->topics().topics().size() == 1);
    WireClient c(*f.rt, f.endpoint());
    c.send(fetch_request("old", 1, 0, 0), 11);
    auto fr = c.receive<proto::FetchResponse>(11);
    CHECK(fr.responses.at(0).partitions.at(0).high_watermark == 2);
    proto::InitProducerIdRequest init;
    init.transactional_id = std::nullopt;
    init.transaction_timeout_ms = 60000;
    c.send(init, 1);
    CHECK(c.receive<proto::InitProducerIdResponse>(1).producer_id >= 5000);
    if (round == 0) f.restart();
  }
}

}  // namespace
}  // namespace strata::testing
