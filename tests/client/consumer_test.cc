// Consumer positions: auto.offset.reset for unset positions, seek, seek_to_beginning/end,
// OFFSET_OUT_OF_RANGE handling and lag.
#include <catch2/catch.hpp>

#include "tests/client/client_harness.h"

using namespace strata;
using namespace strata::testing;

namespace {

void produce_values(PosixRuntime& rt, const Endpoint& ep, const std::string& topic, int from,
                    int to) {
  client::Producer producer(rt, client_options(ep), {});
  int done = 0;
  for (int i = from; i < to; ++i) {
    client::ProducerRecord r{topic, PartitionId(0), std::nullopt,
                             bytes_of("v" + std::to_string(i)), {}, {}};
    REQUIRE(producer.send(std::move(r), [&](auto md) {
      REQUIRE(md);
      ++done;
    }));
  }
  REQUIRE(rt.run_until([&] { return done == to - from; }, std::chrono::seconds(5)));
  close_client(rt, producer.network());
}

struct Reader {
  client::Consumer consumer;
  std::vector<client::ConsumerRecord> got;
  std::vector<Status> errors;
  client::TopicPartition tp;

  Reader(PosixRuntime& rt, const Endpoint& ep, const std::string& topic,
         client::OffsetReset reset)
      : consumer(rt, client_options(ep), config(reset)), tp{topic, PartitionId(0)} {
    consumer.set_record_callback([this](const client::ConsumerRecord& r) { got.push_back(r); });
    consumer.set_error_callback([this](const auto&, const Status& s) { errors.push_back(s); });
    consumer.assign({tp});
  }
  static client::ConsumerConfig config(client::OffsetReset reset) {
    client::ConsumerConfig c;
    c.auto_offset_reset = reset;
    c.fetch_max_wait_ms = 50;
    return c;
  }
  bool wait(PosixRuntime& rt, size_t n) {
    return rt.run_until([&] { return got.size() >= n || !errors.empty(); },
                        std::chrono::seconds(5));
  }
};

}  // namespace

TEST_CASE("earliest, latest, seek and seek_to_end position the consumer") {
  BrokerFixture f;
  create_topic(*f.rt, f.endpoint(), "pos", 1);
  produce_values(*f.rt, f.endpoint(), "pos", 0, 100);

  Reader earliest(*f.rt, f.endpoint(), "pos", client::OffsetReset::kEarliest);
  REQUIRE(earliest.wait(*f.rt, 100));
  CHECK(earliest.got.front().offset == Offset(0));
  CHECK(earliest.got.back().offset == Offset(99));
  f.rt->run_until([&] { return earliest.consumer.progress(earliest.tp)->high_watermark == 100; },
                  std::chrono::seconds(2));
  CHECK(earliest.consumer.progress(earliest.tp)->lag() == 0);

  earliest.got.clear();
  earliest.consumer.seek(earliest.tp, Offset(50));
  REQUIRE(earliest.wait(*f.rt, 50));
  CHECK(earliest.got.front().offset == Offset(50));
  CHECK(str(earliest.got.front().value) == "v50");

  Reader latest(*f.rt, f.endpoint(), "pos", client::OffsetReset::kLatest);
  REQUIRE(f.rt->run_until([&] { return latest.consumer.position(latest.tp).has_value(); },
                          std::chrono::seconds(5)));
  CHECK(*latest.consumer.position(latest.tp) == Offset(100));
  produce_values(*f.rt, f.endpoint(), "pos", 100, 105);
  REQUIRE(latest.wait(*f.rt, 5));
  CHECK(latest.got.front().offset == Offset(100));
  CHECK(latest.got.size() == 5);

  latest.consumer.seek_to_beginning({latest.tp});
  latest.got.clear();
  REQUIRE(latest.wait(*f.rt, 105));
  CHECK(latest.got.front().offset == Offset(0));
  latest.consumer.seek_to_end({latest.tp});
  REQUIRE(f.rt->run_until([&] { return latest.consumer.position(latest.tp).has_value(); },
                          std::chrono::seconds(5)));
  CHECK(*latest.consumer.position(latest.tp) == Offset(105));
  close_client(*f.rt, latest.consumer.network());
  close_client(*f.rt, earliest.consumer.network());
}

TEST_CASE("OFFSET_OUT_OF_RANGE resets by auto.offset.reset, or fails with none") {
  BrokerFixture f;
  create_topic(*f.rt, f.endpoint(), "oor", 1);
  produce_values(*f.rt, f.endpoint(), "oor", 0, 10);

  Reader reset(*f.rt, f.endpoint(), "oor", client::OffsetReset::kEarliest);
  reset.consumer.seek(reset.tp, Offset(1000));
  REQUIRE(reset.wait(*f.rt, 10));
  CHECK(reset.errors.empty());
  CHECK(reset.got.front().offset == Offset(0));
  CHECK(reset.consumer.stats().offset_resets >= 1);

  Reader none(*f.rt, f.endpoint(), "oor", client::OffsetReset::kNone);
  REQUIRE(none.wait(*f.rt, 1));  // no position and no policy: an error at once
  REQUIRE(none.errors.size() == 1);
  none.errors.clear();
  none.consumer.seek(none.tp, Offset(1000));
  REQUIRE(none.wait(*f.rt, 1));
  REQUIRE(none.errors.size() == 1);
  CHECK(none.errors[0].message().find("OFFSET_OUT_OF_RANGE") == 0);
  CHECK(none.got.empty());
  close_client(*f.rt, none.consumer.network());
  close_client(*f.rt, reset.consumer.network());
}

TEST_CASE("poll drains a bounded queue and skips records below the position") {
  BrokerFixture f;
  create_topic(*f.rt, f.endpoint(), "q", 1);
  produce_values(*f.rt, f.endpoint(), "q", 0, 300);  // batched: seeks land mid-batch
  client::ConsumerConfig cc;
  cc.queue_records_max = 100;
  cc.fetch_max_wait_ms = 50;
  client::Consumer c(*f.rt, client_options(f.endpoint()), cc);
  client::TopicPartition tp{"q", PartitionId(0)};
  c.assign({tp});
  c.seek(tp, Offset(7));
  std::vector<client::ConsumerRecord> got;
  REQUIRE(f.rt->run_until(
      [&] {
        CHECK(c.queued() <= 100 + 300);  // at most one fetch beyond the bound
        if (c.queued() >= 50) {
          for (auto& r : c.poll(50)) got.push_back(std::move(r));
        }
        return got.size() >= 250;
      },
      std::chrono::seconds(5)));
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i].offset == Offset(7 + int64_t(i)));
  close_client(*f.rt, c.network());
}
