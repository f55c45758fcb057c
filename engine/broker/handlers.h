// One handler per Kafka API (handle_<api>.cc). Each decodes its request body, acts, and
// answers through Broker::respond (now, or later from a delayed operation). A non-ok Status
// means the body was malformed: the broker logs it and closes that connection only.
#pragma once

#include "engine/broker/broker.h"

namespace strata::broker {

Status handle_api_versions(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_metadata(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_produce(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_fetch(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_list_offsets(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_create_topics(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_delete_topics(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_create_partitions(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_describe_configs(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_find_coordinator(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_join_group(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_sync_group(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_heartbeat(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_leave_group(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_offset_commit(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_offset_fetch(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_describe_groups(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_list_groups(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_delete_groups(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_init_producer_id(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_alter_configs(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_incremental_alter_configs(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_delete_records(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_broker_registration(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_broker_heartbeat(Broker& b, const RequestContext& ctx, ByteReader& body);
Status handle_allocate_producer_ids(Broker& b, const RequestContext& ctx, ByteReader& body);

// The ApiVersions table this broker advertises (only APIs with a handler).
bool broker_serves(int16_t api_key);

// `message` cut to limits::kErrorMessageBytesMax, for a response's error_message field.
std::string response_message(std::string message);

}  // namespace strata::broker
