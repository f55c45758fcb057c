// Admin: create / describe / alter / delete topics and their Kafka errors.
#include <catch2/catch.hpp>

#include "tests/client/client_harness.h"

using namespace strata;
using namespace strata::testing;

namespace {

using Results = std::vector<client::TopicResult>;

int16_t code(proto::ErrorCode c) { return proto::to_int(c); }

}  // namespace

TEST_CASE("admin creates, describes, grows and deletes topics, naming Kafka's errors") {
  BrokerFixture f;
  client::Admin admin(*f.rt, client_options(f.endpoint()));
  auto& rt = *f.rt;

  auto created = wait_for<Results>(rt, [&](auto cb) {
    admin.create_topics({{"orders", 3, 1, {{"retention.ms", "60000"}}}, {"bad", 0, 1, {}}}, cb);
  });
  REQUIRE(created);
  REQUIRE(created->size() == 2);
  CHECK((*created)[0].error_code == 0);
  CHECK((*created)[1].error_code == code(proto::ErrorCode::kInvalidPartitions));

  auto again = wait_for<Results>(rt, [&](auto cb) { admin.create_topics({{"orders", 3}}, cb); });
  REQUIRE(again);
  CHECK((*again)[0].error_code == code(proto::ErrorCode::kTopicAlreadyExists));
  CHECK((*again)[0].status().message().find("TOPIC_ALREADY_EXISTS") == 0);
  CHECK((*again)[0].status().code() == StatusCode::kAlreadyExists);

  auto described = wait_for<client::ClusterDescription>(
      rt, [&](auto cb) { admin.describe_topics({"orders", "missing"}, cb); });
  REQUIRE(described);
  REQUIRE(described->topics.size() == 2);
  const auto& missing = described->topics[0];  // sorted by name
  const auto& orders = described->topics[1];
  CHECK(missing.error_code == code(proto::ErrorCode::kUnknownTopicOrPartition));
  CHECK(orders.partitions.size() == 3);
  CHECK(orders.partitions[2].leader == f.broker->node_id());
  CHECK(described->brokers.size() == 1);

  auto configs = wait_for<std::vector<client::ConfigResourceResult>>(
      rt, [&](auto cb) { admin.describe_configs({"orders"}, cb); });
  REQUIRE(configs);
  REQUIRE(configs->size() == 1);
  bool found = false;
  for (const auto& e : (*configs)[0].entries) {
    if (e.name == "retention.ms") {
      found = true;
      CHECK(e.value == "60000");
      CHECK_FALSE(e.is_default);
    }
  }
  CHECK(found);

  auto grown =
      wait_for<Results>(rt, [&](auto cb) { admin.create_partitions({{"orders", 5}}, cb); });
  REQUIRE(grown);
  CHECK((*grown)[0].error_code == 0);
  auto shrunk =
      wait_for<Results>(rt, [&](auto cb) { admin.create_partitions({{"orders", 2}}, cb); });
  REQUIRE(shrunk);
  CHECK((*shrunk)[0].error_code == code(proto::ErrorCode::kInvalidPartitions));

  auto listed = wait_for<client::ClusterDescription>(rt, [&](auto cb) { admin.list_topics(cb); });
  REQUIRE(listed);
  REQUIRE(listed->topics.size() == 1);
  CHECK(listed->topics[0].partitions.size() == 5);

  auto deleted =
      wait_for<Results>(rt, [&](auto cb) { admin.delete_topics({"orders", "nope"}, cb); });
  REQUIRE(deleted);
  CHECK((*deleted)[0].error_code == 0);
  CHECK((*deleted)[1].error_code == code(proto::ErrorCode::kUnknownTopicOrPartition));
  auto after = wait_for<client::ClusterDescription>(rt, [&](auto cb) { admin.list_topics(cb); });
  REQUIRE(after);
  CHECK(after->topics.empty());
  close_client(rt, admin.network());
}
