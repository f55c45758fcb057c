#include <catch2/catch.hpp>

#include "engine/broker/config.h"

using namespace strata;
using namespace strata::broker;

namespace {
Result<ConfigLoad> load(std::string_view text) {
  auto entries = parse_properties(text, "server.properties");
  if (!entries) return entries.status();
  return load_broker_config(*entries, "server.properties");
}
}  // namespace

TEST_CASE("properties syntax: separators, comments, continuations, escapes") {
  auto r = parse_properties(
      "# comment\n! also comment\n\na=1\nb : 2\nc 3\n  d=multi \\\n   line\ne=x\\=y\r\n",
      "f");
  REQUIRE(r);
  REQUIRE(r->size() == 5);
  CHECK((*r)[0].key == "a");
  CHECK((*r)[1].value == "2");
  CHECK((*r)[2].value == "3");
  CHECK((*r)[3].value == "multi line");
  CHECK((*r)[3].line == 7);
  CHECK((*r)[4].value == "x=y");
}

TEST_CASE("defaults are Kafka's") {
  auto r = load("");
  REQUIRE(r);
  const BrokerConfig& c = r->config;
  CHECK(c.num_partitions == 1);
  CHECK(c.auto_create_topics_enable);
  CHECK(c.listeners.front().port == 9092);
  CHECK(c.topic_defaults.segment_bytes == 1073741824);
  CHECK(c.topic_defaults.retention_ms == 604800000);
  CHECK(c.topic_defaults.retention_bytes == -1);
  CHECK(c.topic_defaults.flush_messages == kLongMax);
  CHECK(c.log_dirs == std::vector<std::string>{"/tmp/kafka-logs"});
  CHECK(c.broker_heartbeat_interval_ms == 2000);
  CHECK(c.broker_session_timeout_ms == 9000);
  CHECK_FALSE(c.topic_defaults.unclean_leader_election_enable);
}

TEST_CASE("keys set fields, hours/minutes/ms precedence") {
  auto r = load(
      "node.id=3\nlisteners=PLAINTEXT://127.0.0.1:19092\nlog.dirs=/a, /b\n"
      "log.retention.hours=1\nlog.segment.bytes=1048576\nnum.partitions=8\n"
      "log.flush.interval.messages=1\nauto.create.topics.enable=false\n"
      "broker.session.timeout.ms=18000\nbroker.heartbeat.interval.ms=500\n");
  REQUIRE(r);
  CHECK(r->config.node_id == NodeId{3});
  CHECK(r->config.listeners.front().host == "127.0.0.1");
  CHECK(r->config.listeners.front().port == 19092);
  CHECK(r->config.log_dirs == std::vector<std::string>{"/a", "/b"});
  CHECK(r->config.topic_defaults.retention_ms == 3600000);
  CHECK(r->config.topic_defaults.segment_bytes == 1048576);
  CHECK(r->config.topic_defaults.flush_messages == 1);
  CHECK_FALSE(r->config.auto_create_topics_enable);
  CHECK(r->config.broker_session_timeout_ms == 18000);
  CHECK(r->config.broker_heartbeat_interval_ms == 500);

  auto both = load("log.retention.ms=5\nlog.retention.hours=1\n");
  REQUIRE(both);
  CHECK(both->config.topic_defaults.retention_ms == 5);
}

TEST_CASE("controller.quorum.voters names one voter as id@host:port") {
  auto r = load("node.id=2\ncontroller.quorum.voters=0@[::1]:9093\n");
  REQUIRE(r);
  REQUIRE(r->config.controller.has_value());
  CHECK(r->config.controller->id == NodeId(0));
  CHECK(r->config.controller->endpoint == Endpoint{"::1", 9093});
  CHECK_FALSE(r->config.is_controller());
  CHECK(load("").value().config.is_controller());
  for (const char* bad : {"0@a:1,1@b:2", "a:9093", "x@a:9093", "0@a", "0@a:0", "0@:9093"}) {
    INFO(bad);
    CHECK_FALSE(load(std::string("controller.quorum.voters=") + bad + "\n"));
  }
}

TEST_CASE("unknown keys warn by name, ignored Kafka keys say so") {
  auto r = load("num.io.threads=8\nfoo.bar=1\n");
  REQUIRE(r);
  REQUIRE(r->warnings.size() == 2);
  CHECK(r->warnings[0].find("num.io.threads") != std::string::npos);
  CHECK(r->warnings[0].find("no effect") != std::string::npos);
  CHECK(r->warnings[1] == "server.properties:2: unknown key 'foo.bar' ignored");
}

TEST_CASE("bad values are errors naming file, line, key and value") {
  auto r = load("\nnum.partitions=lots\n");
  REQUIRE_FALSE(r);
  CHECK(r.status().message() ==
        "server.properties:2: invalid value 'lots' for num.partitions: expected an integer");
  auto l = load("listeners=nonsense\n");
  REQUIRE_FALSE(l);
  CHECK(l.status().message().find("listeners") != std::string::npos);
  auto b = load("auto.create.topics.enable=yes\n");
  REQUIRE_FALSE(b);
  auto p = load("log.cleanup.policy=shred\n");
  REQUIRE_FALSE(p);
  CHECK(p.status().message().find("expected one of") != std::string::npos);
}

TEST_CASE("overrides come last and win") {
  auto entries = parse_properties("num.partitions=2\n", "f");
  REQUIRE(entries);
  auto o = parse_override("num.partitions=5");
  REQUIRE(o);
  entries->push_back(*o);
  auto r = load_broker_config(*entries, "f");
  REQUIRE(r);
  CHECK(r->config.num_partitions == 5);
  CHECK_FALSE(parse_override("novalue"));
}

TEST_CASE("topic overrides validate keys and values") {
  TopicConfig d;
  auto ok = apply_overrides(d, {{"retention.ms", "1000"}, {"cleanup.policy", "compact"}});
  REQUIRE(ok);
  CHECK(ok->retention_ms == 1000);
  CHECK_FALSE(apply_overrides(d, {{"retention.ms", "soon"}}));
  CHECK_FALSE(apply_overrides(d, {{"no.such.key", "1"}}));
}

TEST_CASE("an override replaces the file's value, which is then not validated") {
  auto entries = parse_properties("num.partitions=lots\n", "f");
  REQUIRE(entries);
  entries->push_back(*parse_override("num.partitions=3"));
  auto r = load_broker_config(*entries, "f");
  REQUIRE(r);
  CHECK(r->config.num_partitions == 3);
}
