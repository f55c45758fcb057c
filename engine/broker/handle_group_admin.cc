// DescribeGroups, ListGroups and DeleteGroups: what admin tools (kafka-consumer-groups,
// `strata groups`) ask the group coordinator.
#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {

using proto::ErrorCode;

Status handle_describe_groups(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::DescribeGroupsRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::DescribeGroupsResponse resp;
  for (const std::string& id : req.groups) {
    group::GroupDescription d;
    if (b.is_group_coordinator(id)) {
      d = b.groups().describe(id);
    } else {
      d.error = ErrorCode::kNotCoordinator;
      d.group_id = id;
    }
    proto::DescribeGroupsResponse::Group g;
    g.error_code = static_cast<int16_t>(d.error);
    g.group_id = std::move(d.group_id);
    g.group_state = std::move(d.state);
    g.protocol_type = std::move(d.protocol_type);
    g.protocol_data = std::move(d.protocol);
    for (auto& m : d.members) {
      proto::DescribeGroupsResponse::Member out;
      out.member_id = std::move(m.member_id);
      out.group_instance_id = std::move(m.group_instance_id);
      out.client_id = std::move(m.client_id);
      out.client_host = std::move(m.client_host);
      out.member_metadata = std::move(m.metadata);
      out.member_assignment = std::move(m.assignment);
      g.members.push_back(std::move(out));
    }
    resp.groups.push_back(std::move(g));
  }
  b.respond(ctx, resp);
  return ok_status();
}

Status handle_list_groups(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::ListGroupsRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::ListGroupsResponse resp;
  for (auto& g : b.groups().list()) {
    proto::ListGroupsResponse::Group out;
    out.group_id = std::move(g.group_id);
    out.protocol_type = std::move(g.protocol_type);
    resp.groups.push_back(std::move(out));
  }
  b.respond(ctx, resp);
  return ok_status();
}

Status handle_delete_groups(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::DeleteGroupsRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  // Each deletion may finish later (it appends tombstones); answer when the last one has.
  struct Pending {
    proto::DeleteGroupsResponse resp;
    size_t left = 0;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = req.groups_names.size();
  for (const std::string& id : req.groups_names) {
    proto::DeleteGroupsResponse::GroupResult r;
    r.group_id = id;
    pending->resp.results.push_back(std::move(r));
  }
  if (pending->left == 0) {
    b.respond(ctx, pending->resp);
    return ok_status();
  }
  for (size_t i = 0; i < req.groups_names.size(); ++i) {
    if (!b.is_group_coordinator(req.groups_names[i])) {
      pending->resp.results[i].error_code = static_cast<int16_t>(ErrorCode::kNotCoordinator);
      if (--pending->left == 0) b.respond(ctx, pending->resp);
      continue;
    }
    b.groups().delete_group(req.groups_names[i], [&b, ctx, pending, i](ErrorCode e) {
      pending->resp.results[i].error_code = static_cast<int16_t>(e);
      if (--pending->left == 0) b.respond(ctx, pending->resp);
    });
  }
  return ok_status();
}

}  // namespace strata::broker
