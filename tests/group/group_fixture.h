// Test support for engine/group: a fake GroupLog and a fixture that drives a GroupCoordinator
// on a FakeRuntime.
//
// FakeGroupLog keeps every record it stored (the "durable" __consumer_offsets log, in append
// order, so that a test can replay it into a fresh coordinator), fails appends on demand, and
// completes appends either inside append() (kSync) or when the test calls settle() (kDeferred).
// The fixture hands out Reply<T> slots for callbacks; each slot fails the test if called twice,
// and the fixture's destructor fails it if a slot was never called (unless marked).
#pragma once

#include <catch2/catch.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/group/coordinator.h"
#include "tests/support/fake_runtime.h"

namespace strata::group::testing {

using strata::testing::FakeRuntime;

enum class LogMode { kSync, kDeferred };

inline const char* mode_name(LogMode m) { return m == LogMode::kSync ? "sync" : "deferred"; }

inline Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string str_of(const Bytes& b) { return std::string(b.begin(), b.end()); }

struct StoredRecord {
  int32_t partition;
  OffsetsRecord record;
};

class FakeGroupLog : public GroupLog {
 public:
  explicit FakeGroupLog(LogMode mode) : mode_(mode) {}

  void append(int32_t partition, std::vector<OffsetsRecord> records,
              std::function<void(Status)> done) override {
    ++appends;
    Status s = ok_status();
    if (fail_all || fail_next > 0) {
      if (fail_next > 0) --fail_next;
      s = Status::io_error("injected append failure");
      ++failed_appends;
    } else {
      for (OffsetsRecord& r : records) stored.push_back({partition, std::move(r)});
    }
    if (mode_ == LogMode::kSync) {
      done(s);
    } else {
      pending_.emplace_back(std::move(s), std::move(done));
    }
  }

  // Completes appends (in order) until none is pending; a completion may append more.
  size_t settle() {
    size_t n = 0;
    while (!pending_.empty()) {
      auto [s, done] = std::move(pending_.front());
      pending_.pop_front();
      done(s);
      ++n;
    }
    return n;
  }
  // Completes only the oldest pending append.
  bool complete_one() {
    if (pending_.empty()) return false;
    auto [s, done] = std::move(pending_.front());
    pending_.pop_front();
    done(s);
    return true;
  }
  size_t pending() const { return pending_.size(); }
  LogMode mode() const { return mode_; }

  // Decoded views of what was stored.
  std::vector<GroupRecord> group_values(std::string_view group) const {
    std::vector<GroupRecord> out;
    for (const StoredRecord& r : stored) {
      auto k = decode_offsets_key(r.record.key);
      if (!k || k->kind != OffsetsKey::Kind::kGroup || k->group != group) continue;
      if (!r.record.value) continue;
      auto v = decode_group_value(*r.record.value);
      REQUIRE(v.is_ok());
      out.push_back(*v);
    }
    return out;
  }
  size_t group_tombstones(std::string_view group) const {
    return count_if_key(group, OffsetsKey::Kind::kGroup, false);
  }
  size_t offset_tombstones(std::string_view group) const {
    return count_if_key(group, OffsetsKey::Kind::kOffset, false);
  }
  size_t offset_values(std::string_view group) const {
    return count_if_key(group, OffsetsKey::Kind::kOffset, true);
  }

  std::vector<StoredRecord> stored;
  size_t appends = 0;
  size_t failed_appends = 0;
  int fail_next = 0;
  bool fail_all = false;

 private:
  size_t count_if_key(std::string_view group, OffsetsKey::Kind kind, bool with_value) const {
    size_t n = 0;
    for (const StoredRecord& r : stored) {
      auto k = decode_offsets_key(r.record.key);
      if (k && k->kind == kind && k->group == group && r.record.value.has_value() == with_value) {
        ++n;
      }
    }
    return n;
  }

  LogMode mode_;
  std::deque<std::pair<Status, std::function<void(Status)>>> pending_;
};

// One callback's slot: counts calls, keeps the last value.
template <class T>
struct Reply {
  int calls = 0;
  T value{};
  bool may_stay_pending = false;
  std::string what;

  std::function<void(T)> cb() {
    return [this](T v) {
      INFO("callback " << what);
      CHECK(calls == 0);  // at most once
      ++calls;
      value = std::move(v);
    };
  }
  bool done() const { return calls > 0; }
  const T* operator->() const { return &value; }
};

inline GroupConfig test_config() {
  GroupConfig c;
  c.initial_rebalance_delay_ms = 0;
  c.offsets_retention_check_interval_ms = 60'000;
  return c;
}

inline JoinRequest join_req(std::string group, std::string member_id = {},
                            std::vector<Protocol> protocols = {{"range", bytes_of("sub")}}) {
  JoinRequest r;
  r.group_id = std::move(group);
  r.member_id = std::move(member_id);
  r.client_id = "client";
  r.client_host = "/127.0.0.1";
  r.session_timeout_ms = 10'000;
  r.rebalance_timeout_ms = 30'000;
  r.protocol_type = "consumer";
  r.protocols = std::move(protocols);
  return r;
}

struct Fixture {
  explicit Fixture(LogMode mode, GroupConfig c = test_config())
      : log(mode), config(c), coord(std::make_unique<GroupCoordinator>(rt, config, log)) {}

  ~Fixture() {
    coord.reset();
    for (const auto& r : joins) check_answered(*r);
    for (const auto& r : syncs) check_answered(*r);
    for (const auto& r : commits) check_answered(*r);
    for (const auto& r : deletes) check_answered(*r);
  }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;

  template <class T>
  static void check_answered(const Reply<T>& r) {
    if (r.may_stay_pending) return;
    INFO("callback " << r.what << " was never called");
    CHECK(r.calls == 1);
  }

  GroupCoordinator& c() { return *coord; }
  void settle() { log.settle(); }
  // Deferred mode: completes the log's appends; sync mode: nothing to do.
  void advance_ms(int64_t ms) { rt.advance_ms(ms); }

  Reply<JoinResult>& join(JoinRequest req) {
    joins.push_back(std::make_unique<Reply<JoinResult>>());
    auto& r = *joins.back();
    r.what = "join " + req.group_id + "/" + req.member_id;
    coord->join(std::move(req), r.cb());
    return r;
  }
  Reply<SyncResult>& sync(SyncRequest req) {
    syncs.push_back(std::make_unique<Reply<SyncResult>>());
    auto& r = *syncs.back();
    r.what = "sync " + req.group_id + "/" + req.member_id;
    coord->sync(std::move(req), r.cb());
    return r;
  }
  Reply<SyncResult>& sync(const std::string& group, int32_t generation, const std::string& member,
                          std::map<std::string, Bytes> assignments = {},
                          std::optional<std::string> instance = std::nullopt) {
    SyncRequest s;
    s.group_id = group;
    s.generation = generation;
    s.member_id = member;
    s.group_instance_id = std::move(instance);
    s.assignments = std::move(assignments);
    return sync(std::move(s));
  }
  Reply<std::vector<ErrorCode>>& commit(CommitRequest req) {
    commits.push_back(std::make_unique<Reply<std::vector<ErrorCode>>>());
    auto& r = *commits.back();
    r.what = "commit " + req.group_id + "/" + req.member_id;
    coord->commit_offsets(std::move(req), r.cb());
    return r;
  }
  Reply<std::vector<ErrorCode>>& commit(const std::string& group, int32_t generation,
                                        const std::string& member,
                                        std::vector<OffsetCommitEntry> offsets,
                                        std::optional<std::string> instance = std::nullopt) {
    CommitRequest req;
    req.group_id = group;
    req.generation = generation;
    req.member_id = member;
    req.group_instance_id = std::move(instance);
    req.offsets = std::move(offsets);
    return commit(std::move(req));
  }
  Reply<ErrorCode>& delete_group(const std::string& group) {
    deletes.push_back(std::make_unique<Reply<ErrorCode>>());
    auto& r = *deletes.back();
    r.what = "delete " + group;
    coord->delete_group(group, r.cb());
    return r;
  }
  ErrorCode heartbeat(const std::string& group, const std::string& member, int32_t generation,
                      std::optional<std::string> instance = std::nullopt) {
    return coord->heartbeat(group, member, instance, generation);
  }
  GroupState state(const std::string& group) const {
    const Group* g = coord->find(group);
    return g == nullptr ? GroupState::kDead : g->state;
  }
  int32_t generation(const std::string& group) const {
    const Group* g = coord->find(group);
    REQUIRE(g != nullptr);
    return g->generation;
  }
  size_t members(const std::string& group) const {
    const Group* g = coord->find(group);
    return g == nullptr ? 0 : g->members.size();
  }

  // A new dynamic member through the JoinGroup v4 handshake (MEMBER_ID_REQUIRED, then the
  // join with the id handed out). Returns the second join's reply.
  Reply<JoinResult>& join_v4(JoinRequest req) {
    req.member_id.clear();
    req.require_known_member_id = true;
    auto& first = join(req);
    REQUIRE(first.done());
    REQUIRE(first->error == ErrorCode::kMemberIdRequired);
    REQUIRE(!first->member_id.empty());
    req.member_id = first->member_id;
    return join(std::move(req));
  }

  FakeRuntime rt;
  FakeGroupLog log;
  GroupConfig config;
  std::unique_ptr<GroupCoordinator> coord;
  std::vector<std::unique_ptr<Reply<JoinResult>>> joins;
  std::vector<std::unique_ptr<Reply<SyncResult>>> syncs;
  std::vector<std::unique_ptr<Reply<std::vector<ErrorCode>>>> commits;
  std::vector<std::unique_ptr<Reply<ErrorCode>>> deletes;
};

// A Stable group formed the way consumers form one: every member joins within the join
// window, the leader syncs the assignment "asg-<member id>" for each member, followers sync.
struct StableGroup {
  std::string group;
  int32_t generation = -1;
  std::string leader;
  std::vector<std::string> member_ids;  // in join order
};

inline StableGroup form_group(Fixture& f, const std::string& group, int n,
                              std::vector<std::optional<std::string>> instances = {}) {
  REQUIRE(f.state(group) == GroupState::kDead);
  std::vector<Reply<JoinResult>*> replies;
  // The first member's join completes alone (no initial delay in test_config); the others
  // then join a PreparingRebalance group and the first rejoins with its id.
  for (int i = 0; i < n; ++i) {
    JoinRequest req = join_req(group);
    req.client_id = "c" + std::to_string(i);
    if (static_cast<size_t>(i) < instances.size()) req.group_instance_id = instances[i];
    replies.push_back(&f.join(req));
  }
  f.settle();
  // Rejoin everyone who was answered with an earlier generation.
  StableGroup out;
  out.group = group;
  for (int round = 0; round < 4; ++round) {
    bool all_current = true;
    for (auto*& r : replies) {
      if (!r->done()) continue;
      REQUIRE(r->value.error == ErrorCode::kNone);
      if (r->value.generation != f.generation(group) ||
          f.state(group) == GroupState::kPreparingRebalance) {
        all_current = false;
        JoinRequest req = join_req(group, r->value.member_id);
        const Member& m = f.c().find(group)->members.at(r->value.member_id);
        req.client_id = m.client_id;
        req.group_instance_id = m.group_instance_id;
        r = &f.join(req);
      }
    }
    f.settle();
    if (all_current && f.state(group) == GroupState::kCompletingRebalance) break;
  }
  REQUIRE(f.state(group) == GroupState::kCompletingRebalance);
  for (auto* r : replies) {
    REQUIRE(r->done());
    out.member_ids.push_back(r->value.member_id);
    out.generation = r->value.generation;
    out.leader = r->value.leader;
  }
  std::map<std::string, Bytes> assignment;
  for (const auto& id : out.member_ids) assignment[id] = bytes_of("asg-" + id);
  std::vector<Reply<SyncResult>*> syncs;
  for (const auto& id : out.member_ids) {
    syncs.push_back(&f.sync(group, out.generation, id,
                            id == out.leader ? assignment : std::map<std::string, Bytes>{}));
  }
  f.settle();
  for (size_t i = 0; i < syncs.size(); ++i) {
    REQUIRE(syncs[i]->done());
    REQUIRE(syncs[i]->value.error == ErrorCode::kNone);
    REQUIRE(str_of(syncs[i]->value.assignment) == "asg-" + out.member_ids[i]);
  }
  REQUIRE(f.state(group) == GroupState::kStable);
  REQUIRE(f.members(group) == static_cast<size_t>(n));
  return out;
}

}  // namespace strata::group::testing
