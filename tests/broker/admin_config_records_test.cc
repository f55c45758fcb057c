// AlterConfigs, IncrementalAlterConfigs and DeleteRecords over a real loopback connection:
// what each answers, that a change takes effect on the running partitions, and that it
// survives a restart.
#include <map>

#include "tests/broker/broker_harness.h"

using namespace strata;
using namespace strata::testing;
using proto::ErrorCode;

namespace {

int16_t err(ErrorCode e) { return static_cast<int16_t>(e); }

using Client = WireClient<PosixRuntime>;

constexpr int8_t kTopic = 2;
constexpr int8_t kBroker = 4;

void create(Client& c, const std::string& name, int32_t partitions) {
  c.send(create_topic_request(name, partitions), 4);
  REQUIRE(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);
}

std::map<std::string, proto::DescribeConfigsResponse::Config> describe(Client& c,
                                                                       const std::string& t) {
  proto::DescribeConfigsRequest dc;
  dc.resources.push_back({kTopic, t, std::nullopt});
  c.send(dc, 2);
  auto resp = c.receive<proto::DescribeConfigsResponse>(2);
  REQUIRE(resp.results.at(0).error_code == 0);
  std::map<std::string, proto::DescribeConfigsResponse::Config> by_name;
  for (auto& cfg : resp.results.at(0).configs) by_name[cfg.name] = cfg;
  return by_name;
}

using Incremental = proto::IncrementalAlterConfigsRequest;

Incremental::Resource incremental(int8_t type, const std::string& name,
                                  std::vector<Incremental::Config> configs) {
  Incremental::Resource r;
  r.resource_type = type;
  r.resource_name = name;
  r.configs = std::move(configs);
  return r;
}

proto::IncrementalAlterConfigsResponse send_incremental(Client& c,
                                                        std::vector<Incremental::Resource> rs,
                                                        int16_t version = 1,
                                                        bool validate_only = false) {
  Incremental req;
  req.resources = std::move(rs);
  req.validate_only = validate_only;
  c.send(req, version);
  return c.receive<proto::IncrementalAlterConfigsResponse>(version);
}

proto::DeleteRecordsResponse::PartitionResult delete_records(Client& c,
                                                             const std::string& topic,
                                                             int32_t partition, int64_t offset,
                                                             int16_t version = 2) {
  proto::DeleteRecordsRequest req;
  req.timeout_ms = 1000;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  t.partitions.push_back({partition, offset});
  c.send(req, version);
  return c.receive<proto::DeleteRecordsResponse>(version).topics.at(0).partitions.at(0);
}

int64_t earliest(Client& c, const std::string& topic, int32_t partition) {
  proto::ListOffsetsRequest req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  t.partitions.push_back({partition, -1, -2});
  c.send(req, 5);
  return c.receive<proto::ListOffsetsResponse>(5).topics.at(0).partitions.at(0).offset;
}

}  // namespace

TEST_CASE("AlterConfigs replaces a topic's overrides, applies them at once and keeps them") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  auto req = create_topic_request("t", 2);
  req.topics[0].configs.push_back({"retention.ms", std::string("1234")});
  c.send(req, 4);
  REQUIRE(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);

  for (int16_t version : {0, 1, 2}) {
    proto::AlterConfigsRequest alter;
    auto& r = alter.resources.emplace_back();
    r.resource_type = kTopic;
    r.resource_name = "t";
    r.configs.push_back({"segment.bytes", std::string("1048576")});
    r.configs.push_back({"max.message.bytes", std::string(std::to_string(2000 + version))});
    c.send(alter, version);
    auto resp = c.receive<proto::AlterConfigsResponse>(version);
    REQUIRE(resp.responses.size() == 1);
    CHECK(resp.responses[0].error_code == 0);
    CHECK(resp.responses[0].resource_name == "t");
  }
  auto cfg = describe(c, "t");
  CHECK(cfg["segment.bytes"].value == "1048576");
  CHECK(cfg["segment.bytes"].config_source == 1);
  CHECK(cfg["max.message.bytes"].value == "2002");
  // Not in the new set: back to the default.
  CHECK(cfg["retention.ms"].value == "604800000");
  CHECK(cfg["retention.ms"].config_source == 5);
  for (const auto& p : f.broker->topics().find("t")->partitions) {
    CHECK(p->log->config().segment_bytes == 1048576);
  }
  // A batch over the new max.message.bytes is refused by the running partition.
  c.send(produce_request("t", 0, make_batch(1, std::string(3000, 'x'))), 7);
  auto produced = c.receive<proto::ProduceResponse>(7);
  CHECK(produced.responses.at(0).partition_responses.at(0).error_code ==
        err(ErrorCode::kMessageTooLarge));

  f.restart();
  WireClient c2(*f.rt, f.endpoint());
  auto after = describe(c2, "t");
  CHECK(after["segment.bytes"].value == "1048576");
  CHECK(after["max.message.bytes"].value == "2002");
  CHECK(f.broker->topics().find("t")->partitions[1]->log->config().segment_bytes == 1048576);
}

TEST_CASE("AlterConfigs: each resource gets its own error, validate_only changes nothing") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  create(c, "t", 1);
  proto::AlterConfigsRequest alter;
  auto add = [&](int8_t type, std::string name, std::string key,
                 std::optional<std::string> value) {
    auto& r = alter.resources.emplace_back();
    r.resource_type = type;
    r.resource_name = std::move(name);
    r.configs.push_back({std::move(key), std::move(value)});
  };
  add(kTopic, "t", "retention.ms", "99");
  add(kTopic, "nope", "retention.ms", "99");
  add(kTopic, "u", "no.such.key", "1");
  add(kBroker, "0", "log.retention.ms", "1");
  add(7, "x", "a", "b");
  alter.validate_only = true;
  c.send(alter, 1);
  auto resp = c.receive<proto::AlterConfigsResponse>(1);
  REQUIRE(resp.responses.size() == 5);
  CHECK(resp.responses[0].error_code == 0);
  CHECK(resp.responses[1].error_code == err(ErrorCode::kUnknownTopicOrPartition));
  // "u" does not exist either; the unknown key is not reached.
  CHECK(resp.responses[2].error_code == err(ErrorCode::kUnknownTopicOrPartition));
  CHECK(resp.responses[3].error_code == err(ErrorCode::kInvalidRequest));
  CHECK(resp.responses[3].error_message.value_or("").find("server.properties") !=
        std::string::npos);
  CHECK(resp.responses[4].error_code == err(ErrorCode::kInvalidRequest));
  CHECK(describe(c, "t")["retention.ms"].value == "604800000");  // validate_only

  proto::AlterConfigsRequest bad;
  auto& r = bad.resources.emplace_back();
  r.resource_type = kTopic;
  r.resource_name = "t";
  r.configs.push_back({"retention.ms", std::string("soon")});
  c.send(bad, 0);
  auto bad_resp = c.receive<proto::AlterConfigsResponse>(0);
  CHECK(bad_resp.responses.at(0).error_code == err(ErrorCode::kInvalidConfig));
  CHECK(bad_resp.responses.at(0).error_message.value_or("").find("retention.ms") !=
        std::string::npos);
  r.configs = {{"retention.ms", std::string("5")}, {"retention.ms", std::string("6")}};
  c.send(bad, 0);
  CHECK(c.receive<proto::AlterConfigsResponse>(0).responses.at(0).error_code ==
        err(ErrorCode::kInvalidRequest));
  r.configs = {{"retention.ms", std::nullopt}};
  c.send(bad, 0);
  CHECK(c.receive<proto::AlterConfigsResponse>(0).responses.at(0).error_code ==
        err(ErrorCode::kInvalidConfig));
  bad.resources.push_back(bad.resources[0]);  // the same resource twice: both refused
  bad.resources[0].configs = bad.resources[1].configs = {{"retention.ms", std::string("5")}};
  c.send(bad, 0);
  auto twice = c.receive<proto::AlterConfigsResponse>(0);
  REQUIRE(twice.responses.size() == 2);
  CHECK(twice.responses[0].error_code == err(ErrorCode::kInvalidRequest));
  CHECK(twice.responses[1].error_code == err(ErrorCode::kInvalidRequest));
  CHECK(describe(c, "t")["retention.ms"].value == "604800000");
}

TEST_CASE("IncrementalAlterConfigs sets, deletes, appends and subtracts single keys") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  create(c, "t", 1);
  for (int16_t version : {0, 1}) {
    auto resp = send_incremental(
        c, {incremental(kTopic, "t", {{"retention.ms", 0, std::string("5000")}})}, version);
    REQUIRE(resp.responses.size() == 1);
    CHECK(resp.responses[0].error_code == 0);
  }
  auto set2 = send_incremental(
      c, {incremental(kTopic, "t", {{"retention.bytes", 0, std::string("4096")}})});
  CHECK(set2.responses.at(0).error_code == 0);
  auto cfg = describe(c, "t");
  CHECK(cfg["retention.ms"].value == "5000");  // kept: incremental
  CHECK(cfg["retention.bytes"].value == "4096");
  CHECK(f.broker->topics().find("t")->partitions[0]->log->config().retention_ms == 5000);

  auto del = send_incremental(c, {incremental(kTopic, "t", {{"retention.ms", 1, std::nullopt}})});
  CHECK(del.responses.at(0).error_code == 0);
  cfg = describe(c, "t");
  CHECK(cfg["retention.ms"].value == "604800000");
  CHECK(cfg["retention.ms"].config_source == 5);
  CHECK(cfg["retention.bytes"].value == "4096");

  // cleanup.policy is a list: append and subtract work on its items.
  auto append = send_incremental(
      c, {incremental(kTopic, "t", {{"cleanup.policy", 2, std::string("compact")}})});
  CHECK(append.responses.at(0).error_code == 0);
  CHECK(describe(c, "t")["cleanup.policy"].value == "delete,compact");
  auto subtract = send_incremental(
      c, {incremental(kTopic, "t", {{"cleanup.policy", 3, std::string("delete")}})});
  CHECK(subtract.responses.at(0).error_code == 0);
  CHECK(describe(c, "t")["cleanup.policy"].value == "compact");

  auto errors = send_incremental(
      c, {incremental(kTopic, "t", {{"retention.ms", 2, std::string("1")}}),  // not a list
          incremental(kTopic, "nope", {{"retention.ms", 0, std::string("1")}}),
          incremental(kTopic, "t2", {}),
          incremental(kBroker, "", {{"log.retention.ms", 0, std::string("1")}})});
  REQUIRE(errors.responses.size() == 4);
  CHECK(errors.responses[0].error_code == err(ErrorCode::kInvalidConfig));
  CHECK(errors.responses[1].error_code == err(ErrorCode::kUnknownTopicOrPartition));
  CHECK(errors.responses[2].error_code == err(ErrorCode::kUnknownTopicOrPartition));
  CHECK(errors.responses[3].error_code == err(ErrorCode::kInvalidRequest));
  auto unknown_op =
      send_incremental(c, {incremental(kTopic, "t", {{"retention.ms", 9, std::string("1")}})});
  CHECK(unknown_op.responses.at(0).error_code == err(ErrorCode::kInvalidRequest));
  auto unknown_key =
      send_incremental(c, {incremental(kTopic, "t", {{"no.such.key", 1, std::nullopt}})});
  CHECK(unknown_key.responses.at(0).error_code == err(ErrorCode::kInvalidConfig));
  // One bad operation fails the whole resource: the good one before it is not applied.
  auto partial = send_incremental(
      c, {incremental(kTopic, "t", {{"retention.ms", 0, std::string("7")},
                                    {"segment.ms", 0, std::string("-5")}})});
  CHECK(partial.responses.at(0).error_code == err(ErrorCode::kInvalidConfig));
  auto validate = send_incremental(
      c, {incremental(kTopic, "t", {{"retention.ms", 0, std::string("8")}})}, 1, true);
  CHECK(validate.responses.at(0).error_code == 0);
  CHECK(describe(c, "t")["retention.ms"].value == "604800000");

  f.restart();
  WireClient c2(*f.rt, f.endpoint());
  auto after = describe(c2, "t");
  CHECK(after["retention.bytes"].value == "4096");
  CHECK(after["cleanup.policy"].value == "compact");
}

TEST_CASE("DeleteRecords moves the log start forward, durably") {
  BrokerFixture f;
  f.config.topic_defaults.segment_bytes = 200;  // several segments for ten small batches
  f.restart();
  WireClient c(*f.rt, f.endpoint());
  create(c, "t", 2);
  for (int i = 0; i < 10; ++i) {
    c.send(produce_request("t", 0, make_batch(2)), 7);
    REQUIRE(c.receive<proto::ProduceResponse>(7).responses.at(0).partition_responses.at(0)
                .error_code == 0);
  }
  auto* log = f.broker->topics().find("t", 0)->log.get();
  size_t segments_before = log->segments().size();
  REQUIRE(segments_before > 3);

  for (int16_t version : {0, 1, 2}) {
    auto r = delete_records(c, "t", 0, 5 + version);
    CHECK(r.error_code == 0);
    CHECK(r.low_watermark == 5 + version);
  }
  CHECK(log->segments().size() < segments_before);
  CHECK(earliest(c, "t", 0) == 7);
  c.send(fetch_request("t", 0, 3, 0), 11);
  CHECK(c.receive<proto::FetchResponse>(11).responses.at(0).partitions.at(0).error_code ==
        err(ErrorCode::kOffsetOutOfRange));
  c.send(fetch_request("t", 0, 7, 0), 11);
  auto fetched = c.receive<proto::FetchResponse>(11).responses.at(0).partitions.at(0);
  CHECK(fetched.error_code == 0);
  CHECK(fetched.log_start_offset == 7);

  // An offset below the start is a no-op that reports the start; -1 means the high watermark.
  CHECK(delete_records(c, "t", 0, 2).low_watermark == 7);
  CHECK(delete_records(c, "t", 1, -1).low_watermark == 0);  // empty partition: HW is 0
  CHECK(delete_records(c, "t", 0, 21).error_code == err(ErrorCode::kOffsetOutOfRange));
  CHECK(delete_records(c, "t", 0, -7).error_code == err(ErrorCode::kOffsetOutOfRange));
  CHECK(delete_records(c, "t", 9, 0).error_code == err(ErrorCode::kUnknownTopicOrPartition));
  CHECK(delete_records(c, "nope", 0, 0).error_code ==
        err(ErrorCode::kUnknownTopicOrPartition));

  f.restart();
  WireClient c2(*f.rt, f.endpoint());
  CHECK(earliest(c2, "t", 0) == 7);
  CHECK(delete_records(c2, "t", 0, -1).low_watermark == 20);
  CHECK(earliest(c2, "t", 0) == 20);
  // The log goes on from its end.
  c2.send(produce_request("t", 0, make_batch(2)), 7);
  CHECK(c2.receive<proto::ProduceResponse>(7).responses.at(0).partition_responses.at(0)
            .base_offset == 20);
}

TEST_CASE("DeleteRecords is refused on a compacted topic") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  auto req = create_topic_request("c", 1);
  req.topics[0].configs.push_back({"cleanup.policy", std::string("compact")});
  c.send(req, 4);
  REQUIRE(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);
  CHECK(delete_records(c, "c", 0, 0).error_code == err(ErrorCode::kPolicyViolation));
}
