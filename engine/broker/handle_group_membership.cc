// JoinGroup, SyncGroup, Heartbeat and LeaveGroup: decode, hand to the group coordinator
// (engine/group), encode its answer. JoinGroup and SyncGroup may be answered much later —
// when the rebalance completes — from inside the coordinator.
#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {

using proto::ErrorCode;
namespace {

int16_t code(ErrorCode e) { return static_cast<int16_t>(e); }

std::string client_host(const RequestContext& ctx) { return "/" + ctx.peer.host; }

}  // namespace

Status handle_join_group(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::JoinGroupRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  if (!b.is_group_coordinator(req.group_id)) {
    proto::JoinGroupResponse resp;
    resp.error_code = code(ErrorCode::kNotCoordinator);
    resp.generation_id = -1;
    resp.member_id = req.member_id;
    b.respond(ctx, resp);
    return ok_status();
  }
  group::JoinRequest jr;
  jr.group_id = std::move(req.group_id);
  jr.member_id = std::move(req.member_id);
  jr.group_instance_id = std::move(req.group_instance_id);
  jr.client_id = ctx.header.client_id.value_or("");
  jr.client_host = client_host(ctx);
  jr.session_timeout_ms = req.session_timeout_ms;
  // v0 has no rebalance timeout: Kafka uses the session timeout.
  jr.rebalance_timeout_ms = ctx.version() >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  jr.protocol_type = std::move(req.protocol_type);
  for (auto& p : req.protocols) jr.protocols.push_back({std::move(p.name), std::move(p.metadata)});
  // KIP-394: from v4 a member without an id first gets one with MEMBER_ID_REQUIRED.
  jr.require_known_member_id = ctx.version() >= 4;
  b.groups().join(std::move(jr), [&b, ctx](group::JoinResult r) {
    proto::JoinGroupResponse resp;
    resp.error_code = code(r.error);
    resp.generation_id = r.generation;
    resp.protocol_name = std::move(r.protocol_name);
    resp.leader = std::move(r.leader);
    resp.member_id = std::move(r.member_id);
    for (auto& m : r.members) {
      proto::JoinGroupResponse::Member out;
      out.member_id = std::move(m.member_id);
      out.group_instance_id = std::move(m.group_instance_id);
      out.metadata = std::move(m.metadata);
      resp.members.push_back(std::move(out));
    }
    b.respond(ctx, resp);
  });
  return ok_status();
}

Status handle_sync_group(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::SyncGroupRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  if (!b.is_group_coordinator(req.group_id)) {
    proto::SyncGroupResponse resp;
    resp.error_code = code(ErrorCode::kNotCoordinator);
    b.respond(ctx, resp);
    return ok_status();
  }
  group::SyncRequest sr;
  sr.group_id = std::move(req.group_id);
  sr.generation = req.generation_id;
  sr.member_id = std::move(req.member_id);
  sr.group_instance_id = std::move(req.group_instance_id);
  for (auto& a : req.assignments) sr.assignments[a.member_id] = std::move(a.assignment);
  b.groups().sync(std::move(sr), [&b, ctx](group::SyncResult r) {
    proto::SyncGroupResponse resp;
    resp.error_code = code(r.error);
    resp.assignment = std::move(r.assignment);
    b.respond(ctx, resp);
  });
  return ok_status();
}

Status handle_heartbeat(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::HeartbeatRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::HeartbeatResponse resp;
  resp.error_code = !b.is_group_coordinator(req.group_id)
                        ? code(ErrorCode::kNotCoordinator)
                        : code(b.groups().heartbeat(req.group_id, req.member_id,
                                                    req.group_instance_id, req.generation_id));
  b.respond(ctx, resp);
  return ok_status();
}

Status handle_leave_group(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::LeaveGroupRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  std::vector<group::MemberIdentity> who;
  if (ctx.version() >= 3) {
    for (auto& m : req.members) {
      who.push_back({std::move(m.member_id), std::move(m.group_instance_id)});
    }
  } else {
    who.push_back({std::move(req.member_id), std::nullopt});
  }
  if (!b.is_group_coordinator(req.group_id)) {
    proto::LeaveGroupResponse resp;
    resp.error_code = code(ErrorCode::kNotCoordinator);
    b.respond(ctx, resp);
    return ok_status();
  }
  group::LeaveResult r = b.groups().leave(req.group_id, who);
  proto::LeaveGroupResponse resp;
  if (ctx.version() >= 3) {
    for (auto& [identity, error] : r.members) {
      proto::LeaveGroupResponse::MemberResponse m;
      m.member_id = identity.member_id;
      m.group_instance_id = identity.group_instance_id;
      m.error_code = code(error);
      resp.members.push_back(std::move(m));
    }
  } else if (!r.members.empty()) {
    resp.error_code = code(r.members.front().second);
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
