// Idempotent producers on the broker: the per-partition sequence table (producer_state.h),
// InitProducerId, and the produce path that acknowledges a retried batch without writing it
// twice, across a restart too.
#include <catch2/catch.hpp>

#include <climits>

#include "engine/broker/producer_state.h"
#include "tests/broker/broker_harness.h"

using namespace strata;
using namespace strata::broker;
using namespace strata::testing;
using proto::ErrorCode;

namespace {

ProducerBatch batch_at(int32_t first_seq, int32_t last_seq, int64_t first_offset) {
  return {first_seq, last_seq, first_offset, first_offset + (last_seq - first_seq), -1};
}

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

using Partition = proto::ProduceResponse::PartitionResponse;

const Partition& produce(WireClient<PosixRuntime>& c, const Bytes& records,
                         proto::ProduceResponse& keep) {
  c.send(produce_request("t", 0, records), 7);
  keep = c.receive<proto::ProduceResponse>(7);
  return keep.responses.at(0).partition_responses.at(0);
}

}  // namespace

TEST_CASE("sequence table: in order appends, duplicates in the window, gaps and fencing") {
  ProducerStateTable t;
  CHECK(t.check(7, 0, 0, 4).append());
  t.record(7, 0, batch_at(0, 4, 100));
  CHECK(t.check(7, 0, 5, 9).append());
  t.record(7, 0, batch_at(5, 9, 105));

  SequenceCheck dup = t.check(7, 0, 0, 4);
  REQUIRE(dup.duplicate != nullptr);
  CHECK(dup.duplicate->first_offset == 100);
  CHECK(dup.error == ErrorCode::kNone);
  CHECK_FALSE(dup.append());

  CHECK(t.check(7, 0, 11, 12).error == ErrorCode::kOutOfOrderSequenceNumber);  // 10 missing
  CHECK(t.check(7, 0, 3, 6).error == ErrorCode::kOutOfOrderSequenceNumber);    // overlaps
  CHECK(t.check(7, 1, 3, 6).error == ErrorCode::kOutOfOrderSequenceNumber);    // new epoch, not 0
  CHECK(t.check(7, 1, 0, 0).append());                                         // new epoch at 0
  t.record(7, 1, batch_at(0, 0, 110));
  CHECK(t.check(7, 0, 10, 10).error == ErrorCode::kInvalidProducerEpoch);      // fenced
  CHECK(t.find(7)->epoch == 1);
  CHECK(t.find(7)->batches.size() == 1);

  // A producer this partition knows nothing of may start anywhere (its batches were deleted).
  CHECK(t.check(8, 3, 12345, 12350).append());
  CHECK(t.producers() == 1);
}

TEST_CASE("sequence table: keeps five batches; older retries are DUPLICATE_SEQUENCE_NUMBER") {
  ProducerStateTable t;
  for (int32_t i = 0; i < 8; ++i) t.record(1, 0, batch_at(i * 10, i * 10 + 9, i * 10));
  REQUIRE(t.find(1)->batches.size() == ProducerStateTable::kBatchesRetained);
  CHECK(t.check(1, 0, 30, 39).duplicate != nullptr);  // oldest retained
  SequenceCheck old = t.check(1, 0, 20, 29);
  CHECK(old.duplicate == nullptr);
  CHECK(old.error == ErrorCode::kDuplicateSequenceNumber);
  CHECK(t.check(1, 0, 80, 89).append());
}

TEST_CASE("sequence table: sequences wrap from INT32_MAX to 0") {
  CHECK(next_sequence(INT32_MAX) == 0);
  CHECK(last_sequence(INT32_MAX - 1, 4) == 1);
  CHECK(last_sequence(0, 1) == 0);
  ProducerStateTable t;
  t.record(1, 0, batch_at(INT32_MAX - 3, INT32_MAX, 0));
  CHECK(t.check(1, 0, 0, 9).append());
  t.record(1, 0, {0, 9, 4, 13, -1});
  CHECK(t.check(1, 0, INT32_MAX - 3, INT32_MAX).duplicate != nullptr);
  CHECK(t.check(1, 0, 11, 12).error == ErrorCode::kOutOfOrderSequenceNumber);
}

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
    c.send(create_topic_request("t", 1), 4);
    REQUIRE(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);
    pid = init_producer_id(c, 1).producer_id;
    REQUIRE(pid >= 0);
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
  c.send(create_topic_request("t", 1), 4);
  REQUIRE(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);
  Bytes two = idempotent_batch(5, 0, 0, 2);
  Bytes second = idempotent_batch(5, 0, 2, 2);
  two.insert(two.end(), second.begin(), second.end());
  proto::ProduceResponse keep;
  CHECK(produce(c, two, keep).error_code == int16_t(ErrorCode::kInvalidRecord));
  CHECK(produce(c, idempotent_batch(5, 0, -1, 2), keep).error_code ==
        int16_t(ErrorCode::kInvalidRecord));
  CHECK(f.broker->topics().find("t", 0)->log->log_end_offset() == Offset(0));
}
