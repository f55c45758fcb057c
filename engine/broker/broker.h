// The broker node: the composition root that wires the connection layer, request dispatch,
// the topic manager (partition logs) and the delayed-operation purgatory over a Runtime.
//
// Ownership: Broker owns everything below it; the Runtime outlives it. start() listens and
// loads logs; shutdown() stops listening, drops parked operations, and closes every log
// cleanly. Destroying a started Broker without shutdown() does no I/O — in the simulator
// that is a process crash.
#pragma once

#include <memory>
#include <string>

#include "engine/broker/config.h"
#include "engine/broker/connections.h"
#include "engine/broker/controller_link.h"
#include "engine/broker/offsets_topic.h"
#include "engine/broker/purgatory.h"
#include "engine/broker/topic_manager.h"
#include "engine/group/coordinator.h"
#include "engine/protocol/framing.h"
#include "engine/runtime/runtime.h"

namespace strata::broker {

// One request being handled. `frame` owns the bytes that decoded views (records) point into.
struct RequestContext {
  SlotRef slot;
  Endpoint peer;
  proto::RequestHeader header;
  MonoTime received;
  std::shared_ptr<Bytes> frame;
  int16_t version() const { return header.api_version; }
};

struct BrokerStats {
  uint64_t requests = 0;
  uint64_t malformed_requests = 0;
  uint64_t unsupported_requests = 0;
  uint64_t records_in = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t duplicate_batches = 0;  // idempotent retries acknowledged without a second write
};

class Broker final : public RequestSink {
 public:
  Broker(Runtime& runtime, BrokerConfig config);
  ~Broker() override;
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  Status start();
  // On a broker of a remote controller: starts a controlled shutdown (see ControllerLink);
  // `done` runs when the controller has answered. False (and `done` never runs) when there
  // is nothing to do: the controller node itself, or a broker not registered.
  bool begin_controlled_shutdown(std::function<void()> done);
  Status shutdown();

  // The endpoint actually listened on (port 0 in the config picks a free port).
  const Endpoint& bound() const { return bound_; }
  // What Metadata tells clients: advertised.listeners, with the bound port if it was 0.
  Endpoint advertised() const;
  NodeId node_id() const { return config_.node_id; }
  const BrokerConfig& config() const { return config_; }
  Runtime& runtime() { return rt_; }
  TopicManager& topics() { return topics_; }
  Purgatory& fetch_purgatory() { return fetch_purgatory_; }
  // The group coordinator (valid between start() and shutdown()).
  group::GroupCoordinator& groups() { return *coordinator_; }
  BrokerStats& stats() { return stats_; }

  // Encodes `msg` as the response to `ctx` and queues it in order.
  template <class Msg>
  void respond(const RequestContext& ctx, const Msg& msg) {
    Bytes frame;
    // Without a size prefix: the transport writes its own.
    proto::append_response_unframed(frame, ctx.header.correlation_id, ctx.version(), msg);
    stats_.bytes_out += frame.size();
    connections_.respond(ctx.slot, std::move(frame));
  }
  // The request gets no response (acks=0 produce).
  void respond_nothing(const RequestContext& ctx) { connections_.skip(ctx.slot); }
  void close_connection(const RequestContext& ctx, std::string_view why) {
    connections_.close(ctx.slot.conn, why);
  }
  bool connection_open(ConnId conn) const { return connections_.is_open(conn); }

  // Called after an append to `p`: wakes fetches waiting on it.
  void on_appended(PartitionReplica& p);
  // Creates a topic with broker defaults (auto.create.topics.enable paths). On a broker
  // that is not the controller the controller is asked, and LEADER_NOT_AVAILABLE answered
  // until the topic's metadata arrives.
  AdminError auto_create_topic(const std::string& name);
  // Creates __consumer_offsets if the metadata has none (FindCoordinator, and the first
  // append of a coordinator used directly); a broker that is not the controller asks it to.
  void ensure_offsets_topic();
  // The node coordinating `group`: the leader of its __consumer_offsets partition; kNoNode
  // if it has no leader or the topic does not exist yet.
  NodeId group_coordinator_node(const std::string& group) const;
  bool is_group_coordinator(const std::string& group) const {
    return group_coordinator_node(group) == node_id();
  }

  // RequestSink.
  void on_request(SlotRef slot, const Endpoint& peer, Bytes frame) override;
  void on_connection_closed(ConnId conn) override;

 private:
  void dispatch(RequestContext& ctx, ByteReader& body);
  void answer_unsupported(const RequestContext& ctx);
  Status load();
  void schedule_heartbeat();
  void schedule_maintenance();
  void schedule_flush();
  // The log cleaner: a step soon while a pass has work, log.cleaner.backoff.ms otherwise.
  void schedule_cleaner(bool more_work);

  Runtime& rt_;
  BrokerConfig config_;
  TopicManager topics_;
  Purgatory fetch_purgatory_;
  Connections connections_;
  // Declared after the topics they write to, so they go first.
  std::unique_ptr<OffsetsTopic> offsets_topic_;
  std::unique_ptr<group::GroupCoordinator> coordinator_;
  // On a broker whose controller is another node (controller.quorum.voters).
  std::unique_ptr<ControllerLink> link_;
  Endpoint bound_;
  BrokerStats stats_;
  TimerId heartbeat_timer_{0};
  TimerId maintenance_timer_{0};
  TimerId flush_timer_{0};
  TimerId cleaner_timer_{0};
  bool started_ = false;
  bool stopping_ = false;
};

}  // namespace strata::broker
