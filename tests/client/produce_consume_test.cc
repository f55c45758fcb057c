// Producer and consumer against an in-process broker: every codec and acks setting, key
// partitioning compatible with the Java client, stickiness of null keys, flush and the
// bounded buffer.
#include <catch2/catch.hpp>

#include "engine/base/murmur2.h"
#include "tests/client/client_harness.h"

using namespace strata;
using namespace strata::testing;

namespace {

// Sends `n` keyed records "key-i" -> "value-i" and waits for every callback.
Sent produce_keyed(PosixRuntime& rt, client::Producer& p, const std::string& topic, int n) {
  Sent sent;
  sent.results.reserve(size_t(n));
  for (int i = 0; i < n; ++i) {
    client::ProducerRecord r;
    r.topic = topic;
    r.key = bytes_of("key-" + std::to_string(i % 500));
    r.value = bytes_of("value-" + std::to_string(i));
    size_t slot = sent.results.size();
    sent.results.emplace_back(Status::unavailable("pending"));
    Status s = p.send(std::move(r), [&sent, slot](Result<client::RecordMetadata> md) {
      sent.results[slot] = std::move(md);
      ++sent.done;
    });
    while (s.code() == StatusCode::kResourceExhausted) {  // buffer full: let it drain
      rt.run_once(milliseconds(5));
      REQUIRE(false);  // 10,000 small records fit the default 32 MiB buffer
    }
    REQUIRE(s);
  }
  bool flushed = false;
  p.flush([&] { flushed = true; });
  REQUIRE(rt.run_until([&] { return flushed; }, std::chrono::seconds(15)));
  REQUIRE(sent.done == size_t(n));
  return sent;
}

}  // namespace

TEST_CASE("10,000 keyed records per codec and acks come back in order per partition") {
  BrokerFixture f;
  constexpr int kRecords = 10000;
  constexpr int32_t kPartitions = 3;
  for (int codec = 0; codec < kCodecCount; ++codec) {
    for (int16_t acks : {int16_t(0), int16_t(1), int16_t(-1)}) {
      std::string topic = "t-" + std::string(codec_name(*codec_from_id(codec))) + "-" +
                          std::to_string(acks == -1 ? 2 : acks);
      INFO("topic " << topic);
      create_topic(*f.rt, f.endpoint(), topic, kPartitions);
      client::ProducerConfig pc;
      pc.acks = acks;
      pc.compression = *codec_from_id(codec);
      client::Producer producer(*f.rt, client_options(f.endpoint()), pc);
      Sent sent = produce_keyed(*f.rt, producer, topic, kRecords);
      for (size_t i = 0; i < sent.results.size(); ++i) {
        REQUIRE(sent.results[i]);
        const auto& md = *sent.results[i];
        std::string key = "key-" + std::to_string(i % 500);
        REQUIRE(md.partition.value() == partition_for_key(as_bytes(key), kPartitions));
        if (acks != 0) REQUIRE(md.offset.value() >= 0);
      }
      close_client(*f.rt, producer.network());

      auto records = consume(*f.rt, f.endpoint(), topic, kPartitions, kRecords);
      REQUIRE(records.size() == size_t(kRecords));
      std::map<int32_t, int64_t> last_seq, next_offset;
      for (const auto& r : records) {
        int64_t seq = std::stoll(str(r.value).substr(6));
        int32_t p = r.partition.value();
        REQUIRE(partition_for_key(*r.key, kPartitions) == p);
        REQUIRE(r.offset.value() == next_offset[p]);  // no gaps, no repeats
        next_offset[p] = r.offset.value() + 1;
        if (last_seq.count(p)) REQUIRE(seq > last_seq[p]);  // produce order kept
        last_seq[p] = seq;
        if (acks != 0) REQUIRE(sent.results[size_t(seq)]->offset == r.offset);
      }
    }
  }
}

TEST_CASE("keys map to partitions like the Java client's murmur2 partitioner") {
  BrokerFixture f;
  create_topic(*f.rt, f.endpoint(), "four", 4);
  client::Producer producer(*f.rt, client_options(f.endpoint()), {});
  std::vector<int32_t> partitions;
  // kafka-python, kafkajs and kcat's murmur2_random agree: k0, k1, k2 -> 1, 1, 1.
  for (const char* key : {"k0", "k1", "k2"}) {
    client::ProducerRecord r{"four", std::nullopt, bytes_of(key), bytes_of("v"), {}, {}};
    REQUIRE(producer.send(std::move(r), [&](Result<client::RecordMetadata> md) {
      REQUIRE(md);
      partitions.push_back(md->partition.value());
    }));
  }
  REQUIRE(f.rt->run_until([&] { return partitions.size() == 3; }, std::chrono::seconds(5)));
  CHECK(partitions == std::vector<int32_t>{1, 1, 1});
  // Java's toPositive(murmur2("kafka")) with murmur2("kafka") = 0xd067cf64.
  CHECK(partition_for_key(as_bytes("kafka"), 1000) == int32_t(0x5067cf64 % 1000));
  close_client(*f.rt, producer.network());
}

TEST_CASE("null keys stick to one partition per batch and an explicit partition wins") {
  BrokerFixture f;
  create_topic(*f.rt, f.endpoint(), "sticky", 6);
  client::ProducerConfig pc;
  pc.linger_ms = 50;
  client::Producer producer(*f.rt, client_options(f.endpoint()), pc);
  // Learn the metadata first, so that the records are partitioned as they are sent.
  client::ProducerRecord warm{"sticky", PartitionId(5), std::nullopt, bytes_of("w"), {}, {}};
  bool warmed = false;
  REQUIRE(producer.send(warm, [&](auto md) { warmed = md.is_ok(); }));
  REQUIRE(f.rt->run_until([&] { return warmed; }, std::chrono::seconds(5)));
  std::set<int32_t> seen;
  int done = 0;
  for (int i = 0; i < 50; ++i) {
    client::ProducerRecord r{"sticky", std::nullopt, std::nullopt, bytes_of("x"), {}, {}};
    REQUIRE(producer.send(std::move(r), [&](Result<client::RecordMetadata> md) {
      REQUIRE(md);
      seen.insert(md->partition.value());
      ++done;
    }));
  }
  REQUIRE(f.rt->run_until([&] { return done == 50; }, std::chrono::seconds(5)));
  CHECK(seen.size() == 1);  // 50 tiny records fit one batch: one partition
  client::ProducerRecord bad{"sticky", PartitionId(6), std::nullopt, bytes_of("x"), {}, {}};
  CHECK(producer.send(bad, [](auto) {}).code() == StatusCode::kInvalidArgument);
  close_client(*f.rt, producer.network());
}

TEST_CASE("a ready batch takes the lingering batches of its leader's other partitions along") {
  BrokerFixture f;
  create_topic(*f.rt, f.endpoint(), "ride", 2);
  client::ProducerConfig pc;
  pc.linger_ms = 60000;  // nothing is sent for lingering alone within the test
  pc.batch_size = 1024;
  client::Producer producer(*f.rt, client_options(f.endpoint()), pc);
  client::ProducerRecord warm{"ride", PartitionId(0), std::nullopt, bytes_of("w"), {}, {}};
  bool warmed = false;
  REQUIRE(producer.send(warm, [&](auto md) { warmed = md.is_ok(); }));
  producer.flush([] {});
  REQUIRE(f.rt->run_until([&] { return warmed; }, std::chrono::seconds(5)));

  // One small record waits on partition 1; then partition 0's batch fills up.
  std::optional<Result<client::RecordMetadata>> rider;
  client::ProducerRecord small{"ride", PartitionId(1), std::nullopt, bytes_of("r"), {}, {}};
  REQUIRE(producer.send(small, [&](auto md) { rider = std::move(md); }));
  f.rt->run_once(milliseconds(50));
  CHECK(!rider.has_value());  // lingering
  int full_acked = 0;
  for (int i = 0; i < 10; ++i) {
    client::ProducerRecord r{"ride", PartitionId(0), std::nullopt, Bytes(200, 'x'), {}, {}};
    REQUIRE(producer.send(std::move(r), [&](auto md) { full_acked += md.is_ok(); }));
  }
  REQUIRE(f.rt->run_until([&] { return rider.has_value(); }, std::chrono::seconds(5)));
  REQUIRE(*rider);
  CHECK((*rider)->partition == PartitionId(1));
  CHECK(full_acked >= 1);
  close_client(*f.rt, producer.network());
}

TEST_CASE("buffer.memory bounds accepted records, flush completes them") {
  BrokerFixture f;
  create_topic(*f.rt, f.endpoint(), "small", 1);
  client::ProducerConfig pc;
  pc.buffer_memory = 4096;
  pc.linger_ms = 1000;
  client::Producer producer(*f.rt, client_options(f.endpoint()), pc);
  int accepted = 0, acked = 0;
  Status refused;
  while (refused.is_ok()) {
    client::ProducerRecord r{"small", std::nullopt, std::nullopt, Bytes(200, 'x'), {}, {}};
    refused = producer.send(std::move(r), [&](auto md) { acked += md.is_ok(); });
    if (refused) ++accepted;
    REQUIRE(accepted < 100);
  }
  CHECK(refused.code() == StatusCode::kResourceExhausted);
  CHECK(producer.buffered_bytes() <= 4096);
  bool flushed = false;
  producer.flush([&] { flushed = true; });
  REQUIRE(f.rt->run_until([&] { return flushed; }, std::chrono::seconds(5)));
  CHECK(acked == accepted);
  CHECK(producer.buffered_bytes() == 0);
  close_client(*f.rt, producer.network());
}

TEST_CASE("headers, null values and timestamps survive the round trip") {
  BrokerFixture f;
  create_topic(*f.rt, f.endpoint(), "hdr", 1);
  client::Producer producer(*f.rt, client_options(f.endpoint()), {});
  client::ProducerRecord r{"hdr", std::nullopt, bytes_of("k"), std::nullopt,
                           {{"h1", bytes_of("v1")}, {"h2", std::nullopt}}, 1'700'000'000'123};
  bool done = false;
  REQUIRE(producer.send(r, [&](auto md) { done = md.is_ok(); }));
  REQUIRE(f.rt->run_until([&] { return done; }, std::chrono::seconds(5)));
  close_client(*f.rt, producer.network());
  auto records = consume(*f.rt, f.endpoint(), "hdr", 1, 1);
  REQUIRE(records.size() == 1);
  CHECK(str(records[0].key) == "k");
  CHECK_FALSE(records[0].value.has_value());
  CHECK(records[0].timestamp_ms == 1'700'000'000'123);
  REQUIRE(records[0].headers.size() == 2);
  CHECK(records[0].headers[0].key == "h1");
  CHECK(str(records[0].headers[0].value) == "v1");
  CHECK_FALSE(records[0].headers[1].value.has_value());
}
