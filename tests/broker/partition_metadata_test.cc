// partition.metadata: every partition directory names its topic id; a directory left from a
// deleted topic, or from an earlier topic of the same name, is removed at start instead of
// being served; an older strata's directory is adopted; an unreadable file stops the start.
#include "engine/broker/partition_metadata.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/broker/broker_harness.h"

namespace strata::testing {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

int64_t high_watermark(WireClient<PosixRuntime>& c, const std::string& topic, int32_t p) {
  c.send(fetch_request(topic, p, 0, 0), 11);
  auto fr = c.receive<proto::FetchResponse>(11);
  REQUIRE(fr.responses.at(0).partitions.at(0).error_code == 0);
  return fr.responses.at(0).partitions.at(0).high_watermark;
}

void produce(WireClient<PosixRuntime>& c, const std::string& topic, int32_t p, int n) {
  c.send(produce_request(topic, p, make_batch(n)), 7);
  auto resp = c.receive<proto::ProduceResponse>(7);
  REQUIRE(resp.responses.at(0).partition_responses.at(0).error_code == 0);
}

TEST_CASE("partition.metadata names the topic id, and strays are removed at start, not served") {
  BrokerFixture f;
  {
    WireClient c(*f.rt, f.endpoint());
    for (const char* t : {"t", "u", "gone"}) {
      c.send(create_topic_request(t, 2), 4);
      REQUIRE(c.receive<proto::CreateTopicsResponse>(4).topics.at(0).error_code == 0);
    }
    produce(c, "t", 0, 3);
    produce(c, "t", 1, 4);
    produce(c, "u", 0, 5);
    produce(c, "gone", 0, 6);
  }
  const std::string t0 = f.dir + "/t-0/partition.metadata";
  const std::string t1 = f.dir + "/t-1/partition.metadata";
  std::string text = read_text(t0);
  REQUIRE(text.size() == std::string("version: 0\ntopic_id: \n").size() + 22);
  CHECK(text.starts_with("version: 0\ntopic_id: "));
  CHECK(read_text(t1) == text);  // one topic, one id
  CHECK(read_text(f.dir + "/u-0/partition.metadata") != text);
  REQUIRE(f.broker->shutdown());
  f.broker.reset();

  // While the broker is down: t-1 now claims another topic id (as if t had been deleted and
  // created again elsewhere), t-0 lost its file (an older strata's directory), u-1's file is
  // garbage, and the directories of "gone" are joined by a copy of them under "ghost", a
  // topic the cluster has never had. Unrelated names are not partitions and stay.
  write_text(t1, "version: 0\ntopic_id: AAECAwQFBgcICQoLDA0ODw\n");
  std::filesystem::remove(t0);
  std::filesystem::copy(f.dir + "/gone-0", f.dir + "/ghost-0");
  std::filesystem::create_directories(f.dir + "/notes");
  std::filesystem::create_directories(f.dir + "/t-01");
  f.start();
  {
    WireClient c(*f.rt, f.endpoint());
    CHECK(high_watermark(c, "t", 0) == 3);  // adopted: its data stays
    CHECK(read_text(t0) == text);           // and it names t's id again
    CHECK(high_watermark(c, "t", 1) == 0);  // the earlier topic's records are not t's
    CHECK(read_text(t1) == text);
    CHECK(high_watermark(c, "u", 0) == 5);
    CHECK(high_watermark(c, "gone", 0) == 6);
  }
  CHECK_FALSE(std::filesystem::exists(f.dir + "/ghost-0"));
  CHECK(std::filesystem::exists(f.dir + "/notes"));
  CHECK(std::filesystem::exists(f.dir + "/t-01"));
  CHECK(std::filesystem::exists(f.dir + "/__cluster_metadata-0"));

  // A topic deleted through the broker leaves nothing behind.
  {
    WireClient c(*f.rt, f.endpoint());
    proto::DeleteTopicsRequest del;
    del.topic_names = {"gone"};
    del.timeout_ms = 5000;
    c.send(del, 3);
    REQUIRE(c.receive<proto::DeleteTopicsResponse>(3).responses.at(0).error_code == 0);
  }
  CHECK_FALSE(std::filesystem::exists(f.dir + "/gone-0"));
  CHECK_FALSE(std::filesystem::exists(f.dir + "/gone-1"));

  // An unreadable partition.metadata stops the start and names the file: its data is kept.
  REQUIRE(f.broker->shutdown());
  f.broker.reset();
  write_text(f.dir + "/u-1/partition.metadata", "version: 0\ntopic_id: not-an-id\n");
  {
    broker::Broker b(*f.rt, f.config);
    Status started = b.start();
    REQUIRE_FALSE(started);
    CHECK(started.code() == StatusCode::kCorruption);
    CHECK(started.message().find("u-1/partition.metadata:2: 'not-an-id' is not a topic id") !=
          std::string::npos);
  }
  CHECK(std::filesystem::exists(f.dir + "/u-0/00000000000000000000.log"));
}

TEST_CASE("partition.metadata: the parser names the line and field it cannot read") {
  auto rt = PosixRuntime::create({.log_level_min = LogLevel::kWarn});
  REQUIRE(rt);
  auto dir = (std::filesystem::temp_directory_path() /
              ("strata-pm-test-" + std::to_string((*rt)->random_u64())))
                 .string();
  std::filesystem::create_directories(dir);
  auto read = [&](const std::string& text) {
    write_text(dir + "/partition.metadata", text);
    return broker::read_partition_metadata(**rt, dir);
  };
  std::filesystem::remove(dir + "/partition.metadata");
  auto missing = broker::read_partition_metadata(**rt, dir);
  REQUIRE(missing);
  CHECK_FALSE(*missing);
  auto good = read("version: 0\ntopic_id: AAECAwQFBgcICQoLDA0ODw\n");
  REQUIRE(good);
  REQUIRE(*good);
  CHECK((**good)[15] == 15);
  CHECK(read("version: 1\ntopic_id: AAECAwQFBgcICQoLDA0ODw\n")
            .status()
            .message()
            .find(":1: unknown version '1'") != std::string::npos);
  CHECK(read("version: 0\n").status().message().find("needs version and topic_id") !=
        std::string::npos);
  CHECK(read("version: 0\nowner: me\n").status().message().find(":2: unknown key 'owner'") !=
        std::string::npos);
  CHECK(read("version 0\n").status().message().find(":1: expected 'key: value'") !=
        std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("partition directory names: '<topic>-<partition>' and nothing else") {
  using broker::parse_partition_dir_name;
  auto p = parse_partition_dir_name("my-topic-12");
  REQUIRE(p);
  CHECK(p->topic == "my-topic");
  CHECK(p->partition == 12);
  CHECK(parse_partition_dir_name("t-0"));
  for (const char* bad : {"t", "t-", "-1", "t-01", "t-x", "t-1x", "t-+1", "t-99999999999"}) {
    INFO(bad);
    CHECK_FALSE(parse_partition_dir_name(bad));
  }
}

}  // namespace
}  // namespace strata::testing
