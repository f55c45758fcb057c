// Test harness: a real Broker on a PosixRuntime (loopback, port 0, temp dir); tests talk to it
// with the raw WireClient (tests/support/wire_client.h).
#pragma once

#include <catch2/catch.hpp>

#include <deque>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/broker/broker.h"
#include "engine/protocol/framing.h"
#include "engine/protocol/messages.h"
#include "engine/protocol/record_batch.h"
#include "engine/runtime/posix_runtime.h"
#include "tests/support/wire_client.h"

namespace strata::testing {

struct BrokerFixture {
  std::unique_ptr<PosixRuntime> rt;
  std::string dir;
  broker::BrokerConfig config;
  std::unique_ptr<broker::Broker> broker;

  // `start_now` false lets a test prepare the log dir first, then call start().
  explicit BrokerFixture(bool start_now = true) {
    auto r = PosixRuntime::create({.log_level_min = LogLevel::kWarn});
    REQUIRE(r);
    rt = std::move(*r);
    dir = (std::filesystem::temp_directory_path() /
           ("strata-broker-test-" + std::to_string(rt->random_u64())))
              .string();
    config.log_dirs = {dir};
    config.listeners = {broker::Listener{"PLAINTEXT", "127.0.0.1", 0}};
    if (start_now) start();
  }
  ~BrokerFixture() {
    if (broker) (void)broker->shutdown();
    broker.reset();
    std::filesystem::remove_all(dir);
  }
  void start() {
    broker = std::make_unique<broker::Broker>(*rt, config);
    auto started = broker->start();
    INFO(started.to_string());
    REQUIRE(started);
    config.listeners.front().port = broker->bound().port;  // restart on the same port
  }
  void restart() {
    REQUIRE(broker->shutdown());
    broker.reset();
    start();
  }
  Endpoint endpoint() const { return broker->bound(); }
};

inline Bytes make_batch(int n, const std::string& prefix = "v",
                        const BatchBuilderOptions& options = {}) {
  RecordBatchBuilder b(options);
  for (int i = 0; i < n; ++i) {
    std::string v = prefix + std::to_string(i);
    b.add(1'700'000'000'000 + i, std::nullopt, as_bytes(v));
  }
  auto built = b.build();
  REQUIRE(built);
  return *built;
}

inline proto::ProduceRequest produce_request(const std::string& topic, int32_t partition,
                                             const Bytes& records, int16_t acks = -1) {
  proto::ProduceRequest req;
  req.acks = acks;
  req.timeout_ms = 5000;
  auto& t = req.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = partition;
  p.records = ByteSpan(records);
  return req;
}

inline proto::FetchRequest fetch_request(const std::string& topic, int32_t partition,
                                         int64_t offset, int32_t max_wait_ms,
                                         int32_t min_bytes = 1) {
  proto::FetchRequest req;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = min_bytes;
  req.max_bytes = 1 << 20;
  auto& t = req.topics.emplace_back();
  t.topic = topic;
  auto& p = t.partitions.emplace_back();
  p.partition = partition;
  p.fetch_offset = offset;
  p.partition_max_bytes = 1 << 20;
  return req;
}

// FindCoordinator, as every client sends before any group request: the first one creates
// __consumer_offsets. Requires that this broker (at `self`) is the coordinator.
template <class C>
void find_coordinator(C& c, const std::string& group, const Endpoint& self) {
  proto::FindCoordinatorRequest fc;
  fc.key = group;
  c.send(fc, 1);
  auto resp = c.template receive<proto::FindCoordinatorResponse>(1);
  REQUIRE(resp.error_code == 0);
  CHECK(resp.port == self.port);
}

inline proto::CreateTopicsRequest create_topic_request(const std::string& name, int32_t parts) {
  proto::CreateTopicsRequest req;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = parts;
  t.replication_factor = 1;
  return req;
}

}  // namespace strata::testing
