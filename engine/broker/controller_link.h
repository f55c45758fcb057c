// ControllerLink: how a broker that is not the controller takes part in the cluster (Kafka's
// BrokerLifecycleManager and metadata fetcher, in one small state machine over Runtime).
//
//   1. Metadata from the controller gives the cluster id, which meta.properties must match
//      (it is written on a first start).
//   2. BrokerRegistration: a new incarnation id, the listeners, and back a broker epoch.
//   3. From then on, in parallel:
//      - a heartbeat every broker.heartbeat.interval.ms with the offset of the metadata log
//        this broker has replayed; the controller unfences it once that passes its
//        registration, and fences it after broker.session.timeout.ms without one;
//      - Fetch of `__cluster_metadata` partition 0 (replica id = this node) from the next
//        offset; every record is replayed into the TopicManager's image, which then opens,
//        leads or drops partitions (sync_with_image). The controller holds a fetch with
//        nothing new for up to kMetadataFetchWaitMs and answers it as soon as it appends;
//      - a block of producer ids kept in reserve (AllocateProducerIds).
//   A STALE_BROKER_EPOCH or BROKER_ID_NOT_REGISTERED heartbeat answer starts over at 2; a
//   lost connection is retried with the client's backoff.
//
// Ownership: owned by the Broker; the TopicManager outlives it. stop() cancels timers and
// closes the connection; no callback runs afterwards.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/broker/config.h"
#include "engine/broker/topic_manager.h"
#include "engine/client/network_client.h"

namespace strata::broker {

class ControllerLink {
 public:
  // How long the controller holds a metadata fetch with nothing new (a long poll: records
  // appended meanwhile answer it at once).
  static constexpr int32_t kMetadataFetchWaitMs = 500;
  // Topics being auto-created through the controller at once.
  static constexpr size_t kCreatesInFlightMax = 64;

  ControllerLink(Runtime& runtime, const BrokerConfig& config, TopicManager& topics);
  ~ControllerLink();
  ControllerLink(const ControllerLink&) = delete;
  ControllerLink& operator=(const ControllerLink&) = delete;

  void start(std::vector<controller::BrokerEndpoint> endpoints);
  void stop();
  // Asks the controller to create `name` with the cluster defaults (auto-creation).
  void create_topic(const std::string& name, int32_t partitions = -1,
                    const std::map<std::string, std::string>& configs = {});
  // Controlled shutdown: asks the controller to move leadership off this broker and fence it
  // (BrokerHeartbeat with want_shut_down), so that clients move before the process stops.
  // `done` runs once the controller has answered or the request failed.
  void request_shutdown(std::function<void()> done);

  bool registered() const { return broker_epoch_ >= 0; }
  bool fenced() const { return fenced_; }

 private:
  void learn_cluster_id();
  void send_registration();
  void send_heartbeat();
  // Runs `step` after `delay_ms` on the timer slot `slot` (one pending timer per slot).
  void schedule(TimerId& slot, int64_t delay_ms, void (ControllerLink::*step)());
  void fetch_metadata();
  void on_metadata_fetched(const proto::FetchResponse& resp);
  void request_producer_ids();
  void restart_registration(const std::string& why);

  Runtime& rt_;
  const BrokerConfig& config_;
  TopicManager& topics_;
  std::unique_ptr<client::NetworkClient> net_;
  std::vector<controller::BrokerEndpoint> endpoints_;
  proto::Uuid incarnation_{};
  int64_t broker_epoch_ = -1;
  bool fenced_ = true;
  bool strays_removed_ = false;  // once per process, at the first unfencing
  Offset fetch_from_{0};  // the next metadata log offset to fetch
  bool fetching_ = false;
  bool asking_producer_ids_ = false;
  bool stopped_ = false;
  bool shutting_down_ = false;  // a controlled shutdown was asked for
  // Bumped by every (re)registration: answers to an older one are ignored.
  uint64_t generation_ = 0;
  std::set<std::string> creating_;  // topics asked of the controller, not yet answered
  TimerId register_timer_{0};
  TimerId heartbeat_timer_{0};
  TimerId fetch_timer_{0};
};

}  // namespace strata::broker
