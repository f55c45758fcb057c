// GroupConsumer: a consumer-group member (Kafka's classic group protocol) over the
// assign-based Consumer, a sans-I/O state machine over Runtime like the rest of the client.
//
// subscribe(topics) starts the member: FindCoordinator (key_type 0) -> JoinGroup (protocol
// type "consumer", one protocol per assignor of partition.assignment.strategy, in order; from
// v4 the MEMBER_ID_REQUIRED handshake) -> the leader fetches metadata for every member's
// topics and runs the assignor the coordinator chose -> SyncGroup -> OffsetFetch for the new
// partitions (committed offset, else auto.offset.reset) -> fetching. Heartbeats every
// heartbeat.interval.ms while stable; REBALANCE_IN_PROGRESS on a commit starts a rejoin, on a
// heartbeat it is noted and the next poll() rejoins (as Kafka's consumer does, so a slow
// application loop delays the rebalance for everyone). NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE or a lost connection to the coordinator
// mean a new FindCoordinator; UNKNOWN_MEMBER_ID (member id reset) and ILLEGAL_GENERATION
// mean our partitions are lost and we rejoin.
//
// Protocols: eager when any configured assignor is eager (Kafka's default list "range,
// cooperative-sticky" is): before joining, the member commits (auto-commit) and revokes
// everything. Cooperative (KIP-429) when all are cooperative: the member keeps fetching while
// it rejoins, revokes only what the new assignment takes away, and rejoins at once when it
// revoked something so that the partitions reach their new owner in a follow-up rebalance.
//
// max.poll.interval.ms: if poll() is not called for that long the member leaves the group
// (LeaveGroup, unless static) and rejoins on the next poll(), as Kafka's client does.
// group.instance.id makes the member static: no LeaveGroup on close or poll timeout.
//
// Commits hold the position of the next record poll() returns (Consumer::
// delivered_positions), never records fetched but not yet polled. enable.auto.commit commits
// every auto.commit.interval.ms, before eager revocation, before cooperative revocation of the
// partitions concerned, and in close().
//
// The GroupConsumer owns its Consumer and through it the NetworkClient; callbacks (rebalance
// listener, commits, errors) run from the runtime loop. Destroying it without close() is a
// crash as far as the group can tell: the coordinator drops the member after
// session.timeout.ms.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/client/assignors.h"
#include "engine/client/consumer.h"

namespace strata::client {

struct GroupConsumerConfig {
  std::string group_id;                          // group.id
  std::optional<std::string> group_instance_id;  // group.instance.id: static membership
  std::string assignment_strategy = "range,cooperative-sticky";  // partition.assignment.strategy
  int32_t session_timeout_ms = 45000;                            // session.timeout.ms
  int32_t heartbeat_interval_ms = 3000;                          // heartbeat.interval.ms
  int32_t max_poll_interval_ms = 300000;   // max.poll.interval.ms = rebalance timeout
  bool enable_auto_commit = true;          // enable.auto.commit
  int32_t auto_commit_interval_ms = 5000;  // auto.commit.interval.ms
  ConsumerConfig consumer;                 // fetching, auto.offset.reset, timeouts
};

Status validate(const GroupConsumerConfig& config);

enum class MemberState {
  kUnsubscribed,  // before subscribe()
  kJoining,       // finding the coordinator, revoking (eager), JoinGroup in flight
  kSyncing,       // joined; the leader assigns, SyncGroup in flight
  kStable,        // assignment received; heartbeating
  kLeft,          // left after max.poll.interval.ms; the next poll() rejoins
  kClosing,
  kClosed,
  kFailed,  // a fatal group error (see failure())
};
std::string_view member_state_name(MemberState s);

using OffsetMap = std::map<TopicPartition, Offset>;

struct RebalanceListener {
  std::function<void(const std::vector<TopicPartition>&)> on_partitions_revoked;
  std::function<void(const std::vector<TopicPartition>&)> on_partitions_assigned;
  // Taken away without a chance to commit (member fenced, poll timeout after a failure).
  std::function<void(const std::vector<TopicPartition>&)> on_partitions_lost;
};

struct GroupStats {
  uint64_t coordinator_lookups = 0;
  uint64_t joins = 0;       // JoinGroup answered without error
  uint64_t rebalances = 0;  // SyncGroup answered without error (assignments received)
  uint64_t partitions_revoked = 0;
  uint64_t partitions_lost = 0;
  uint64_t heartbeats = 0;
  uint64_t commits = 0;
  uint64_t commit_failures = 0;
  uint64_t poll_timeouts = 0;
};

class GroupConsumer {
 public:
  using CommitCallback = std::function<void(const Status&)>;
  using ErrorCallback = std::function<void(const Status&)>;
  // The outcome of every commit, whoever started it (auto-commit, commit(), close()), as
  // librdkafka's offset_commit_cb: the offsets, the generation they were committed in, when
  // the request was sent, and ok or the error. Runs before the commit's own callback.
  struct CommitOutcome {
    const OffsetMap& offsets;
    int32_t generation;
    MonoTime sent;
    const Status& status;
  };
  using CommitObserver = std::function<void(const CommitOutcome&)>;

  GroupConsumer(Runtime& rt, ClientOptions client, GroupConsumerConfig config);
  ~GroupConsumer();
  GroupConsumer(const GroupConsumer&) = delete;
  GroupConsumer& operator=(const GroupConsumer&) = delete;

  // Joins the group for these topics (replacing an earlier subscription rejoins).
  Status subscribe(std::vector<std::string> topics);
  void set_rebalance_listener(RebalanceListener l) { listener_ = std::move(l); }
  // Fatal group errors, failed auto-commits and partition errors of the inner Consumer.
  void set_error_callback(ErrorCallback cb) { error_cb_ = std::move(cb); }
  void set_commit_observer(CommitObserver o) { commit_observer_ = std::move(o); }

  // Up to `max_records` records of the partitions this member owns. Also tells the group
  // the application is alive (max.poll.interval.ms) and rejoins after a poll timeout.
  std::vector<ConsumerRecord> poll(size_t max_records);
  // Commits the delivered positions of every owned partition, or the given offsets. A member
  // that left after max.poll.interval.ms, or is in no generation, fails the commit without
  // sending it (Kafka's CommitFailedException): the partitions may have moved.
  void commit(CommitCallback cb);
  void commit(OffsetMap offsets, CommitCallback cb);
  // Fails if `tp` is not owned (any more): rebalances come between the caller's calls.
  Status seek(const TopicPartition& tp, Offset offset);
  // Commits (auto-commit), revokes, leaves (unless static); `done` runs when finished.
  void close(std::function<void()> done = {});

  MemberState state() const { return state_; }
  const std::string& member_id() const { return member_id_; }
  int32_t generation() const { return generation_; }
  const std::string& protocol_name() const { return protocol_name_; }
  bool is_leader() const { return !member_id_.empty() && leader_id_ == member_id_; }
  NodeId coordinator() const { return coordinator_; }
  // Partitions owned (sorted); some may still wait for their committed offsets.
  const std::vector<TopicPartition>& assignment() const { return owned_; }
  // Offsets this member committed or fetched, for the partitions it owns.
  const std::map<TopicPartition, Offset>& committed() const { return committed_; }
  RebalanceProtocol rebalance_protocol() const { return protocol_; }
  const std::optional<Status>& failure() const { return failure_; }
  const GroupStats& stats() const { return stats_; }
  Consumer& consumer() { return consumer_; }
  NetworkClient& network() { return consumer_.network(); }

 private:
  // group_consumer.cc: poll, commits, assignment changes, close.
  void apply_assignment(std::vector<TopicPartition> next);
  void fetch_committed();
  void on_offset_fetch(uint64_t epoch, Result<proto::OffsetFetchResponse> r);
  // By value: callers pass owned_ itself, which this edits.
  void revoke(std::vector<TopicPartition> tps);
  void lose_partitions();
  void update_fetching();
  void send_commit(OffsetMap offsets, CommitCallback cb);
  void on_commit(int32_t generation, MonoTime sent, OffsetMap offsets, CommitCallback cb,
                 Result<proto::OffsetCommitResponse> r);
  void schedule_auto_commit();
  void on_poll_timeout();
  void finish_close();
  void report(const Status& s);
  void check_invariants() const;

  // group_join.cc: coordinator, join, sync, heartbeat, leave.
  void step();
  uint64_t new_epoch();
  void retry_after(int64_t ms);
  void find_coordinator();
  void on_find_coordinator(Result<proto::FindCoordinatorResponse> r);
  void coordinator_dead(const std::string& why);
  bool handle_coordinator_error(int16_t code, const std::string& api);
  void begin_rejoin(const std::string& why);
  void send_join();
  void on_join(uint64_t epoch, Result<proto::JoinGroupResponse> r);
  void leader_assign();
  void send_sync(std::vector<proto::SyncGroupRequest::Assignment> assignments);
  void on_sync(uint64_t epoch, Result<proto::SyncGroupResponse> r);
  void schedule_heartbeat();
  void send_heartbeat();
  void on_heartbeat(uint64_t epoch, Result<proto::HeartbeatResponse> r);
  void send_leave(std::function<void()> done);
  void reset_generation(bool reset_member_id);
  void fail(Status s);

  Runtime& rt_;
  GroupConsumerConfig config_;
  std::vector<const Assignor*> assignors_;
  RebalanceProtocol protocol_ = RebalanceProtocol::kEager;
  Consumer consumer_;
  RebalanceListener listener_;
  ErrorCallback error_cb_;
  CommitObserver commit_observer_;

  MemberState state_ = MemberState::kUnsubscribed;
  std::vector<std::string> topics_;
  NodeId coordinator_ = kNoNode;
  bool finding_coordinator_ = false;
  std::string member_id_;
  int32_t generation_ = -1;
  std::string protocol_name_;
  std::string leader_id_;
  // Bumped whenever a join starts over: answers to older requests are ignored.
  uint64_t join_epoch_ = 0;
  bool join_in_flight_ = false;
  bool preparing_ = false;  // eager: committing before revoking, join held back
  bool rejoin_needed_ = false;
  bool rebalance_noticed_ = false;  // by a heartbeat; the next poll() rejoins
  // Leader: the members of the join, waiting for metadata of their topics.
  std::optional<std::vector<AssignorMember>> leader_members_;

  std::vector<TopicPartition> owned_;
  std::set<TopicPartition> awaiting_offsets_;  // owned, committed offset not fetched yet
  uint64_t assign_epoch_ = 0;
  bool offset_fetch_in_flight_ = false;
  std::map<TopicPartition, Offset> committed_;
  size_t commits_in_flight_ = 0;

  bool heartbeat_in_flight_ = false;
  TimerId heartbeat_timer_{0};
  TimerId commit_timer_{0};
  TimerId poll_timer_{0};
  TimerId retry_timer_{0};
  MonoTime last_poll_;
  std::function<void()> close_done_;
  std::optional<Status> failure_;
  GroupStats stats_;
};

}  // namespace strata::client
