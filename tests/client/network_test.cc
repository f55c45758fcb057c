// Failure handling of the network layer: a broker restarting under a producer (retries
// recover every record), a broker that accepts and never answers (request timeouts), and
// one that refuses connections (delivery timeout).
#include <catch2/catch.hpp>

#include <set>

#include "tests/client/client_harness.h"

using namespace strata;
using namespace strata::testing;

namespace {

// Accepts connections and swallows every frame: a paused broker.
struct SilentBroker final : ListenHandler, ConnectionHandler {
  size_t frames = 0;
  ConnectionHandler* on_accept(ConnId, const Endpoint&) override { return this; }
  void on_frame(ConnId, Bytes) override { ++frames; }
  void on_closed(ConnId, const Status&) override {}
};

void pause(PosixRuntime& rt, Duration d) { rt.run_until([] { return false; }, d); }

}  // namespace

TEST_CASE("a broker restart under the producer is ridden out by retries") {
  BrokerFixture f;
  create_topic(*f.rt, f.endpoint(), "restart", 2);
  client::ClientOptions o = client_options(f.endpoint());
  o.reconnect_backoff_ms = 20;
  o.reconnect_backoff_max_ms = 200;
  client::ProducerConfig pc;
  pc.request_timeout_ms = 2000;
  pc.delivery_timeout_ms = 15000;
  pc.retry_backoff_ms = 50;
  pc.linger_ms = 0;  // so that records sent just before the shutdown are really in flight
  client::Producer producer(*f.rt, o, pc);
  int next = 0, acked = 0;
  std::vector<Status> failures;
  auto send_some = [&](int n) {
    for (int i = 0; i < n; ++i, ++next) {
      client::ProducerRecord r{"restart", std::nullopt, bytes_of("k" + std::to_string(next % 7)),
                               bytes_of(std::to_string(next)), {}, {}};
      REQUIRE(producer.send(std::move(r), [&](Result<client::RecordMetadata> md) {
        if (md) {
          ++acked;
        } else {
          failures.push_back(md.status());
        }
      }));
    }
  };
  for (int round = 0; round < 40; ++round) {
    send_some(50);
    pause(*f.rt, milliseconds(10));
    if (round == 10) {  // stop the broker with produce requests in flight, and forget it
      send_some(200);
      f.rt->run_once(Duration(0));  // the requests go out; their answers will not
      REQUIRE(f.broker->shutdown());
      f.broker.reset();
    }
    if (round == 25) f.start();  // same log dir, same port
  }
  REQUIRE(f.rt->run_until([&] { return acked + int(failures.size()) == next; },
                          std::chrono::seconds(15)));
  for (const auto& s : failures) INFO(s.to_string());
  CHECK(failures.empty());
  CHECK(producer.stats().retries > 0);
  close_client(*f.rt, producer.network());

  // At least once: every value is there; retries may have duplicated some.
  auto records = consume(*f.rt, f.endpoint(), "restart", 2, size_t(next));
  std::set<std::string> values;
  for (const auto& r : records) values.insert(str(r.value));
  CHECK(values.size() == size_t(next));
}

TEST_CASE("a broker that never answers makes requests time out") {
  auto rt_or = PosixRuntime::create({.log_level_min = LogLevel::kError});
  REQUIRE(rt_or);
  PosixRuntime& rt = **rt_or;
  SilentBroker silent;
  auto ep = rt.transport().listen(Endpoint{"127.0.0.1", 0}, &silent);
  REQUIRE(ep);
  client::ClientOptions o = client_options(*ep);
  o.request_timeout_ms = 200;
  {
    client::Admin admin(rt, o);
    MonoTime start = rt.now();
    auto r = wait_for<client::ClusterDescription>(rt, [&](auto cb) { admin.list_topics(cb); });
    Duration took = rt.now() - start;
    REQUIRE_FALSE(r);
    CHECK(r.status().code() == StatusCode::kTimedOut);
    CHECK(took >= milliseconds(190));
    CHECK(took < std::chrono::seconds(3));
    CHECK(silent.frames >= 1);  // the ApiVersions handshake went out and was never answered
    close_client(rt, admin.network());
  }
  {
    client::ProducerConfig pc;
    pc.request_timeout_ms = 100;
    pc.linger_ms = 0;
    pc.delivery_timeout_ms = 400;
    client::Producer producer(rt, o, pc);
    std::optional<Status> outcome;
    client::ProducerRecord r{"t", std::nullopt, std::nullopt, bytes_of("v"), {}, {}};
    REQUIRE(producer.send(r, [&](auto md) { outcome = md.status(); }));
    REQUIRE(rt.run_until([&] { return outcome.has_value(); }, std::chrono::seconds(3)));
    CHECK(outcome->code() == StatusCode::kTimedOut);
    close_client(rt, producer.network());
  }
  rt.transport().stop_listening(*ep);
}

TEST_CASE("a refused connection fails requests with a retriable error") {
  auto rt_or = PosixRuntime::create({.log_level_min = LogLevel::kError});
  REQUIRE(rt_or);
  PosixRuntime& rt = **rt_or;
  // Find a free port, then stop listening on it so connections are refused.
  SilentBroker silent;
  auto ep = rt.transport().listen(Endpoint{"127.0.0.1", 0}, &silent);
  REQUIRE(ep);
  rt.transport().stop_listening(*ep);
  client::Admin admin(rt, client_options(*ep));
  auto r = wait_for<client::ClusterDescription>(rt, [&](auto cb) { admin.list_topics(cb); });
  REQUIRE_FALSE(r);
  CHECK(client::is_retriable(r.status()));
  close_client(rt, admin.network());
}

TEST_CASE("bootstrap server lists parse and reject bad entries") {
  auto ok = client::parse_bootstrap_servers("a:1, b:9092,[::1]:9093");
  REQUIRE(ok);
  REQUIRE(ok->size() == 3);
  CHECK((*ok)[2].host == "::1");
  CHECK((*ok)[2].port == 9093);
  CHECK_FALSE(client::parse_bootstrap_servers("nohost"));
  CHECK_FALSE(client::parse_bootstrap_servers("h:0"));
  CHECK_FALSE(client::parse_bootstrap_servers("h:99999"));
  CHECK_FALSE(client::parse_bootstrap_servers(""));
}
