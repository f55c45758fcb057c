// Idempotent producers on the broker: InitProducerId, and the produce path that acknowledges
// a retried batch without writing it twice, across a clean restart (producer state snapshot)
// and a crash (state rebuilt from the log). The sequence table itself:
// tests/storage/producer_state_test.cc.
#include <catch2/catch.hpp>

#include <cstdint>

#include "tests/broker/broker_harness.h"

using namespace strata;
using namespace strata::broker;
using namespace strata::testing;
using proto::ErrorCode;

namespace {

Bytes idempotent_batch(int64_t pid, int16_t epoch, int32_t seq, int n) {
  return make_batch(n, "v", {.producer_id = pid, .producer_epoch = epoch, .base_sequence = seq});
}

proto::InitProducerIdResponse init_producer_id(WireClient<PosixRuntime>& c, int16_t version,
                                               std::optional<std::string> txn = std::nullopt) {
  proto::InitProducerIdRequest req;
  req.transactional_id = std::move(txn);
  req.transaction_timeout_ms = 60000;
  c.send(req, version);
  return c.receive<proto::InitProducerIdResponse>(version);
}

// Creates topic "t" with one partition; returns a new producer id.
int64_t create_topic_and_producer(WireClient<PosixRuntime>& c) {
  c.send(create_topic_request("t", 1), 4);
  REQUIRE(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);
  int64_t pid = init_producer_id(c, 1).producer_id;
  REQUIRE(pid >= 0);
  return pid;
}

using Partition = proto::ProduceResponse::PartitionResponse;

const Partition& produce(WireClient<PosixRuntime>& c, const Bytes& records,
                         proto::ProduceResponse& keep) {
  c.send(produce_request("t", 0, records), 7);
  keep = c.receive<proto::ProduceResponse>(7);
  return keep.responses.at(0).partition_responses.at(0);
}

}  // namespace

TEST_CASE("InitProducerId hands out distinct ids, also after a restart, and refuses "
          "transactional ids") {
  BrokerFixture f;
  int64_t first = -1;
  {
    WireClient c(*f.rt, f.endpoint());
    auto a = init_producer_id(c, 1);
    auto b = init_producer_id(c, 4);  // flexible version
    CHECK(a.error_code == 0);
    CHECK(b.error_code == 0);
    CHECK(a.producer_epoch == 0);
    CHECK(a.producer_id >= 0);
    CHECK(b.producer_id > a.producer_id);
    first = b.producer_id;
    auto txn = init_producer_id(c, 1, "my-txn");
    CHECK(txn.error_code == int16_t(ErrorCode::kTransactionalIdAuthorizationFailed));
    CHECK(txn.producer_id == -1);
  }
  f.restart();
  WireClient c(*f.rt, f.endpoint());
  auto after = init_producer_id(c, 3);
  CHECK(after.error_code == 0);
  CHECK(after.producer_id > first);
}

TEST_CASE("an idempotent retry is acknowledged with its first offset and written once, also "
          "after a restart") {
  BrokerFixture f;
  int64_t pid = -1;
  {
    WireClient c(*f.rt, f.endpoint());
    pid = create_topic_and_producer(c);
    proto::ProduceResponse keep;
    CHECK(produce(c, make_batch(3), keep).base_offset == 0);  // a plain producer, too
    CHECK(produce(c, idempotent_batch(pid, 0, 0, 5), keep).base_offset == 3);
    CHECK(produce(c, idempotent_batch(pid, 0, 5, 5), keep).base_offset == 8);
    // The retry of the first batch: same offsets, nothing written.
    const auto& again = produce(c, idempotent_batch(pid, 0, 0, 5), keep);
    CHECK(again.error_code == 0);
    CHECK(again.base_offset == 3);
    CHECK(f.broker->topics().find("t", 0)->log->log_end_offset() == Offset(13));
    CHECK(f.broker->stats().duplicate_batches == 1);
    // A gap: sequence 10 was never sent.
    CHECK(produce(c, idempotent_batch(pid, 0, 11, 2), keep).error_code ==
          int16_t(ErrorCode::kOutOfOrderSequenceNumber));
    // A stale epoch after a newer one was seen.
    CHECK(produce(c, idempotent_batch(pid, 1, 0, 1), keep).base_offset == 13);
    CHECK(produce(c, idempotent_batch(pid, 0, 10, 1), keep).error_code ==
          int16_t(ErrorCode::kInvalidProducerEpoch));
  }
  f.restart();
  WireClient c(*f.rt, f.endpoint());
  proto::ProduceResponse keep;
  // The table came back from the log's batch headers.
  CHECK(produce(c, idempotent_batch(pid, 1, 0, 1), keep).base_offset == 13);
  CHECK(produce(c, idempotent_batch(pid, 0, 10, 1), keep).error_code ==
        int16_t(ErrorCode::kInvalidProducerEpoch));
  CHECK(produce(c, idempotent_batch(pid, 1, 1, 4), keep).base_offset == 14);
  CHECK(f.broker->topics().find("t", 0)->log->log_end_offset() == Offset(18));
}

TEST_CASE("an idempotent produce with two batches or no sequence is INVALID_RECORD") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  create_topic_and_producer(c);
  Bytes two = idempotent_batch(5, 0, 0, 2);
  Bytes second = idempotent_batch(5, 0, 2, 2);
  two.insert(two.end(), second.begin(), second.end());
  proto::ProduceResponse keep;
  CHECK(produce(c, two, keep).error_code == int16_t(ErrorCode::kInvalidRecord));
  CHECK(produce(c, idempotent_batch(5, 0, -1, 2), keep).error_code ==
        int16_t(ErrorCode::kInvalidRecord));
  CHECK(f.broker->topics().find("t", 0)->log->log_end_offset() == Offset(0));
}

TEST_CASE("after a crash the sequence state is rebuilt from the log, and after a clean stop it "
          "comes from the snapshot at the log end") {
  BrokerFixture f;
  int64_t pid = -1;
  {
    WireClient c(*f.rt, f.endpoint());
    pid = create_topic_and_producer(c);
    proto::ProduceResponse keep;
    for (int32_t seq = 0; seq < 40; seq += 4) {
      REQUIRE(produce(c, idempotent_batch(pid, 0, seq, 4), keep).error_code == 0);
    }
  }
  // A crash: no shutdown, so no snapshot (the posix page cache keeps the written batches).
  // The dead broker's listener is not released in this process: come back on a new port.
  f.broker.reset();
  f.config.listeners.front().port = 0;
  REQUIRE_FALSE(std::filesystem::exists(f.dir + "/t-0/00000000000000000040.snapshot"));
  f.start();
  {
    WireClient c(*f.rt, f.endpoint());
    proto::ProduceResponse keep;
    CHECK(produce(c, idempotent_batch(pid, 0, 36, 4), keep).base_offset == 36);  // duplicate
    CHECK(produce(c, idempotent_batch(pid, 0, 20, 4), keep).base_offset == 20);  // oldest kept
    CHECK(produce(c, idempotent_batch(pid, 0, 16, 4), keep).error_code ==
          int16_t(ErrorCode::kOutOfOrderSequenceNumber));
    CHECK(produce(c, idempotent_batch(pid, 0, 44, 4), keep).error_code ==
          int16_t(ErrorCode::kOutOfOrderSequenceNumber));
    CHECK(produce(c, idempotent_batch(pid, 0, 40, 4), keep).base_offset == 40);
  }
  REQUIRE(f.broker->shutdown());
  CHECK(std::filesystem::exists(f.dir + "/t-0/00000000000000000044.snapshot"));  // log end
  f.broker.reset();
  f.start();
  WireClient c(*f.rt, f.endpoint());
  proto::ProduceResponse keep;
  CHECK(produce(c, idempotent_batch(pid, 0, 40, 4), keep).base_offset == 40);
  CHECK(produce(c, idempotent_batch(pid, 0, 44, 4), keep).base_offset == 44);
  CHECK(f.broker->topics().find("t", 0)->log->log_end_offset() == Offset(48));
}

TEST_CASE("a producer idle for producer.id.expiration.ms is forgotten by its partitions") {
  BrokerFixture f;
  f.config.producer_id_expiration_ms = 60'000;
  f.config.log_retention_check_interval_ms = 20;
  f.restart();
  WireClient c(*f.rt, f.endpoint());
  int64_t pid = create_topic_and_producer(c);
  proto::ProduceResponse keep;
  // Batch timestamps are the expiry clock: these are from 2023, long idle by now.
  REQUIRE(produce(c, idempotent_batch(pid, 0, 0, 4), keep).error_code == 0);
  PartitionReplica* p = f.broker->topics().find("t", 0);
  REQUIRE(p->producers.find(pid) != nullptr);
  f.rt->run_until([&] { return p->producers.find(pid) == nullptr; }, std::chrono::seconds(5));
  REQUIRE(p->producers.find(pid) == nullptr);
  // Its next batch, whatever its sequence, is a new producer's first.
  CHECK(produce(c, idempotent_batch(pid, 0, 9, 1), keep).base_offset == 4);
}

TEST_CASE("a producer whose batch claims the earliest timestamp is forgotten as long idle") {
  // Found by fuzz_broker: the idle time, now minus the batch's max timestamp, overflowed.
  BrokerFixture f;
  f.config.log_retention_check_interval_ms = 20;  // producer.id.expiration.ms: a day
  f.restart();
  WireClient c(*f.rt, f.endpoint());
  int64_t pid = create_topic_and_producer(c);
  RecordBatchBuilder b({.producer_id = pid, .producer_epoch = 0, .base_sequence = 0});
  b.add(INT64_MIN, std::nullopt, as_bytes("v"));
  proto::ProduceResponse keep;
  REQUIRE(produce(c, *b.build(), keep).error_code == 0);
  PartitionReplica* p = f.broker->topics().find("t", 0);
  REQUIRE(p->producers.find(pid) != nullptr);
  f.rt->run_until([&] { return p->producers.find(pid) == nullptr; }, std::chrono::seconds(5));
  CHECK(p->producers.find(pid) == nullptr);
  CHECK(produce(c, idempotent_batch(pid, 0, 9, 1), keep).base_offset == 1);
}

TEST_CASE("each roll snapshots the producers, and a crash replays only the batches after the "
          "newest snapshot") {
  BrokerFixture f;
  f.config.topic_defaults.segment_bytes = 1024;  // a few batches per segment
  f.restart();
  int64_t pid = -1;
  int64_t end = 0;
  {
    WireClient c(*f.rt, f.endpoint());
    pid = create_topic_and_producer(c);
    proto::ProduceResponse keep;
    for (int32_t seq = 0; seq < 200; seq += 5) {
      REQUIRE(produce(c, idempotent_batch(pid, 0, seq, 5), keep).error_code == 0);
    }
    end = f.broker->topics().find("t", 0)->log->log_end_offset().value();
  }
  std::vector<std::string> snapshots;
  for (const auto& e : std::filesystem::directory_iterator(f.dir + "/t-0")) {
    if (e.path().extension() == ".snapshot") snapshots.push_back(e.path().filename().string());
  }
  REQUIRE(snapshots.size() == kProducerSnapshotsKept);
  f.broker.reset();  // a crash
  f.config.listeners.front().port = 0;
  f.start();
  WireClient c(*f.rt, f.endpoint());
  proto::ProduceResponse keep;
  // The last five batches are known again: from the newest snapshot and the active segment.
  CHECK(produce(c, idempotent_batch(pid, 0, 175, 5), keep).base_offset == 175);
  CHECK(produce(c, idempotent_batch(pid, 0, 195, 5), keep).base_offset == 195);
  CHECK(produce(c, idempotent_batch(pid, 0, 170, 5), keep).error_code ==
        int16_t(ErrorCode::kOutOfOrderSequenceNumber));
  CHECK(produce(c, idempotent_batch(pid, 0, 200, 5), keep).base_offset == end);
}
