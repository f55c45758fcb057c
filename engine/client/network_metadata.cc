// NetworkClient: keeping the metadata cache fresh. One Metadata request at a time, for the
// topics the producer/consumer use; failures retry after retry.backoff.ms; every successful
// answer also schedules the next refresh after metadata.max.age.ms.
#include "engine/client/network_client.h"
#include "engine/protocol/errors.h"

namespace strata::client {

bool NetworkClient::is_metadata_error(int16_t error_code) {
  using proto::ErrorCode;
  switch (ErrorCode{error_code}) {
    case ErrorCode::kUnknownTopicOrPartition:
    case ErrorCode::kLeaderNotAvailable:
    case ErrorCode::kNotLeaderOrFollower:
    case ErrorCode::kBrokerNotAvailable:
    case ErrorCode::kReplicaNotAvailable:
    case ErrorCode::kKafkaStorageError:
    case ErrorCode::kFencedLeaderEpoch:
    case ErrorCode::kUnknownLeaderEpoch:
    case ErrorCode::kNotController:
      return true;
    default:
      return false;
  }
}

void NetworkClient::ingest_metadata(const proto::MetadataResponse& resp) {
  metadata_.update(resp, rt_.now(), false);
  sync_nodes_with_metadata();
}

void NetworkClient::add_topic(const std::string& topic) {
  if (topics_.insert(topic).second) request_metadata_update();
}

void NetworkClient::request_metadata_update() {
  metadata_wanted_ = true;
  maybe_send_metadata();
}

void NetworkClient::schedule_metadata_timer(Duration after) {
  rt_.cancel(metadata_timer_);
  metadata_timer_ = rt_.schedule(after, [this] {
    metadata_timer_ = TimerId(0);
    maybe_send_metadata();
  });
}

void NetworkClient::maybe_send_metadata() {
  if (closed_ || !metadata_wanted_ || metadata_in_flight_) return;
  MonoTime now = rt_.now();
  Duration backoff = milliseconds(options_.retry_backoff_ms);
  if (metadata_last_attempt_.ns != 0 && now - metadata_last_attempt_ < backoff) {
    return schedule_metadata_timer(backoff - (now - metadata_last_attempt_));
  }
  metadata_wanted_ = false;
  metadata_in_flight_ = true;
  metadata_last_attempt_ = now;
  proto::MetadataRequest req;
  req.topics.emplace();
  for (const auto& t : topics_) req.topics->push_back({t});
  req.allow_auto_topic_creation = options_.allow_auto_topic_creation;
  send_any(std::move(req),
           [this](Result<proto::MetadataResponse> r) { on_metadata_response(std::move(r)); });
}

void NetworkClient::on_metadata_response(Result<proto::MetadataResponse> resp) {
  metadata_in_flight_ = false;
  if (!resp) {
    rt_.debug("client", "metadata refresh failed: " + resp.status().message());
    metadata_wanted_ = true;
    return maybe_send_metadata();
  }
  metadata_.update(*resp, rt_.now(), false);
  sync_nodes_with_metadata();
  for (size_t i = 0; i < metadata_listeners_.size(); ++i) metadata_listeners_[i]();
  if (metadata_wanted_) return maybe_send_metadata();
  // Periodic refresh (metadata.max.age.ms) so that moved leaders are noticed even when no
  // request fails.
  metadata_wanted_ = false;
  rt_.cancel(metadata_timer_);
  metadata_timer_ = rt_.schedule(milliseconds(options_.metadata_max_age_ms), [this] {
    metadata_timer_ = TimerId(0);
    request_metadata_update();
  });
}

}  // namespace strata::client
