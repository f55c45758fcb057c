// Scripted broker tests over a real loopback connection, speaking the wire protocol through
// our own codecs.
#include <map>

#include "engine/base/crc32c.h"
#include "engine/base/limits.h"
#include "tests/broker/broker_harness.h"

using namespace strata;
using namespace strata::testing;
using proto::ErrorCode;

namespace {
int16_t err(ErrorCode e) { return static_cast<int16_t>(e); }
}  // namespace

TEST_CASE("ApiVersions advertises the ranges librdkafka 2.0.2 gates features on") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  c.send(proto::ApiVersionsRequest{}, 3);
  auto resp = c.receive<proto::ApiVersionsResponse>(3);
  CHECK(resp.error_code == 0);
  auto range = [&](int16_t key) {
    for (const auto& a : resp.api_keys) {
      if (a.api_key == key) return std::make_pair(a.min_version, a.max_version);
    }
    return std::make_pair<int16_t, int16_t>(-1, -1);
  };
  CHECK(range(0).first <= 3);   // Produce includes 3 (MsgVer2)
  CHECK(range(0).second >= 7);  // and 7 (zstd)
  CHECK(range(1).first <= 4);   // Fetch includes 4
  CHECK(range(1).second >= 10);
  CHECK(range(10).first == 0);  // FindCoordinator v0 (LZ4, groups)
  // The classic group APIs librdkafka's BrokerBalancedConsumer feature checks, from v0.
  CHECK(range(11) == std::make_pair<int16_t, int16_t>(0, 5));  // JoinGroup
  CHECK(range(12) == std::make_pair<int16_t, int16_t>(0, 3));  // Heartbeat
  CHECK(range(13) == std::make_pair<int16_t, int16_t>(0, 3));  // LeaveGroup
  CHECK(range(14) == std::make_pair<int16_t, int16_t>(0, 3));  // SyncGroup
  CHECK(range(8).first == 0);                                  // OffsetCommit
  CHECK(range(9) == std::make_pair<int16_t, int16_t>(0, 5));   // OffsetFetch, non-flexible
  CHECK(range(22) == std::make_pair<int16_t, int16_t>(0, 4));  // InitProducerId, flexible 2+
}

TEST_CASE("ApiVersions at an unknown version gets UNSUPPORTED_VERSION in v0 layout") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  // A v99 request cannot be encoded by our codec; build its header by hand.
  Bytes frame;
  ByteWriter w(frame);
  w.i16(18);
  w.i16(99);
  w.i32(7);
  w.i16(-1);
  c.send_raw(frame);
  int32_t correlation = 0;
  auto resp = c.receive<proto::ApiVersionsResponse>(0, &correlation);
  CHECK(correlation == 7);
  CHECK(resp.error_code == err(ErrorCode::kUnsupportedVersion));
  CHECK_FALSE(resp.api_keys.empty());
}

TEST_CASE("an unsupported API closes only that connection") {
  BrokerFixture f;
  WireClient bad(*f.rt, f.endpoint());
  WireClient good(*f.rt, f.endpoint());
  Bytes frame;
  ByteWriter w(frame);
  w.i16(57);  // UpdateFeatures: not served
  w.i16(0);
  w.i32(1);
  w.i16(-1);
  bad.send_raw(frame);
  CHECK(bad.wait_closed());
  good.send(proto::MetadataRequest{}, 1);
  auto md = good.receive<proto::MetadataResponse>(1);
  CHECK(md.brokers.size() == 1);
}

TEST_CASE("produce, then fetch the records back with offsets assigned") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  c.send(create_topic_request("t", 2), 4);
  auto created = c.receive<proto::CreateTopicsResponse>(4);
  REQUIRE(created.topics.at(0).error_code == 0);

  Bytes batch = make_batch(10);
  c.send(produce_request("t", 1, batch), 7);
  auto p1 = c.receive<proto::ProduceResponse>(7);
  CHECK(p1.responses.at(0).partition_responses.at(0).base_offset == 0);
  c.send(produce_request("t", 1, batch), 7);
  auto p2 = c.receive<proto::ProduceResponse>(7);
  CHECK(p2.responses.at(0).partition_responses.at(0).base_offset == 10);

  c.send(fetch_request("t", 1, 12, 0), 11);
  auto fr = c.receive<proto::FetchResponse>(11);
  const auto& pd = fr.responses.at(0).partitions.at(0);
  CHECK(pd.error_code == 0);
  CHECK(pd.high_watermark == 20);
  CHECK(pd.last_stable_offset == 20);
  REQUIRE(pd.records.has_value());
  BatchSplitter split(*pd.records);
  auto first = split.next();
  REQUIRE(first);
  auto h = parse_batch_header(*first);
  REQUIRE(h);
  CHECK(h->base_offset == 10);  // the batch holding offset 12 starts at 10
  auto records = decode_records(*first);
  REQUIRE(records);
  CHECK(records->size() == 10);
}

TEST_CASE("a corrupt batch gets CORRUPT_MESSAGE and the connection stays usable") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  c.send(create_topic_request("t", 1), 4);
  (void)c.receive<proto::CreateTopicsResponse>(4);
  Bytes batch = make_batch(3);
  batch.back() ^= 0xff;  // breaks the CRC
  c.send(produce_request("t", 0, batch), 7);
  auto bad = c.receive<proto::ProduceResponse>(7);
  CHECK(bad.responses.at(0).partition_responses.at(0).error_code ==
        err(ErrorCode::kCorruptMessage));
  c.send(produce_request("t", 0, make_batch(3)), 7);
  auto good = c.receive<proto::ProduceResponse>(7);
  CHECK(good.responses.at(0).partition_responses.at(0).error_code == 0);
  CHECK(good.responses.at(0).partition_responses.at(0).base_offset == 0);
}

TEST_CASE("a long-poll fetch is answered when data arrives, and pipelined responses stay "
          "in order") {
  BrokerFixture f;
  WireClient consumer(*f.rt, f.endpoint());
  WireClient producer(*f.rt, f.endpoint());
  consumer.send(create_topic_request("t", 1), 4);
  (void)consumer.receive<proto::CreateTopicsResponse>(4);

  int32_t fetch_id = consumer.send(fetch_request("t", 0, 0, 10000), 11);
  int32_t md_id = consumer.send(proto::MetadataRequest{}, 1);
  f.rt->run_until([] { return false; }, std::chrono::milliseconds(200));
  // Metadata is done, but must wait behind the parked Fetch.
  CHECK(consumer.pending_frames() == 0);
  CHECK(f.broker->fetch_purgatory().size() == 1);

  MonoTime before = f.rt->now();
  producer.send(produce_request("t", 0, make_batch(5)), 7);
  int32_t id = 0;
  auto fr = consumer.receive<proto::FetchResponse>(11, &id);
  CHECK(id == fetch_id);
  CHECK((f.rt->now() - before) < std::chrono::seconds(5));  // woken, not timed out
  CHECK(fr.responses.at(0).partitions.at(0).high_watermark == 5);
  auto md = consumer.receive<proto::MetadataResponse>(1, &id);
  CHECK(id == md_id);
  (void)producer.receive<proto::ProduceResponse>(7);
}

TEST_CASE("a parked fetch waits for the whole produce request and answers every partition") {
  BrokerFixture f;
  WireClient consumer(*f.rt, f.endpoint());
  WireClient producer(*f.rt, f.endpoint());
  consumer.send(create_topic_request("two", 2), 4);
  (void)consumer.receive<proto::CreateTopicsResponse>(4);

  proto::FetchRequest fetch = fetch_request("two", 0, 0, 10000);
  auto& p1 = fetch.topics.at(0).partitions.emplace_back(fetch.topics.at(0).partitions.at(0));
  p1.partition = 1;
  consumer.send(fetch, 11);
  f.rt->run_until([] { return false; }, std::chrono::milliseconds(100));
  REQUIRE(f.broker->fetch_purgatory().size() == 1);

  // One request appends to both partitions; the fetch must not leave with partition 0 alone.
  Bytes zero = make_batch(3, "a"), one = make_batch(4, "b");
  proto::ProduceRequest req = produce_request("two", 0, zero);
  auto& second = req.topic_data.at(0).partition_data.emplace_back();
  second.index = 1;
  second.records = ByteSpan(one);
  producer.send(req, 7);
  auto fr = consumer.receive<proto::FetchResponse>(11);
  std::map<int32_t, int64_t> hw;
  for (const auto& p : fr.responses.at(0).partitions) {
    CHECK(p.error_code == 0);
    CHECK(p.records.has_value());
    hw[p.partition_index] = p.high_watermark;
  }
  CHECK(hw == std::map<int32_t, int64_t>{{0, 3}, {1, 4}});
  (void)producer.receive<proto::ProduceResponse>(7);
}

TEST_CASE("a fetch with nothing to read waits max_wait_ms, then answers empty") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  c.send(create_topic_request("t", 1), 4);
  (void)c.receive<proto::CreateTopicsResponse>(4);
  MonoTime before = f.rt->now();
  c.send(fetch_request("t", 0, 0, 300), 11);
  auto fr = c.receive<proto::FetchResponse>(11);
  Duration waited = f.rt->now() - before;
  CHECK(waited >= std::chrono::milliseconds(290));
  const auto& pd = fr.responses.at(0).partitions.at(0);
  CHECK(pd.error_code == 0);
  CHECK((!pd.records || pd.records->empty()));
}

TEST_CASE("fetching outside the log gives OFFSET_OUT_OF_RANGE, unknown topics are reported") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  c.send(create_topic_request("t", 1), 4);
  (void)c.receive<proto::CreateTopicsResponse>(4);
  c.send(fetch_request("t", 0, 42, 0), 11);
  auto fr = c.receive<proto::FetchResponse>(11);
  CHECK(fr.responses.at(0).partitions.at(0).error_code == err(ErrorCode::kOffsetOutOfRange));
  c.send(fetch_request("nope", 0, 0, 0), 11);
  auto unknown = c.receive<proto::FetchResponse>(11);
  CHECK(unknown.responses.at(0).partitions.at(0).error_code ==
        err(ErrorCode::kUnknownTopicOrPartition));
}

TEST_CASE("ListOffsets: earliest, latest and by timestamp") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  c.send(create_topic_request("t", 1), 4);
  (void)c.receive<proto::CreateTopicsResponse>(4);
  c.send(produce_request("t", 0, make_batch(4)), 7);
  (void)c.receive<proto::ProduceResponse>(7);
  auto ask = [&](int64_t ts) {
    proto::ListOffsetsRequest req;
    req.replica_id = -1;
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.push_back({0, -1, ts});
    c.send(req, 5);
    return c.receive<proto::ListOffsetsResponse>(5).topics.at(0).partitions.at(0);
  };
  CHECK(ask(-2).offset == 0);
  CHECK(ask(-1).offset == 4);
  auto by_time = ask(1'700'000'000'002);
  CHECK(by_time.offset == 2);
  CHECK(by_time.timestamp == 1'700'000'000'002);
  CHECK(ask(1'800'000'000'000).offset == -1);
}

TEST_CASE("ListOffsets by timestamp over records whose timestamps wrap past INT64_MAX") {
  // Found by fuzz_broker: baseTimestamp + timestampDelta, both the client's, overflowed.
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  c.send(create_topic_request("t", 1), 4);
  (void)c.receive<proto::CreateTopicsResponse>(4);
  // Deltas 0 and 10 from a base timestamp moved to 5 below INT64_MAX; the CRC made to match.
  RecordBatchBuilder b;
  b.add(1'700'000'000'000, std::nullopt, as_bytes("a"));
  b.add(1'700'000'000'010, std::nullopt, as_bytes("b"));
  Bytes batch = *b.build();
  store_be64(&batch[batch_format::kBaseTimestampAt], uint64_t(INT64_MAX - 5));
  store_be64(&batch[batch_format::kMaxTimestampAt], uint64_t(INT64_MAX));
  store_be32(&batch[batch_format::kCrcAt],
             crc32c::value(ByteSpan(batch).subspan(batch_format::kAttributesAt)));
  c.send(produce_request("t", 0, batch), 7);
  REQUIRE(c.receive<proto::ProduceResponse>(7).responses.at(0).partition_responses.at(0)
              .error_code == 0);
  proto::ListOffsetsRequest req;
  req.replica_id = -1;
  req.topics.push_back({"t", {{0, -1, INT64_MAX - 4}}});
  c.send(req, 5);
  auto p = c.receive<proto::ListOffsetsResponse>(5).topics.at(0).partitions.at(0);
  CHECK(p.error_code == 0);
  CHECK(p.offset == -1);  // the second record's timestamp wraps below the target, as in Java
}

TEST_CASE("admin errors carry Kafka's codes") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  c.send(create_topic_request("t", 1), 4);
  CHECK(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);
  c.send(create_topic_request("t", 1), 4);
  CHECK(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code ==
        err(ErrorCode::kTopicAlreadyExists));
  c.send(create_topic_request("bad/name", 1), 4);
  CHECK(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code ==
        err(ErrorCode::kInvalidTopicException));
  auto with_config = create_topic_request("c", 1);
  with_config.topics[0].configs.push_back({"retention.ms", std::string("soon")});
  c.send(with_config, 4);
  auto bad_cfg = c.receive<proto::CreateTopicsResponse>(4).topics.at(0);
  CHECK(bad_cfg.error_code == err(ErrorCode::kInvalidConfig));
  CHECK(bad_cfg.error_message.value_or("").find("retention.ms") != std::string::npos);

  proto::CreatePartitionsRequest cp;
  cp.topics.push_back({"t", 1, std::nullopt});
  c.send(cp, 1);
  CHECK(c.receive<proto::CreatePartitionsResponse>(1).results.at(0).error_code ==
        err(ErrorCode::kInvalidPartitions));
  cp.topics[0].count = 3;
  c.send(cp, 1);
  CHECK(c.receive<proto::CreatePartitionsResponse>(1).results.at(0).error_code == 0);
  CHECK(f.broker->topics().find("t")->partitions.size() == 3);

  proto::DeleteTopicsRequest del;
  del.topic_names = {"t", "missing"};
  c.send(del, 3);
  auto d = c.receive<proto::DeleteTopicsResponse>(3);
  CHECK(d.responses.at(0).error_code == 0);
  CHECK(d.responses.at(1).error_code == err(ErrorCode::kUnknownTopicOrPartition));
}

TEST_CASE("no topic may be named __cluster_metadata, whose directory is the metadata log's") {
  // Found by fuzz_broker: such a topic's partition 0 opened the metadata log's directory, so
  // a produce to it wrote into the metadata log, and deleting it deleted every topic's record.
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  c.send(create_topic_request("t", 1), 4);
  REQUIRE(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);
  c.send(create_topic_request("__cluster_metadata", 1), 4);
  auto created = c.receive<proto::CreateTopicsResponse>(4).topics.at(0);
  CHECK(created.error_code == err(ErrorCode::kInvalidRequest));
  CHECK(created.error_message.value_or("").find("prohibited") != std::string::npos);
  proto::DeleteTopicsRequest del;
  del.topic_names = {"__cluster_metadata"};
  c.send(del, 3);
  CHECK(c.receive<proto::DeleteTopicsResponse>(3).responses.at(0).error_code ==
        err(ErrorCode::kUnknownTopicOrPartition));
  f.restart();
  CHECK(f.broker->topics().find("t") != nullptr);
  CHECK(f.broker->topics().find("__cluster_metadata") == nullptr);
}

TEST_CASE("DescribeConfigs reports overrides and defaults with their sources") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  auto req = create_topic_request("t", 1);
  req.topics[0].configs.push_back({"retention.ms", std::string("1234")});
  c.send(req, 4);
  REQUIRE(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);
  proto::DescribeConfigsRequest dc;
  dc.resources.push_back({2, "t", std::nullopt});
  dc.include_synonyms = true;
  c.send(dc, 2);
  auto resp = c.receive<proto::DescribeConfigsResponse>(2);
  std::map<std::string, proto::DescribeConfigsResponse::Config> by_name;
  for (auto& cfg : resp.results.at(0).configs) by_name[cfg.name] = cfg;
  CHECK(by_name["retention.ms"].value == "1234");
  CHECK(by_name["retention.ms"].config_source == 1);  // DYNAMIC_TOPIC_CONFIG
  CHECK(by_name["segment.bytes"].value == "1073741824");
  CHECK(by_name["segment.bytes"].config_source == 5);  // DEFAULT_CONFIG
}

TEST_CASE("an error message quoting the longest string a client may send still fits its field") {
  // Found by fuzz_broker: quoted whole, a 32767-byte config value or resource name made an
  // error message too long for an int16 string, and encoding the response asserted.
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  const std::string longest(32767, 'x');
  auto create = create_topic_request("t", 1);
  create.topics[0].configs.push_back({"retention.ms", longest});  // a bad value, quoted
  create.topics.push_back(create_topic_request("u", 1).topics[0]);
  create.topics[1].configs.push_back({longest, std::string("1")});  // an unknown key, quoted
  c.send(create, 4);
  auto created = c.receive<proto::CreateTopicsResponse>(4);
  for (const auto& t : created.topics) {
    CHECK(t.error_code == err(ErrorCode::kInvalidConfig));
    CHECK(t.error_message.value_or("").size() == limits::kErrorMessageBytesMax);
  }
  CHECK(f.broker->topics().topics().empty());

  proto::DescribeConfigsRequest dc;
  dc.resources.push_back({2, longest, std::nullopt});  // no such topic
  dc.resources.push_back({3, longest, std::nullopt});  // no such resource type
  c.send(dc, 0);
  auto described = c.receive<proto::DescribeConfigsResponse>(0);
  REQUIRE(described.results.size() == 2);
  CHECK(described.results[0].error_code == err(ErrorCode::kUnknownTopicOrPartition));
  CHECK(described.results[1].error_code == err(ErrorCode::kInvalidRequest));
  for (const auto& r : described.results) {
    CHECK(r.error_message.value_or("").size() == limits::kErrorMessageBytesMax);
  }
  c.send(proto::ApiVersionsRequest{}, 3);  // and the connection serves on
  CHECK(c.receive<proto::ApiVersionsResponse>(3).error_code == 0);
}

TEST_CASE("topics and records survive a clean restart") {
  BrokerFixture f;
  {
    WireClient c(*f.rt, f.endpoint());
    c.send(create_topic_request("t", 2), 4);
    (void)c.receive<proto::CreateTopicsResponse>(4);
    c.send(produce_request("t", 1, make_batch(7)), 7);
    (void)c.receive<proto::ProduceResponse>(7);
  }
  f.restart();
  WireClient c(*f.rt, f.endpoint());
  REQUIRE(f.broker->topics().find("t") != nullptr);
  CHECK(f.broker->topics().find("t")->partitions.size() == 2);
  c.send(fetch_request("t", 1, 0, 0), 11);
  auto fr = c.receive<proto::FetchResponse>(11);
  CHECK(fr.responses.at(0).partitions.at(0).high_watermark == 7);
}

TEST_CASE("the first FindCoordinator creates __consumer_offsets, and group requests before it "
          "get NOT_COORDINATOR") {
  BrokerFixture f(false);
  f.config.group.offsets_topic_num_partitions = 3;
  f.start();
  WireClient c(*f.rt, f.endpoint());
  proto::OffsetFetchRequest early;
  early.group_id = "g";
  c.send(early, 3);
  CHECK(c.receive<proto::OffsetFetchResponse>(3).error_code ==
        int16_t(proto::ErrorCode::kNotCoordinator));
  CHECK(f.broker->topics().find("__consumer_offsets") == nullptr);
  find_coordinator(c, "g", f.endpoint());
  const auto* offsets = f.broker->topics().find("__consumer_offsets");
  REQUIRE(offsets != nullptr);
  CHECK(offsets->partitions.size() == 3);
  CHECK(offsets->config.cleanup_policy == "compact");
  c.send(early, 3);
  CHECK(c.receive<proto::OffsetFetchResponse>(3).error_code == 0);
}

TEST_CASE("metadata auto-creates topics only when allowed") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  proto::MetadataRequest req;
  req.topics = std::vector<proto::MetadataRequest::Topic>{{"auto"}};
  req.allow_auto_topic_creation = false;
  c.send(req, 4);
  CHECK(c.receive<proto::MetadataResponse>(4).topics.at(0).error_code ==
        err(ErrorCode::kUnknownTopicOrPartition));
  req.allow_auto_topic_creation = true;
  c.send(req, 4);
  auto md = c.receive<proto::MetadataResponse>(4);
  CHECK(md.topics.at(0).error_code == 0);
  CHECK(md.topics.at(0).partitions.size() == 1);
  CHECK(md.cluster_id.has_value());
}

TEST_CASE("an errored partition in a Fetch response still has an empty, non-null record set") {
  // librdkafka fails to parse a null record set, so OFFSET_OUT_OF_RANGE would never reach it.
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  c.send(fetch_request("missing", 3, 0, 0), 11);
  auto fr = c.receive<proto::FetchResponse>(11);
  const auto& pd = fr.responses.at(0).partitions.at(0);
  CHECK(pd.error_code == err(ErrorCode::kUnknownTopicOrPartition));
  REQUIRE(pd.records.has_value());
  CHECK(pd.records->empty());
}

TEST_CASE("Produce below v3 (old message sets) is refused per partition with INVALID_RECORD") {
  BrokerFixture f;
  WireClient c(*f.rt, f.endpoint());
  c.send(create_topic_request("t", 1), 4);
  (void)c.receive<proto::CreateTopicsResponse>(4);
  // A magic-1 message set: offset, size, crc, magic=1, attributes, timestamp, key, value.
  Bytes legacy;
  ByteWriter w(legacy);
  w.i64(0);
  w.i32(22);
  w.u32(0);
  w.i8(1);
  w.i8(0);
  w.i64(0);
  w.i32(-1);
  w.i32(0);
  c.send(produce_request("t", 0, legacy, 1), 2);
  auto r = c.receive<proto::ProduceResponse>(2);
  CHECK(r.responses.at(0).partition_responses.at(0).error_code ==
        err(ErrorCode::kInvalidRecord));
}

TEST_CASE("fetch.max.bytes bounds a response whatever max_bytes asks, past the first batch") {
  BrokerFixture f;
  f.config.fetch_max_bytes = 1024;
  f.restart();
  WireClient c(*f.rt, f.endpoint());
  c.send(create_topic_request("t", 1), 4);
  (void)c.receive<proto::CreateTopicsResponse>(4);
  for (int i = 0; i < 4; ++i) {
    c.send(produce_request("t", 0, make_batch(1, std::string(700, 'a' + i))), 7);
    (void)c.receive<proto::ProduceResponse>(7);
  }
  // One partition named five times, max_bytes at its largest: once the first batch is in
  // (KIP-74: returned even though it alone exceeds the limit), nothing more fits.
  auto req = fetch_request("t", 0, 0, 0);
  req.max_bytes = INT32_MAX;
  for (int i = 0; i < 4; ++i) req.topics[0].partitions.push_back(req.topics[0].partitions[0]);
  for (int16_t version : {int16_t(4), int16_t(11)}) {
    c.send(req, version);
    auto resp = c.receive<proto::FetchResponse>(version);
    size_t total = 0, with_data = 0;
    for (const auto& pd : resp.responses.at(0).partitions) {
      CHECK(pd.error_code == 0);
      size_t n = pd.records ? pd.records->size() : 0;
      total += n;
      with_data += n > 0;
    }
    CHECK(with_data == 1);
    CHECK(total > 700);
    CHECK(total < 1024);
  }
}
