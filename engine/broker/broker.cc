#include "engine/broker/broker.h"

#include "engine/base/limits.h"
#include "engine/broker/handlers.h"
#include "engine/protocol/api_keys.h"
#include "engine/protocol/messages.h"

namespace strata::broker {

using proto::ApiKey;

Broker::Broker(Runtime& runtime, BrokerConfig config)
    : rt_(runtime),
      config_(std::move(config)),
      topics_(rt_, config_),
      fetch_purgatory_(rt_, "Fetch"),
      connections_(rt_, *this) {}

Broker::~Broker() {
  // Without shutdown() this is a crash: no I/O, parked operations vanish unanswered.
  if (started_ && !stopping_) {
    fetch_purgatory_.cancel_all();
    connections_.close_all();
  }
  if (heartbeat_timer_.value() != 0) rt_.cancel(heartbeat_timer_);
  if (maintenance_timer_.value() != 0) rt_.cancel(maintenance_timer_);
  if (flush_timer_.value() != 0) rt_.cancel(flush_timer_);
  if (cleaner_timer_.value() != 0) rt_.cancel(cleaner_timer_);
}

Status Broker::start() {
  STRATA_ASSERT(!started_, "start() twice");
  // Listening first gives the bound port (port 0 picks one) for the controller registration;
  // no request is read before start() returns to the loop.
  const Listener& l = config_.listeners.front();
  Endpoint at{l.host.empty() ? "0.0.0.0" : l.host, l.port};
  STRATA_ASSIGN_OR_RETURN(bound_, rt_.transport().listen(at, &connections_));
  Status loaded = load();
  if (!loaded) {
    rt_.transport().stop_listening(bound_);
    return loaded;
  }
  started_ = true;
  schedule_heartbeat();
  schedule_maintenance();
  schedule_flush();
  if (config_.log_cleaner_enable) schedule_cleaner(false);
  rt_.info("broker", "node " + std::to_string(config_.node_id.value()) + " listening on " +
                         bound_.to_string() + ", advertised as " + advertised().to_string() +
                         ", log dirs " + config_.log_dirs.front());
  return ok_status();
}

Status Broker::load() {
  Endpoint adv = advertised();
  std::vector<controller::BrokerEndpoint> endpoints{{config_.advertised().name, adv.host,
                                                     adv.port}};
  // Brokers following this controller long-poll its metadata log: wake them on every append.
  topics_.set_metadata_listener([this] {
    fetch_purgatory_.check_and_complete(std::string(kClusterMetadataTopic) + "-0");
  });
  STRATA_RETURN_IF_ERROR(topics_.load(endpoints));
  if (!config_.is_controller()) {
    link_ = std::make_unique<ControllerLink>(rt_, config_, topics_);
    link_->start(endpoints);
  }
  offsets_topic_ = std::make_unique<OffsetsTopic>(
      rt_, topics_, config_.group, [this](PartitionReplica& p) { on_appended(p); },
      [this] { ensure_offsets_topic(); });
  coordinator_ = std::make_unique<group::GroupCoordinator>(rt_, config_.group, *offsets_topic_);
  STRATA_RETURN_IF_ERROR(offsets_topic_->load(*coordinator_));
  // __consumer_offsets partitions that arrive later (the topic created, or this broker's
  // share of it learnt from the controller) are loaded as they open.
  topics_.set_sync_listener([this] { (void)offsets_topic_->load_new_partitions(*coordinator_); });
  return ok_status();
}

void Broker::schedule_heartbeat() {
  heartbeat_timer_ =
      rt_.schedule(std::chrono::milliseconds(config_.broker_heartbeat_interval_ms), [this] {
        heartbeat_timer_ = TimerId(0);
        if (stopping_) return;
        topics_.heartbeat(rt_.now().ms());
        schedule_heartbeat();
      });
}

bool Broker::begin_controlled_shutdown(std::function<void()> done) {
  if (!started_ || stopping_ || !link_ || !link_->registered()) return false;
  link_->request_shutdown(std::move(done));
  return true;
}

Status Broker::shutdown() {
  if (!started_ || stopping_) return ok_status();
  stopping_ = true;
  rt_.transport().stop_listening(bound_);
  fetch_purgatory_.cancel_all();
  connections_.close_all();
  if (link_) link_->stop();
  coordinator_.reset();
  return topics_.close();
}

Endpoint Broker::advertised() const {
  Listener l = config_.advertised();
  if (config_.advertised_listeners.empty() && l.port == 0) l.port = bound_.port;
  return Endpoint{l.host, l.port};
}

void Broker::schedule_maintenance() {
  auto interval = std::chrono::milliseconds(config_.log_retention_check_interval_ms);
  maintenance_timer_ = rt_.schedule(interval, [this] {
    maintenance_timer_ = TimerId(0);
    if (stopping_) return;
    topics_.maintain(rt_.wall_clock_ms());
    schedule_maintenance();
  });
}

void Broker::schedule_flush() {
  // Time-based roll and flush.ms need a finer tick than the retention check; once a second
  // is what Kafka's log flusher effectively does at its defaults.
  int64_t ms = std::min<int64_t>(config_.log_flush_scheduler_interval_ms, 1000);
  flush_timer_ = rt_.schedule(std::chrono::milliseconds(ms), [this] {
    flush_timer_ = TimerId(0);
    if (stopping_) return;
    for (const auto& [name, t] : topics_.topics()) {
      for (const auto& p : t.partitions) {
        if (!p) continue;
        const LogConfig& c = p->log->config();
        if (c.flush_interval_ms == INT64_MAX && c.segment_ms >= 3600 * 1000LL) continue;
        // Not maintain(): retention runs on its own timer (log.retention.check.interval.ms).
        if (Status s = p->log->roll_and_flush(rt_.wall_clock_ms()); !s) {
          rt_.error("log", p->key() + ": " + s.to_string());
        }
      }
    }
    schedule_flush();
  });
}

void Broker::schedule_cleaner(bool more_work) {
  // A pass runs one step per timer, so serving requests interleaves with cleaning.
  auto after = std::chrono::milliseconds(more_work ? 0 : config_.log_cleaner_backoff_ms);
  cleaner_timer_ = rt_.schedule(after, [this] {
    cleaner_timer_ = TimerId(0);
    if (stopping_) return;
    bool more = topics_.clean_step(rt_.wall_clock_ms(),
                                   uint64_t(config_.log_cleaner_dedupe_buffer_size));
    schedule_cleaner(more);
  });
}

void Broker::on_appended(PartitionReplica& p) { fetch_purgatory_.check_and_complete(p.key()); }

void Broker::ensure_offsets_topic() {
  if (topics_.image().topic(std::string(group::kOffsetsTopic)) != nullptr) return;
  CreateTopicSpec spec = offsets_topic_->spec();
  if (link_) {
    link_->create_topic(spec.name, spec.partitions, spec.configs);
    return;
  }
  AdminError err = topics_.create_topic(spec);
  if (err.ok()) {
    rt_.info("group", "created " + spec.name + " with " + std::to_string(spec.partitions) +
                          " partitions");
  } else if (err.code != proto::ErrorCode::kTopicAlreadyExists) {
    rt_.warn("group", "creating " + spec.name + ": " + err.message);
  }
}

AdminError Broker::auto_create_topic(const std::string& name) {
  if (name == group::kOffsetsTopic) {
    // Created for the first group that needs it, with its own settings (ensure_offsets_topic).
    return {proto::ErrorCode::kUnknownTopicOrPartition, "internal topic not created yet"};
  }
  if (link_) {
    if (Status s = validate_topic_name(name); !s) {
      return {proto::ErrorCode::kInvalidTopicException, s.message()};
    }
    link_->create_topic(name);
    return {proto::ErrorCode::kLeaderNotAvailable, "asked the controller to create it"};
  }
  CreateTopicSpec spec;
  spec.name = name;
  return topics_.create_topic(spec);
}

NodeId Broker::group_coordinator_node(const std::string& group) const {
  const controller::TopicImage* offsets = topics_.image().topic(std::string(group::kOffsetsTopic));
  if (offsets == nullptr || offsets->partitions.empty()) return kNoNode;  // not created yet
  int32_t p = group::partition_for_group(group, int32_t(offsets->partitions.size()));
  return offsets->partitions[size_t(p)].leader;
}

void Broker::on_connection_closed(ConnId conn) { (void)conn; }

void Broker::on_request(SlotRef slot, const Endpoint& peer, Bytes frame) {
  ++stats_.requests;
  RequestContext ctx;
  ctx.slot = slot;
  ctx.peer = peer;
  ctx.received = rt_.now();
  ctx.frame = std::make_shared<Bytes>(std::move(frame));
  proto::ParsedRequest parsed;
  Status s = proto::parse_request_frame(*ctx.frame, parsed);
  ctx.header = parsed.header;
  if (s.code() == StatusCode::kUnsupported ||
      (s.is_ok() && !broker_serves(parsed.header.api_key))) {
    ++stats_.unsupported_requests;
    answer_unsupported(ctx);
    return;
  }
  if (!s) {
    ++stats_.malformed_requests;
    connections_.close(slot.conn, "malformed request header: " + s.message());
    return;
  }
  ByteReader body = parsed.body_reader();
  dispatch(ctx, body);
}

void Broker::answer_unsupported(const RequestContext& ctx) {
  const auto& h = ctx.header;
  if (h.api_key == proto::to_int(ApiKey::kApiVersions)) {
    // Clients read an ApiVersions error in v0 layout and retry with a version we list.
    RequestContext v0 = ctx;
    v0.header.api_version = 0;
    proto::ApiVersionsResponse resp;
    resp.error_code = static_cast<int16_t>(proto::ErrorCode::kUnsupportedVersion);
    for (const auto& api : proto::supported_apis()) {
      if (!broker_serves(proto::to_int(api.key))) continue;
      resp.api_keys.push_back({proto::to_int(api.key), api.min_version, api.max_version});
    }
    respond(v0, resp);
    return;
  }
  // Other responses have no layout we could use for an unknown version: close, as Kafka does.
  connections_.close(ctx.slot.conn, "unsupported request " + std::string(proto::api_name(
                                        h.api_key)) + " (key " + std::to_string(h.api_key) +
                                        ") version " + std::to_string(h.api_version));
}

void Broker::dispatch(RequestContext& ctx, ByteReader& body) {
  using Handler = Status (*)(Broker&, const RequestContext&, ByteReader&);
  Handler h = nullptr;
  switch (static_cast<ApiKey>(ctx.header.api_key)) {
    case ApiKey::kApiVersions: h = handle_api_versions; break;
    case ApiKey::kMetadata: h = handle_metadata; break;
    case ApiKey::kProduce: h = handle_produce; break;
    case ApiKey::kFetch: h = handle_fetch; break;
    case ApiKey::kListOffsets: h = handle_list_offsets; break;
    case ApiKey::kCreateTopics: h = handle_create_topics; break;
    case ApiKey::kDeleteTopics: h = handle_delete_topics; break;
    case ApiKey::kCreatePartitions: h = handle_create_partitions; break;
    case ApiKey::kDescribeConfigs: h = handle_describe_configs; break;
    case ApiKey::kFindCoordinator: h = handle_find_coordinator; break;
    case ApiKey::kJoinGroup: h = handle_join_group; break;
    case ApiKey::kSyncGroup: h = handle_sync_group; break;
    case ApiKey::kHeartbeat: h = handle_heartbeat; break;
    case ApiKey::kLeaveGroup: h = handle_leave_group; break;
    case ApiKey::kOffsetCommit: h = handle_offset_commit; break;
    case ApiKey::kOffsetFetch: h = handle_offset_fetch; break;
    case ApiKey::kDescribeGroups: h = handle_describe_groups; break;
    case ApiKey::kListGroups: h = handle_list_groups; break;
    case ApiKey::kDeleteGroups: h = handle_delete_groups; break;
    case ApiKey::kInitProducerId: h = handle_init_producer_id; break;
    case ApiKey::kAlterConfigs: h = handle_alter_configs; break;
    case ApiKey::kIncrementalAlterConfigs: h = handle_incremental_alter_configs; break;
    case ApiKey::kDeleteRecords: h = handle_delete_records; break;
    case ApiKey::kBrokerRegistration: h = handle_broker_registration; break;
    case ApiKey::kBrokerHeartbeat: h = handle_broker_heartbeat; break;
    case ApiKey::kAllocateProducerIds: h = handle_allocate_producer_ids; break;
    default: break;
  }
  STRATA_ASSERT(h != nullptr, "broker_serves() and dispatch() disagree");
  Status s = h(*this, ctx, body);
  if (!s) {
    ++stats_.malformed_requests;
    connections_.close(ctx.slot.conn, "malformed " + std::string(proto::api_name(
                                          ctx.header.api_key)) + " v" +
                                          std::to_string(ctx.version()) + " request: " +
                                          s.message());
  }
}

std::string response_message(std::string message) {
  if (message.size() > limits::kErrorMessageBytesMax) {
    constexpr std::string_view kCut = "...";
    message.resize(limits::kErrorMessageBytesMax - kCut.size());
    message += kCut;
  }
  return message;
}

bool broker_serves(int16_t api_key) {
  switch (static_cast<ApiKey>(api_key)) {
    case ApiKey::kApiVersions:
    case ApiKey::kMetadata:
    case ApiKey::kProduce:
    case ApiKey::kFetch:
    case ApiKey::kListOffsets:
    case ApiKey::kCreateTopics:
    case ApiKey::kDeleteTopics:
    case ApiKey::kCreatePartitions:
    case ApiKey::kDescribeConfigs:
    case ApiKey::kFindCoordinator:
    case ApiKey::kJoinGroup:
    case ApiKey::kSyncGroup:
    case ApiKey::kHeartbeat:
    case ApiKey::kLeaveGroup:
    case ApiKey::kOffsetCommit:
    case ApiKey::kOffsetFetch:
    case ApiKey::kDescribeGroups:
    case ApiKey::kListGroups:
    case ApiKey::kDeleteGroups:
    case ApiKey::kInitProducerId:
    case ApiKey::kAlterConfigs:
    case ApiKey::kIncrementalAlterConfigs:
    case ApiKey::kDeleteRecords:
    case ApiKey::kBrokerRegistration:
    case ApiKey::kBrokerHeartbeat:
    case ApiKey::kAllocateProducerIds:
      return true;
    default:
      return false;
  }
}

}  // namespace strata::broker
