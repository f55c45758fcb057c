// The metadata record codec and the image's replay checks, and the placement of replicas.
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "engine/controller/metadata_image.h"
#include "engine/controller/placement.h"

namespace strata::controller {
namespace {

TopicId tid(uint8_t b) {
  TopicId id{};
  id.fill(b);
  return id;
}

std::vector<NodeId> nodes(std::initializer_list<int32_t> ids) {
  std::vector<NodeId> out;
  for (int32_t i : ids) out.emplace_back(i);
  return out;
}

std::vector<MetadataRecord> one_of_each() {
  return {
      RegisterBrokerRecord{NodeId(3), tid(7), 12, {{"PLAINTEXT", "b3.local", 9092}}, "rack-a"},
      RegisterBrokerRecord{NodeId(4), tid(8), 13, {}, std::nullopt},
      UnregisterBrokerRecord{NodeId(3), 12},
      FenceBrokerRecord{NodeId(4), 13},
      UnfenceBrokerRecord{NodeId(4), 13},
      TopicRecord{"orders", tid(1)},
      PartitionRecord{tid(1), 2, nodes({1, 2, 3}), nodes({1, 3}), NodeId(3), LeaderEpoch(5), 9},
      PartitionChangeRecord{tid(1), 2, NodeId(-1), nodes({1}), std::nullopt},
      PartitionChangeRecord{tid(1), 0, std::nullopt, std::nullopt, nodes({2, 1})},
      RemoveTopicRecord{tid(1)},
      ConfigRecord{"orders", "retention.ms", "1000"},
      ConfigRecord{"orders", "cleanup.policy", std::nullopt},
      ProducerIdsRecord{NodeId(4), 13, 5000},
  };
}

TEST_CASE("records: every type survives encode and decode", "[controller][records]") {
  for (const MetadataRecord& record : one_of_each()) {
    INFO(describe(record));
    Bytes bytes = encode_metadata_record(record);
    auto back = decode_metadata_record(bytes);
    REQUIRE(back.is_ok());
    CHECK(back.value() == record);
  }
}

TEST_CASE("records: truncated, extended or unknown bytes are corruption, never a crash",
          "[controller][records]") {
  for (const MetadataRecord& record : one_of_each()) {
    Bytes bytes = encode_metadata_record(record);
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      auto r = decode_metadata_record(ByteSpan(bytes.data(), cut));
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == StatusCode::kCorruption);
    }
    Bytes longer = bytes;
    longer.push_back(0);
    CHECK_FALSE(decode_metadata_record(longer).is_ok());
  }
  Bytes unknown_type{0x00, 0x63, 0x00, 0x00};
  auto r = decode_metadata_record(unknown_type);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("unknown type 99") != std::string::npos);
  Bytes unknown_version = encode_metadata_record(RemoveTopicRecord{tid(1)});
  unknown_version[3] = 1;
  CHECK(decode_metadata_record(unknown_version).status().message().find("version 1") !=
        std::string::npos);
  // A node list claiming two billion entries is refused before anything is allocated.
  Bytes huge = encode_metadata_record(
      PartitionRecord{tid(1), 0, nodes({1}), nodes({1}), NodeId(1), LeaderEpoch(0), 0});
  huge[4 + 16 + 4] = 0x7f;
  CHECK_FALSE(decode_metadata_record(huge).is_ok());
}

TEST_CASE("topic ids: Kafka's text form, canonical only", "[controller][records]") {
  TopicId counting{};
  for (size_t i = 0; i < counting.size(); ++i) counting[i] = uint8_t(i);
  CHECK(to_base64url(counting) == "AAECAwQFBgcICQoLDA0ODw");
  CHECK(to_base64url(tid(0xff)) == "_____________________w");
  CHECK(to_base64url(tid(0)) == "AAAAAAAAAAAAAAAAAAAAAA");
  for (uint8_t b : {0x00, 0x01, 0x7f, 0xa5, 0xff}) {
    CHECK(topic_id_from_base64url(to_base64url(tid(b))) == tid(b));
  }
  CHECK(topic_id_from_base64url("AAECAwQFBgcICQoLDA0ODw") == counting);
  CHECK_FALSE(topic_id_from_base64url("AAECAwQFBgcICQoLDA0OD"));     // 21 characters
  CHECK_FALSE(topic_id_from_base64url("AAECAwQFBgcICQoLDA0ODwA"));   // 23
  CHECK_FALSE(topic_id_from_base64url("AAECAwQFBgcICQoLDA0OD="));    // padding
  CHECK_FALSE(topic_id_from_base64url("AAECAwQFBgcICQoLDA0OD+"));    // not the URL alphabet
  CHECK_FALSE(topic_id_from_base64url("AAECAwQFBgcICQoLDA0ODx"));    // low bits set
  CHECK_FALSE(topic_id_from_base64url(std::string("AAECAwQFBgcICQoLDA0OD\0", 22)));
}

TEST_CASE("image: records that contradict the image are refused and change nothing",
          "[controller][image]") {
  MetadataImage image;
  int64_t at = 0;
  auto replay = [&](MetadataRecord r) { return image.replay(r, Offset(at++)); };
  REQUIRE(replay(RegisterBrokerRecord{NodeId(1), tid(1), 1, {}, {}}));
  REQUIRE(replay(UnfenceBrokerRecord{NodeId(1), 1}));
  REQUIRE(replay(RegisterBrokerRecord{NodeId(2), tid(2), 2, {}, {}}));  // stays fenced
  REQUIRE(replay(TopicRecord{"t", tid(9)}));

  CHECK_FALSE(replay(RegisterBrokerRecord{NodeId(3), tid(3), 2, {}, {}}));  // epoch not up
  CHECK_FALSE(replay(UnfenceBrokerRecord{NodeId(2), 7}));                   // stale epoch
  CHECK_FALSE(replay(TopicRecord{"t", tid(8)}));                            // name taken
  CHECK_FALSE(replay(PartitionRecord{tid(5), 0, nodes({1}), nodes({1}), NodeId(1), {}, 0}));
  CHECK_FALSE(replay(PartitionRecord{tid(9), 1, nodes({1}), nodes({1}), NodeId(1), {}, 0}));
  // A fenced leader, a leader outside the ISR, an ISR member that is no replica.
  CHECK_FALSE(replay(PartitionRecord{tid(9), 0, nodes({2}), nodes({2}), NodeId(2), {}, 0}));
  CHECK_FALSE(replay(PartitionRecord{tid(9), 0, nodes({1, 2}), nodes({2}), NodeId(1), {}, 0}));
  CHECK_FALSE(replay(PartitionRecord{tid(9), 0, nodes({1}), nodes({1, 2}), NodeId(1), {}, 0}));
  CHECK_FALSE(replay(PartitionRecord{tid(9), 0, nodes({1, 1}), nodes({1}), NodeId(1), {}, 0}));
  CHECK(image.topic("t")->partitions.empty());

  REQUIRE(replay(PartitionRecord{tid(9), 0, nodes({1, 2}), nodes({1}), NodeId(1), {}, 0}));
  // Broker 1 leads t-0, so it cannot be fenced before leadership moves.
  auto fenced = replay(FenceBrokerRecord{NodeId(1), 1});
  REQUIRE_FALSE(fenced);
  CHECK(fenced.message().find("still leads t-0") != std::string::npos);
  REQUIRE(replay(PartitionChangeRecord{tid(9), 0, kNoNode, {}, {}}));
  REQUIRE(replay(FenceBrokerRecord{NodeId(1), 1}));
  const PartitionRegistration* p = image.partition(tid(9), 0);
  CHECK(p->leader == kNoNode);
  CHECK(p->leader_epoch == LeaderEpoch(1));
  CHECK(p->partition_epoch == 1);
  CHECK_FALSE(image.replay(ProducerIdsRecord{NodeId(1), 1, 10}, Offset(3)));  // offset behind
  image.check_invariants();
}

TEST_CASE("placement: replicas spread evenly, distinct, leaders round the ring",
          "[controller][placement]") {
  std::vector<NodeId> brokers = nodes({1, 2, 3, 4, 5});
  for (uint64_t random : {uint64_t(0), uint64_t(7), uint64_t(123456789)}) {
    auto placed = place_replicas(brokers, {0, 20, 3, random});
    REQUIRE(placed.size() == 20);
    std::map<NodeId, int> leaders, replicas;
    std::set<std::vector<NodeId>> distinct_lists;
    for (const auto& r : placed) {
      REQUIRE(r.size() == 3);
      CHECK(std::set<NodeId>(r.begin(), r.end()).size() == 3);
      ++leaders[r[0]];
      for (NodeId n : r) ++replicas[n];
      distinct_lists.insert(r);
    }
    for (NodeId b : brokers) {
      CHECK(leaders[b] == 4);    // 20 partitions over 5 brokers
      CHECK(replicas[b] == 12);  // 60 replicas over 5 brokers
    }
    CHECK(distinct_lists.size() > 5);  // the followers' distance changes every 5 partitions
  }
  // One broker, one replica each: all on it.
  auto single = place_replicas(nodes({7}), {0, 3, 1, 99});
  for (const auto& r : single) CHECK(r == nodes({7}));
  // Adding partitions 4..5 continues the ring where it left off.
  auto all = place_replicas(brokers, {0, 6, 2, 42});
  auto tail = place_replicas(brokers, {4, 2, 2, 42});
  CHECK(tail[0] == all[4]);
  CHECK(tail[1] == all[5]);
}

}  // namespace
}  // namespace strata::controller
