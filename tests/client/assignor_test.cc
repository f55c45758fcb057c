// Assignors (range, roundrobin, cooperative-sticky) and the consumer protocol encoding: pure
// functions, checked for Kafka's layouts and semantics, balance, coverage, stickiness and
// determinism, and for malformed bytes turning into a Status.
#include <catch2/catch.hpp>
#include <random>
#include <set>

#include "engine/client/assignors.h"
#include "engine/client/consumer_protocol.h"

using namespace strata;
using namespace strata::client;

namespace {

TopicPartition tp(const std::string& t, int32_t p) {
  return {t, PartitionId(p)};
}

AssignorMember member(std::string id, std::vector<std::string> topics,
                      std::vector<TopicPartition> owned = {}) {
  return {std::move(id), std::nullopt, std::move(topics), std::move(owned)};
}

// Every partition of a subscribed topic exactly once, and only to subscribers.
void check_coverage(const PartitionCounts& counts, const std::vector<AssignorMember>& members,
                    const GroupAssignment& a) {
  std::map<TopicPartition, int> seen;
  for (const auto& [id, tps] : a) {
    const AssignorMember* m = nullptr;
    for (const auto& x : members) {
      if (x.member_id == id) m = &x;
    }
    REQUIRE(m != nullptr);
    for (const auto& t : tps) {
      CHECK(std::count(m->topics.begin(), m->topics.end(), t.topic) == 1);
      ++seen[t];
    }
  }
  for (const auto& [topic, n] : counts) {
    bool wanted = false;
    for (const auto& m : members) {
      wanted = wanted || std::count(m.topics.begin(), m.topics.end(), topic) > 0;
    }
    for (int32_t p = 0; p < n && wanted; ++p) CHECK(seen[tp(topic, p)] == 1);
  }
}

size_t spread(const GroupAssignment& a) {
  size_t lo = SIZE_MAX, hi = 0;
  for (const auto& [id, tps] : a) {
    lo = std::min(lo, tps.size());
    hi = std::max(hi, tps.size());
  }
  return hi - lo;
}

std::vector<AssignorMember> with_owned(std::vector<AssignorMember> members,
                                       const GroupAssignment& a) {
  for (auto& m : members) {
    auto it = a.find(m.member_id);
    m.owned = it == a.end() ? std::vector<TopicPartition>{} : it->second;
  }
  return members;
}

size_t moved(const GroupAssignment& before, const GroupAssignment& after) {
  size_t n = 0;
  for (const auto& [id, tps] : after) {
    auto it = before.find(id);
    for (const auto& t : tps) {
      if (it == before.end() || !std::binary_search(it->second.begin(), it->second.end(), t)) ++n;
    }
  }
  return n;
}

}  // namespace

TEST_CASE("range assigns per topic, the first members of the sorted list get the extras") {
  PartitionCounts counts{{"a", 7}, {"b", 2}};
  std::vector<AssignorMember> ms = {member("m2", {"a", "b"}), member("m1", {"a", "b"}),
                                    member("m3", {"a"})};
  auto a = assign_range(counts, ms);
  CHECK(a["m1"] == std::vector<TopicPartition>{tp("a", 0), tp("a", 1), tp("a", 2), tp("b", 0)});
  CHECK(a["m2"] == std::vector<TopicPartition>{tp("a", 3), tp("a", 4), tp("b", 1)});
  CHECK(a["m3"] == std::vector<TopicPartition>{tp("a", 5), tp("a", 6)});
  check_coverage(counts, ms, a);
}

TEST_CASE("roundrobin deals sorted partitions over sorted members, skipping non-subscribers") {
  PartitionCounts counts{{"t0", 1}, {"t1", 2}, {"t2", 3}};
  // Kafka's documented example: C0 on t0; C1 on t0, t1; C2 on t0, t1, t2.
  std::vector<AssignorMember> ms = {member("C0", {"t0"}), member("C1", {"t0", "t1"}),
                                    member("C2", {"t0", "t1", "t2"})};
  auto a = assign_roundrobin(counts, ms);
  CHECK(a["C0"] == std::vector<TopicPartition>{tp("t0", 0)});
  CHECK(a["C1"] == std::vector<TopicPartition>{tp("t1", 0)});
  CHECK(a["C2"] == std::vector<TopicPartition>{tp("t1", 1), tp("t2", 0), tp("t2", 1), tp("t2", 2)});
  check_coverage(counts, ms, a);

  PartitionCounts two{{"x", 3}, {"y", 3}};
  std::vector<AssignorMember> same = {member("b", {"x", "y"}), member("a", {"x", "y"})};
  auto r = assign_roundrobin(two, same);
  CHECK(r["a"] == std::vector<TopicPartition>{tp("x", 0), tp("x", 2), tp("y", 1)});
  CHECK(r["b"] == std::vector<TopicPartition>{tp("x", 1), tp("y", 0), tp("y", 2)});
}

TEST_CASE("members without topics, topics without members and no members at all") {
  PartitionCounts counts{{"a", 3}, {"unsubscribed", 4}};
  std::vector<AssignorMember> ms = {member("m1", {"a", "missing"}), member("m2", {})};
  for (auto* fn : {&assign_range, &assign_roundrobin, &assign_sticky, &assign_cooperative_sticky}) {
    auto a = fn(counts, ms);
    CHECK(a.size() == 2);
    CHECK(a["m1"].size() == 3);
    CHECK(a["m2"].empty());
    CHECK(fn(counts, {}).empty());
  }
}

TEST_CASE("every assignor: balanced within one, full coverage, deterministic (random groups)") {
  std::mt19937_64 gen(20261122);  // fixed seed: the failing case reproduces
  for (int round = 0; round < 200; ++round) {
    INFO("round " << round);
    PartitionCounts counts;
    int topics = 1 + int(gen() % 4);
    for (int t = 0; t < topics; ++t) counts["t" + std::to_string(t)] = int32_t(gen() % 13);
    std::vector<std::string> all;
    for (const auto& [t, n] : counts) all.push_back(t);
    std::vector<AssignorMember> ms;
    int n = 1 + int(gen() % 7);
    for (int i = 0; i < n; ++i)
      ms.push_back(member("member-" + std::to_string(gen() % 1000 + i * 1000), all));
    for (const auto* name : {"range", "roundrobin", "cooperative-sticky"}) {
      const Assignor* as = find_assignor(name);
      REQUIRE(as != nullptr);
      auto a = as->assign(counts, ms);
      check_coverage(counts, ms, a);
      if (std::string(name) != "range" || topics == 1) CHECK(spread(a) <= 1);
      auto reversed = ms;
      std::reverse(reversed.begin(), reversed.end());
      CHECK(as->assign(counts, reversed) == a);
    }
  }
}

TEST_CASE("sticky keeps what members own and moves the minimum when a member joins or leaves") {
  PartitionCounts counts{{"t", 6}};
  std::vector<AssignorMember> three = {member("a", {"t"}), member("b", {"t"}), member("c", {"t"})};
  auto first = assign_sticky(counts, three);
  CHECK(spread(first) == 0);

  // c leaves: its two partitions go to a and b, nothing else moves.
  std::vector<AssignorMember> two = with_owned({three[0], three[1]}, first);
  auto after_leave = assign_sticky(counts, two);
  check_coverage(counts, two, after_leave);
  CHECK(spread(after_leave) == 0);
  for (const auto& t : first["a"])
    CHECK(std::count(after_leave["a"].begin(), after_leave["a"].end(), t));
  for (const auto& t : first["b"])
    CHECK(std::count(after_leave["b"].begin(), after_leave["b"].end(), t));
  CHECK(moved(first, after_leave) == 2);

  // d joins a group of three: exactly the partitions it gets move, 6/4 -> 2,2,1,1.
  auto four = with_owned({three[0], three[1], three[2], member("d", {"t"})}, first);
  auto after_join = assign_sticky(counts, four);
  check_coverage(counts, four, after_join);
  CHECK(spread(after_join) <= 1);
  CHECK(moved(first, after_join) == 1);
}

TEST_CASE("sticky balances unequal subscriptions and drops owned partitions that became invalid") {
  PartitionCounts counts{{"x", 4}, {"y", 4}};
  std::vector<AssignorMember> ms = {
      member("a", {"x", "y"},
             {tp("x", 0), tp("x", 1), tp("x", 2), tp("x", 3), tp("y", 0), tp("y", 1), tp("y", 2),
              tp("y", 3)}),
      member("b", {"y"}, {tp("y", 0), tp("x", 9)}),  // y-0 claimed twice; x-9 does not exist
  };
  auto a = assign_sticky(counts, ms);
  check_coverage(counts, ms, a);
  CHECK(a["a"].size() == 4);
  CHECK(a["b"].size() == 4);
  for (const auto& t : a["b"]) CHECK(t.topic == "y");
}

TEST_CASE("cooperative-sticky withholds moving partitions until their owner revoked them") {
  PartitionCounts counts{{"t", 6}};
  std::vector<AssignorMember> ms = {
      member("a", {"t"}, {tp("t", 0), tp("t", 1), tp("t", 2), tp("t", 3), tp("t", 4), tp("t", 5)}),
      member("b", {"t"})};
  // First rebalance: a keeps three and revokes three; b gets nothing yet.
  auto first = assign_cooperative_sticky(counts, ms);
  CHECK(first["a"].size() == 3);
  CHECK(first["b"].empty());
  // Follow-up rebalance (a revoked): the three free partitions go to b; a's stay put.
  auto second = assign_cooperative_sticky(counts, with_owned(ms, first));
  CHECK(second["a"] == first["a"]);
  CHECK(second["b"].size() == 3);
  check_coverage(counts, ms, second);
  // Stable: another rebalance moves nothing.
  CHECK(assign_cooperative_sticky(counts, with_owned(ms, second)) == second);
}

TEST_CASE("partition.assignment.strategy parsing and the rebalance protocol it implies") {
  auto def = parse_assignment_strategy("range, cooperative-sticky");
  REQUIRE(def);
  REQUIRE(def->size() == 2);
  CHECK((*def)[0]->name == "range");
  CHECK(rebalance_protocol(*def) == RebalanceProtocol::kEager);
  auto coop =
      parse_assignment_strategy("org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
  REQUIRE(coop);
  CHECK(rebalance_protocol(*coop) == RebalanceProtocol::kCooperative);
  auto bad = parse_assignment_strategy("range,sticky-ish");
  REQUIRE_FALSE(bad);
  CHECK(bad.status().message().find("unknown assignor 'sticky-ish'") != std::string::npos);
  CHECK_FALSE(parse_assignment_strategy(" , "));
}

TEST_CASE("subscription and assignment round-trip in Kafka's byte layout") {
  Subscription s;
  s.topics = {"a", "bc"};
  s.owned_partitions = {tp("a", 1), tp("a", 0), tp("bc", 7)};
  Bytes b = encode_subscription(s);
  // version 1 | 2 topics: "a", "bc" | null user data | owned: a [1, 0], bc [7]
  Bytes want = {0,    1, 0, 0, 0, 2, 0,   1,   'a', 0, 2, 'b', 'c', 0xff, 0xff, 0xff,
                0xff, 0, 0, 0, 2, 0, 1,   'a', 0,   0, 0, 2,   0,   0,    0,    1,
                0,    0, 0, 0, 0, 2, 'b', 'c', 0,   0, 0, 1,   0,   0,    0,    7};
  CHECK(b == want);
  auto back = decode_subscription(b);
  REQUIRE(back);
  CHECK(back->topics == s.topics);
  CHECK(back->owned_partitions == s.owned_partitions);
  CHECK_FALSE(back->user_data.has_value());

  Subscription v0;
  v0.version = 0;
  v0.topics = {"t"};
  v0.user_data = Bytes{1, 2};
  auto v0back = decode_subscription(encode_subscription(v0));
  REQUIRE(v0back);
  CHECK(v0back->version == 0);
  CHECK(v0back->user_data == Bytes{1, 2});

  MemberAssignment a;
  a.partitions = {tp("t", 2), tp("t", 5)};
  Bytes ab = encode_assignment(a);
  CHECK(ab == Bytes{0, 1, 0, 0, 0, 1, 0, 1, 't',  0,    0,    0,   2,
                    0, 0, 0, 2, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff});
  auto aback = decode_assignment(ab);
  REQUIRE(aback);
  CHECK(aback->partitions == a.partitions);
  auto empty = decode_assignment({});
  REQUIRE(empty);
  CHECK(empty->partitions.empty());
}

TEST_CASE("higher protocol versions are read as far as we know them") {
  Subscription s;
  s.topics = {"t"};
  s.owned_partitions = {tp("t", 3)};
  Bytes b = encode_subscription(s);
  b[1] = 3;                                             // a v3 subscription ...
  for (uint8_t x : {0, 0, 0, 9, 0, 1}) b.push_back(x);  // ... with generation and rack after
  auto back = decode_subscription(b);
  REQUIRE(back);
  CHECK(back->topics == std::vector<std::string>{"t"});
  CHECK(back->owned_partitions == std::vector<TopicPartition>{tp("t", 3)});

  MemberAssignment a;
  a.partitions = {tp("t", 0)};
  Bytes ab = encode_assignment(a);
  ab[1] = 2;
  ab.push_back(0x42);
  auto aback = decode_assignment(ab);
  REQUIRE(aback);
  CHECK(aback->partitions == a.partitions);
}

TEST_CASE("malformed subscriptions and assignments are a Status, never a crash") {
  Subscription s;
  s.topics = {"topic"};
  s.owned_partitions = {tp("topic", 1)};
  Bytes good = encode_subscription(s);
  // Every truncation fails cleanly (except at the end of a whole v0 prefix? no: v1 needs all).
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = decode_subscription(ByteSpan(good.data(), n));
    CHECK_FALSE(r);
    if (!r) CHECK(r.status().code() == StatusCode::kCorruption);
  }
  Bytes negative = {0, 0, 0xff, 0xff, 0xff, 0xfe};  // topic count -2
  auto neg = decode_subscription(negative);
  REQUIRE_FALSE(neg);
  CHECK(neg.status().message() == "consumer subscription: malformed topic count");
  Bytes huge = {0, 0, 0x7f, 0xff, 0xff, 0xff};
  CHECK_FALSE(decode_subscription(huge));
  Bytes bad_version = {0x80, 0};
  CHECK_FALSE(decode_subscription(bad_version));

  MemberAssignment a;
  a.partitions = {tp("t", 1)};
  Bytes ab = encode_assignment(a);
  for (size_t n = 1; n < ab.size(); ++n) CHECK_FALSE(decode_assignment(ByteSpan(ab.data(), n)));
  Bytes neg_partition = {0, 0, 0,    0,    0,    1,    0,    1,    't',  0,   0,
                         0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  auto np = decode_assignment(neg_partition);
  REQUIRE_FALSE(np);
  CHECK(np.status().message() == "consumer assignment: malformed assigned partitions partition");

  // Random bytes: any outcome but a crash.
  std::mt19937 gen(7);
  for (int i = 0; i < 2000; ++i) {
    Bytes junk(gen() % 40);
    for (auto& x : junk) x = uint8_t(gen());
    (void)decode_subscription(junk);
    (void)decode_assignment(junk);
  }
}

TEST_CASE("cooperative-sticky over random joins and leaves: never two owners, converges, sticks") {
  std::mt19937_64 gen(4290);  // fixed seed: the failing case reproduces
  PartitionCounts counts{{"a", 7}, {"b", 5}};
  std::map<std::string, std::vector<TopicPartition>> owned;  // member -> what it holds
  int next_id = 0;
  for (int step = 0; step < 300; ++step) {
    INFO("step " << step);
    if (owned.size() <= 1 || (owned.size() < 8 && gen() % 2 == 0)) {
      owned["m" + std::to_string(100 + next_id++)] = {};
    } else {
      auto it = owned.begin();
      std::advance(it, ptrdiff_t(gen() % owned.size()));
      owned.erase(it);  // left (or was removed): its partitions are free
    }
    auto before = owned;
    // Rebalances until nobody revokes (KIP-429: a revocation triggers a follow-up).
    int rounds = 0;
    for (bool revoked = true; revoked; ++rounds) {
      REQUIRE(rounds < 3);
      std::vector<AssignorMember> ms;
      for (const auto& [id, tps] : owned) ms.push_back(member(id, {"a", "b"}, tps));
      auto a = assign_cooperative_sticky(counts, ms);
      revoked = false;
      std::map<TopicPartition, std::string> holder;
      for (const auto& [id, tps] : owned) {
        for (const auto& t : tps) holder[t] = id;
      }
      for (auto& [id, tps] : owned) {
        for (const auto& t : tps) revoked = revoked || !std::count(a[id].begin(), a[id].end(), t);
        for (const auto& t : a[id]) {
          auto h = holder.find(t);
          CHECK((h == holder.end() || h->second == id));  // never handed out while held
        }
        tps = a[id];
      }
    }
    std::vector<AssignorMember> ms;
    for (const auto& [id, tps] : owned) ms.push_back(member(id, {"a", "b"}, tps));
    GroupAssignment final(owned.begin(), owned.end());
    check_coverage(counts, ms, final);
    CHECK(spread(final) <= 1);
    // Sticky: a member that stayed keeps as much of what it had as its new share allows.
    size_t floor = 12 / owned.size();
    for (const auto& [id, tps] : owned) {
      auto b = before.find(id);
      if (b == before.end()) continue;
      size_t kept = 0;
      for (const auto& t : b->second) kept += std::count(tps.begin(), tps.end(), t);
      CHECK(kept >= std::min(b->second.size(), floor));
    }
  }
}
