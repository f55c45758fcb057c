// OffsetCommit and OffsetFetch: committed positions, kept by the group coordinator in
// __consumer_offsets. A commit is answered once its records are appended.
#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {

using proto::ErrorCode;

Status handle_offset_commit(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::OffsetCommitRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  group::CommitRequest cr;
  cr.group_id = req.group_id;
  // v0 commits outside group management; so does generation -1 with an empty member id.
  cr.generation = ctx.version() >= 1 ? req.generation_id : -1;
  cr.member_id = req.member_id;
  cr.group_instance_id = req.group_instance_id;
  // The response mirrors the request's topics and partitions in order.
  proto::OffsetCommitResponse shape;
  for (auto& t : req.topics) {
    proto::OffsetCommitResponse::TopicResponse tr;
    tr.name = t.name;
    for (auto& p : t.partitions) {
      cr.offsets.push_back({t.name, p.partition_index, p.committed_offset,
                            p.committed_leader_epoch, std::move(p.committed_metadata)});
      proto::OffsetCommitResponse::PartitionResponse pr;
      pr.partition_index = p.partition_index;
      tr.partitions.push_back(pr);
    }
    shape.topics.push_back(std::move(tr));
  }
  if (!b.is_group_coordinator(req.group_id)) {
    for (auto& t : shape.topics) {
      for (auto& p : t.partitions) p.error_code = static_cast<int16_t>(ErrorCode::kNotCoordinator);
    }
    b.respond(ctx, shape);
    return ok_status();
  }
  b.groups().commit_offsets(
      std::move(cr), [&b, ctx, resp = std::move(shape)](std::vector<ErrorCode> errors) mutable {
        size_t i = 0;
        for (auto& t : resp.topics) {
          for (auto& p : t.partitions) {
            if (i < errors.size()) p.error_code = static_cast<int16_t>(errors[i]);
            ++i;
          }
        }
        b.respond(ctx, resp);
      });
  return ok_status();
}

Status handle_offset_fetch(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::OffsetFetchRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  std::optional<std::vector<std::pair<std::string, int32_t>>> wanted;
  if (req.topics) {
    wanted.emplace();
    for (const auto& t : *req.topics) {
      for (int32_t p : t.partition_indexes) wanted->emplace_back(t.name, p);
    }
  }
  group::OffsetFetchResult r;
  if (b.is_group_coordinator(req.group_id)) {
    r = b.groups().fetch_offsets(req.group_id, wanted);
  } else {
    r.error = ErrorCode::kNotCoordinator;
    for (const auto& [topic, partition] : wanted.value_or(decltype(wanted)::value_type{})) {
      r.offsets.push_back({topic, partition, -1, -1, std::nullopt, ErrorCode::kNotCoordinator});
    }
  }
  proto::OffsetFetchResponse resp;
  resp.error_code = static_cast<int16_t>(r.error);
  for (auto& f : r.offsets) {
    if (resp.topics.empty() || resp.topics.back().name != f.topic) {
      proto::OffsetFetchResponse::TopicResponse tr;
      tr.name = f.topic;
      resp.topics.push_back(std::move(tr));
    }
    proto::OffsetFetchResponse::PartitionResponse pr;
    pr.partition_index = f.partition;
    pr.committed_offset = f.offset;
    pr.committed_leader_epoch = f.leader_epoch;
    pr.metadata = std::move(f.metadata);
    pr.error_code = static_cast<int16_t>(f.error);
    resp.topics.back().partitions.push_back(std::move(pr));
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
