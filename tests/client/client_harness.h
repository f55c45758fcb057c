// Test harness for engine/client: an in-process broker (tests/broker/broker_harness.h) and
// helpers that run client calls to completion on the same PosixRuntime.
#pragma once

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/client/admin.h"
#include "engine/client/consumer.h"
#include "engine/client/producer.h"
#include "tests/broker/broker_harness.h"

namespace strata::testing {

inline client::ClientOptions client_options(const Endpoint& ep) {
  client::ClientOptions o;
  o.bootstrap_servers = {ep};
  o.client_id = "client-test";
  return o;
}

// Runs `start(callback)` and the loop until the callback ran; fails the test on timeout.
template <class T, class Start>
Result<T> wait_for(PosixRuntime& rt, Start start, Duration timeout = std::chrono::seconds(10)) {
  auto slot = std::make_shared<std::optional<Result<T>>>();
  start([slot](Result<T> r) { slot->emplace(std::move(r)); });
  REQUIRE(rt.run_until([&] { return slot->has_value(); }, timeout));
  return std::move(**slot);
}

// Closes a client's connections and lets their close events arrive.
inline void close_client(PosixRuntime& rt, client::NetworkClient& net) {
  net.close();
  rt.run_until([&] { return net.connections_open() == 0; }, std::chrono::seconds(2));
}

inline void create_topic(PosixRuntime& rt, const Endpoint& ep, const std::string& name,
                         int32_t partitions) {
  client::Admin admin(rt, client_options(ep));
  auto r = wait_for<std::vector<client::TopicResult>>(
      rt, [&](auto cb) { admin.create_topics({{name, partitions, 1, {}}}, cb); });
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  REQUIRE((*r)[0].status());
  close_client(rt, admin.network());
}

struct Sent {
  std::vector<Result<client::RecordMetadata>> results;
  size_t done = 0;
};

// Reads every partition of `topic` from the beginning until `count` records arrived.
inline std::vector<client::ConsumerRecord> consume(PosixRuntime& rt, const Endpoint& ep,
                                                   const std::string& topic, int32_t partitions,
                                                   size_t count,
                                                   Duration timeout = std::chrono::seconds(10)) {
  client::ConsumerConfig cc;
  cc.auto_offset_reset = client::OffsetReset::kEarliest;
  cc.fetch_max_wait_ms = 100;
  client::Consumer consumer(rt, client_options(ep), cc);
  std::vector<client::TopicPartition> tps;
  for (int32_t p = 0; p < partitions; ++p) tps.push_back({topic, PartitionId(p)});
  consumer.assign(tps);
  std::vector<client::ConsumerRecord> out;
  rt.run_until(
      [&] {
        for (auto& r : consumer.poll(100000)) out.push_back(std::move(r));
        return out.size() >= count;
      },
      timeout);
  close_client(rt, consumer.network());
  return out;
}

inline Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }
inline std::string str(const std::optional<ByteSpan>& b) {
  return b ? std::string(b->begin(), b->end()) : "<null>";
}

}  // namespace strata::testing
