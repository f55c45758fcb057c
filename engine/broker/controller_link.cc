#include "engine/broker/controller_link.h"

#include "engine/controller/metadata_records.h"
#include "engine/protocol/record_batch.h"

namespace strata::broker {
namespace {

using proto::ErrorCode;

constexpr int64_t kRetryMs = 500;
constexpr int32_t kMetadataFetchBytes = 1 << 20;
// The link's only bootstrap server is the controller.
constexpr NodeId kControllerNode = client::kFirstBootstrapNode;

std::string error_text(int16_t code) {
  return std::string(proto::error_name(static_cast<ErrorCode>(code)));
}

}  // namespace

ControllerLink::ControllerLink(Runtime& runtime, const BrokerConfig& config, TopicManager& topics)
    : rt_(runtime), config_(config), topics_(topics) {
  STRATA_ASSERT(config.controller && config.controller->id != config.node_id,
                "a link is for brokers of a remote controller");
  client::ClientOptions options;
  options.bootstrap_servers = {config.controller->endpoint};
  options.client_id = "strata-broker-" + std::to_string(config.node_id.value());
  options.request_timeout_ms = std::max<int64_t>(config.broker_session_timeout_ms / 2, 1000);
  options.allow_auto_topic_creation = false;
  net_ = std::make_unique<client::NetworkClient>(rt_, options);
}

ControllerLink::~ControllerLink() {
  // Without stop() this is a crash: timers go, and the client releases its connections
  // without closing them (no I/O) and drops its callbacks unrun.
  stopped_ = true;
  for (TimerId t : {register_timer_, heartbeat_timer_, fetch_timer_}) {
    if (t.value() != 0) rt_.cancel(t);
  }
}

void ControllerLink::start(std::vector<controller::BrokerEndpoint> endpoints) {
  endpoints_ = std::move(endpoints);
  rt_.random_bytes(incarnation_);
  learn_cluster_id();
}

void ControllerLink::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (TimerId* t : {&register_timer_, &heartbeat_timer_, &fetch_timer_}) {
    if (t->value() != 0) rt_.cancel(*t);
    *t = TimerId(0);
  }
  net_->close();
}

void ControllerLink::schedule(TimerId& slot, int64_t delay_ms, void (ControllerLink::*step)()) {
  if (stopped_) return;
  if (slot.value() != 0) rt_.cancel(slot);
  TimerId* where = &slot;
  slot = rt_.schedule(std::chrono::milliseconds(delay_ms), [this, where, step] {
    *where = TimerId(0);
    if (!stopped_) (this->*step)();
  });
}

void ControllerLink::learn_cluster_id() {
  proto::MetadataRequest req;
  req.topics = std::vector<proto::MetadataRequest::Topic>{};
  net_->send<proto::MetadataRequest>(kControllerNode, req, [this](auto resp) {
    if (stopped_) return;
    if (!resp || !resp->cluster_id || resp->cluster_id->empty()) {
      rt_.warn("cluster", "controller at " + config_.controller->endpoint.to_string() +
                              " not reachable yet: " +
                              (resp ? std::string("no cluster id") : resp.status().to_string()));
      schedule(register_timer_, kRetryMs, &ControllerLink::learn_cluster_id);
      return;
    }
    if (Status s = topics_.adopt_cluster_id(*resp->cluster_id); !s) {
      // This node's log dirs belong to another cluster: it must not join this one.
      rt_.error("cluster", "not joining the cluster of " +
                               config_.controller->endpoint.to_string() + ": " + s.message());
      return;
    }
    send_registration();
  });
}

void ControllerLink::send_registration() {
  proto::BrokerRegistrationRequest req;
  req.broker_id = config_.node_id.value();
  req.cluster_id = topics_.cluster_id();
  req.incarnation_id = incarnation_;
  for (const auto& e : endpoints_) req.listeners.push_back({e.name, e.host, e.port, 0});
  uint64_t generation = ++generation_;
  net_->send<proto::BrokerRegistrationRequest>(kControllerNode, req, [this, generation](auto resp) {
    if (stopped_ || generation != generation_) return;
    if (!resp || resp->error_code != 0) {
      rt_.warn("cluster", "registration with the controller failed: " +
                              (resp ? error_text(resp->error_code) : resp.status().to_string()) +
                              "; retrying");
      schedule(register_timer_, kRetryMs, &ControllerLink::send_registration);
      return;
    }
    broker_epoch_ = resp->broker_epoch;
    topics_.set_broker_epoch(broker_epoch_);
    rt_.info("cluster",
             "registered with the controller, broker epoch " + std::to_string(broker_epoch_));
    send_heartbeat();
    if (!fetching_) fetch_metadata();
  });
}

void ControllerLink::restart_registration(const std::string& why) {
  rt_.warn("cluster", why + "; registering again");
  broker_epoch_ = -1;
  fenced_ = true;
  if (heartbeat_timer_.value() != 0) rt_.cancel(heartbeat_timer_);
  heartbeat_timer_ = TimerId(0);
  send_registration();
}

void ControllerLink::send_heartbeat() {
  if (broker_epoch_ < 0 || shutting_down_) return;
  proto::BrokerHeartbeatRequest req;
  req.broker_id = config_.node_id.value();
  req.broker_epoch = broker_epoch_;
  req.current_metadata_offset = topics_.image().next_offset().value();
  uint64_t generation = generation_;
  net_->send<proto::BrokerHeartbeatRequest>(kControllerNode, req, [this, generation](auto resp) {
    if (stopped_ || generation != generation_) return;
    if (resp && (resp->error_code == int16_t(ErrorCode::kStaleBrokerEpoch) ||
                 resp->error_code == int16_t(ErrorCode::kBrokerIdNotRegistered))) {
      restart_registration("heartbeat answered " + error_text(resp->error_code));
      return;
    }
    if (resp && resp->error_code == 0) {
      if (fenced_ != resp->is_fenced) {
        rt_.info("cluster", std::string("the controller ") +
                                (resp->is_fenced ? "fenced" : "unfenced") + " this broker");
        // Unfenced means leaderships are on their way: read them now, not at the next poll.
        if (fetch_timer_.value() != 0) schedule(fetch_timer_, 0, &ControllerLink::fetch_metadata);
      }
      fenced_ = resp->is_fenced;
      if (!fenced_ && !strays_removed_) {
        // Unfenced means caught up: the image now says which directories are this broker's.
        strays_removed_ = true;
        topics_.remove_stray_partitions();
      }
      if (!fenced_ && topics_.needs_producer_ids()) request_producer_ids();
    }
    if (!shutting_down_) {
      schedule(heartbeat_timer_, config_.broker_heartbeat_interval_ms,
               &ControllerLink::send_heartbeat);
    }
  });
}

void ControllerLink::request_shutdown(std::function<void()> done) {
  STRATA_ASSERT(registered(), "only a registered broker shuts down through the controller");
  // No more heartbeats: one after the controller's answer would open a new session, and the
  // next process of this node could not register until it expired.
  shutting_down_ = true;
  if (heartbeat_timer_.value() != 0) rt_.cancel(heartbeat_timer_);
  heartbeat_timer_ = TimerId(0);
  proto::BrokerHeartbeatRequest req;
  req.broker_id = config_.node_id.value();
  req.broker_epoch = broker_epoch_;
  req.current_metadata_offset = topics_.image().next_offset().value();
  req.want_shut_down = true;
  net_->send<proto::BrokerHeartbeatRequest>(
      kControllerNode, req, [this, done = std::move(done)](auto resp) {
        if (resp && resp->error_code == 0 && resp->should_shut_down) {
          rt_.info("cluster",
                   "controlled shutdown: the controller moved leadership off "
                   "this broker and fenced it");
        } else if (!stopped_) {
          rt_.warn("cluster",
                   "controlled shutdown not confirmed by the controller: " +
                       (resp ? error_text(resp->error_code) : resp.status().to_string()));
        }
        done();
      });
}

void ControllerLink::fetch_metadata() {
  fetching_ = true;
  proto::FetchRequest req;
  req.replica_id = config_.node_id.value();
  req.max_wait_ms = kMetadataFetchWaitMs;
  req.min_bytes = 1;
  req.max_bytes = kMetadataFetchBytes;
  auto& t = req.topics.emplace_back();
  t.topic = std::string(kClusterMetadataTopic);
  auto& p = t.partitions.emplace_back();
  p.partition = 0;
  p.fetch_offset = fetch_from_.value();
  p.partition_max_bytes = kMetadataFetchBytes;
  net_->send<proto::FetchRequest>(kControllerNode, req, [this](auto resp) {
    if (stopped_) return;
    if (!resp) {
      schedule(fetch_timer_, kRetryMs, &ControllerLink::fetch_metadata);
      return;
    }
    on_metadata_fetched(*resp);
  });
}

void ControllerLink::on_metadata_fetched(const proto::FetchResponse& resp) {
  bool got = false;
  Status failed;
  for (const auto& t : resp.responses) {
    for (const auto& p : t.partitions) {
      if (p.error_code != 0) {
        failed = Status::unavailable("metadata fetch: " + error_text(p.error_code));
        continue;
      }
      if (!p.records) continue;
      BatchSplitter batches(*p.records);
      while (auto batch = batches.next()) {
        auto header = parse_batch_header(*batch);
        auto records = decode_records(*batch);
        if (!header || !records) {
          failed = Status::corruption("an unreadable metadata batch");
          break;
        }
        for (const Record& r : *records) {
          Offset offset = header->base() + r.offset_delta;
          if (offset < fetch_from_) continue;
          // Keyed records are an older strata's metadata, carried over by the controller.
          if (!r.key && r.value) {
            auto record = controller::decode_metadata_record(*r.value);
            Status s = record ? topics_.replay_fetched(*record, offset) : record.status();
            if (!s) {
              // Not skipped: the image must not go on without it. Retried, and logged.
              failed = Status::corruption("offset " + std::to_string(offset.value()) + ": " +
                                          s.message());
              break;
            }
            got = true;
          }
          fetch_from_ = offset + 1;
        }
        if (!failed.is_ok()) break;
      }
    }
  }
  if (got) {
    if (Status s = topics_.sync_with_image(); !s) rt_.error("topics", s.to_string());
    // Caught up after a (re)registration: say so now rather than at the next interval.
    if (fenced_ && registered()) send_heartbeat();
  }
  if (!failed.is_ok()) {
    rt_.error("cluster", "metadata from the controller: " + failed.to_string());
    schedule(fetch_timer_, kRetryMs, &ControllerLink::fetch_metadata);
  } else {
    fetch_metadata();  // the controller held it while there was nothing new
  }
}

void ControllerLink::request_producer_ids() {
  if (asking_producer_ids_) return;
  asking_producer_ids_ = true;
  proto::AllocateProducerIdsRequest req;
  req.broker_id = config_.node_id.value();
  req.broker_epoch = broker_epoch_;
  net_->send<proto::AllocateProducerIdsRequest>(kControllerNode, req, [this](auto resp) {
    if (stopped_) return;
    asking_producer_ids_ = false;
    if (!resp || resp->error_code != 0 || resp->producer_id_len <= 0) {
      rt_.warn("cluster", "no producer id block from the controller: " +
                              (resp ? error_text(resp->error_code) : resp.status().to_string()));
      return;  // the next heartbeat asks again
    }
    topics_.add_producer_ids(resp->producer_id_start, resp->producer_id_len);
  });
}

void ControllerLink::create_topic(const std::string& name, int32_t partitions,
                                  const std::map<std::string, std::string>& configs) {
  // Clients ask Metadata again and again while a topic is being created: one request to the
  // controller per topic at a time, and a bounded number of them.
  if (creating_.contains(name) || creating_.size() >= kCreatesInFlightMax) return;
  creating_.insert(name);
  proto::CreateTopicsRequest req;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = -1;
  for (const auto& [key, value] : configs) t.configs.push_back({key, value});
  net_->send<proto::CreateTopicsRequest>(kControllerNode, req, [this, name](auto resp) {
    if (stopped_) return;
    creating_.erase(name);
    if (!resp || resp->topics.empty()) return;
    int16_t code = resp->topics.front().error_code;
    if (code != 0 && code != int16_t(ErrorCode::kTopicAlreadyExists)) {
      rt_.warn("cluster", "auto-creating " + name + " on the controller: " + error_text(code));
    }
  });
}

}  // namespace strata::broker
