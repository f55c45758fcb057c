// Admin: consumer-group operations, each routed to the group's coordinator.
#include <algorithm>
#include <memory>

#include "engine/client/admin.h"
#include "engine/client/client_errors.h"
#include "engine/client/consumer_protocol.h"
#include "engine/client/group_requests.h"

namespace strata::client {
namespace {

using proto::ErrorCode;

// FindCoordinator is retried this often (retry.backoff.ms apart) while the coordinator is
// loading or not yet elected.
constexpr int kCoordinatorAttemptsMax = 50;

bool retriable_coordinator_error(int16_t code) {
  return code == proto::to_int(ErrorCode::kCoordinatorNotAvailable) ||
         code == proto::to_int(ErrorCode::kCoordinatorLoadInProgress) ||
         code == proto::to_int(ErrorCode::kNotCoordinator);
}

// Collects one answer per slot and calls `done` once all are in (or at the first failure).
template <class T>
struct Gather {
  std::vector<T> results;
  size_t missing = 0;
  std::optional<Status> failure;
  std::function<void(Result<std::vector<T>>)> done;

  void put(size_t i, Result<T> r) {
    if (!done) return;
    if (!r) failure = r.status();
    if (r) results[i] = std::move(*r);
    if (--missing == 0 || failure) {
      auto cb = std::exchange(done, nullptr);
      if (failure) return cb(*failure);
      cb(std::move(results));
    }
  }
};

template <class T>
std::shared_ptr<Gather<T>> gather(size_t n, std::function<void(Result<std::vector<T>>)> cb) {
  auto g = std::make_shared<Gather<T>>();
  g->results.resize(n);
  g->missing = n;
  g->done = std::move(cb);
  return g;
}

}  // namespace

Status GroupDescription::status() const {
  if (error_code == 0) return ok_status();
  return kafka_error(error_code, "group " + group_id);
}

void Admin::find_coordinator(std::string group, CoordinatorCallback cb) {
  find_coordinator_attempt(std::move(group), std::move(cb), 1);
}

void Admin::find_coordinator_attempt(std::string group, CoordinatorCallback cb, int attempt) {
  proto::FindCoordinatorRequest req;
  req.key = group;
  req.key_type = 0;
  net_.send_any(std::move(req), [this, group, cb = std::move(cb),
                                 attempt](Result<proto::FindCoordinatorResponse> r) mutable {
    if (!r) return cb(r.status());
    if (r->error_code != 0) {
      if (!retriable_coordinator_error(r->error_code) || attempt >= kCoordinatorAttemptsMax) {
        return cb(kafka_error(r->error_code, "finding the coordinator of group " + group));
      }
      net_.runtime().schedule(milliseconds(net_.options().retry_backoff_ms),
                              [this, alive = alive_, group, cb = std::move(cb),
                               attempt]() mutable {
                                if (!*alive) return;
                                find_coordinator_attempt(group, std::move(cb), attempt + 1);
                              });
      return;
    }
    NodeId node(r->node_id);
    if (net_.metadata().endpoint(node)) return cb(node);
    // The coordinator is a broker the client has not heard of yet: learn the brokers.
    proto::MetadataRequest md;
    md.topics.emplace();
    md.allow_auto_topic_creation = false;
    net_.send_any(
        std::move(md), [this, node, cb = std::move(cb)](Result<proto::MetadataResponse> m) {
          if (!m) return cb(m.status());
          net_.ingest_metadata(*m);
          if (!net_.metadata().endpoint(node)) {
            return cb(Status::unavailable("coordinator node " + std::to_string(node.value()) +
                                          " is not in the cluster metadata"));
          }
          cb(node);
        });
  });
}

void Admin::list_groups(GroupsCallback cb) {
  proto::MetadataRequest md;
  md.topics.emplace();
  md.allow_auto_topic_creation = false;
  net_.send_any(std::move(md), [this, cb = std::move(cb)](Result<proto::MetadataResponse> m) {
    if (!m) return cb(m.status());
    net_.ingest_metadata(*m);
    std::vector<NodeId> brokers;
    for (const auto& [id, b] : net_.metadata().brokers()) brokers.push_back(id);
    if (brokers.empty()) return cb(std::vector<GroupListing>{});
    auto g = gather<std::vector<GroupListing>>(
        brokers.size(), [cb](Result<std::vector<std::vector<GroupListing>>> all) {
          if (!all) return cb(all.status());
          std::vector<GroupListing> out;
          for (auto& part : *all) out.insert(out.end(), part.begin(), part.end());
          std::sort(out.begin(), out.end(),
                    [](const auto& a, const auto& b) { return a.group_id < b.group_id; });
          cb(std::move(out));
        });
    for (size_t i = 0; i < brokers.size(); ++i) {
      NodeId node = brokers[i];
      net_.send(node, proto::ListGroupsRequest{},
                [g, i, node](Result<proto::ListGroupsResponse> r) {
                  if (!r) return g->put(i, r.status());
                  if (r->error_code != 0) {
                    return g->put(i, kafka_error(r->error_code, "listing groups of node " +
                                                                    std::to_string(node.value())));
                  }
                  std::vector<GroupListing> out;
                  for (const auto& gr : r->groups) {
                    out.push_back({gr.group_id, gr.protocol_type, node});
                  }
                  g->put(i, std::move(out));
                });
    }
  });
}

void Admin::describe_groups(std::vector<std::string> groups, DescribeGroupsCallback cb) {
  STRATA_ASSERT(groups.size() <= limits::kAdminGroupsPerRequestMax);
  if (groups.empty()) return cb(std::vector<GroupDescription>{});
  auto g = gather<GroupDescription>(groups.size(), std::move(cb));
  for (size_t i = 0; i < groups.size(); ++i) {
    std::string group = groups[i];
    find_coordinator(group, [this, g, i, group](Result<NodeId> node) {
      if (!node) return g->put(i, node.status());
      proto::DescribeGroupsRequest req;
      req.groups = {group};
      net_.send(*node, std::move(req),
                [this, g, i, group, node = *node](Result<proto::DescribeGroupsResponse> r) {
                  if (!r) return g->put(i, r.status());
                  if (r->groups.size() != 1) {
                    return g->put(i,
                                  Status::corruption("DescribeGroups answered " +
                                                     std::to_string(r->groups.size()) + " groups"));
                  }
                  const auto& in = r->groups[0];
                  GroupDescription d{in.group_id,
                                     in.error_code,
                                     in.group_state,
                                     in.protocol_type,
                                     in.protocol_data,
                                     {},
                                     node,
                                     net_.metadata().endpoint(node)};
                  for (const auto& m : in.members) {
                    GroupMemberDescription md{
                        m.member_id, m.group_instance_id, m.client_id, m.client_host, {}};
                    if (in.protocol_type == kConsumerProtocolType) {
                      // A malformed assignment is shown as none rather than failing the
                      // description.
                      if (auto a = decode_assignment(m.member_assignment))
                        md.assignment = a->partitions;
                    }
                    d.members.push_back(std::move(md));
                  }
                  g->put(i, std::move(d));
                });
    });
  }
}

void Admin::delete_groups(std::vector<std::string> groups, TopicsCallback cb) {
  STRATA_ASSERT(groups.size() <= limits::kAdminGroupsPerRequestMax);
  if (groups.empty()) return cb(std::vector<TopicResult>{});
  auto g = gather<TopicResult>(groups.size(), std::move(cb));
  for (size_t i = 0; i < groups.size(); ++i) {
    std::string group = groups[i];
    find_coordinator(group, [this, g, i, group](Result<NodeId> node) {
      if (!node) return g->put(i, node.status());
      proto::DeleteGroupsRequest req;
      req.groups_names = {group};
      net_.send(*node, std::move(req), [g, i, group](Result<proto::DeleteGroupsResponse> r) {
        if (!r) return g->put(i, r.status());
        TopicResult out{group, proto::to_int(ErrorCode::kUnknownServerError),
                        "the coordinator did not answer for this group"};
        for (const auto& res : r->results) {
          if (res.group_id == group) out = TopicResult{group, res.error_code, ""};
        }
        if (out.error_code != 0 && out.message.empty()) out.message = "group " + group;
        g->put(i, std::move(out));
      });
    });
  }
}

void Admin::list_group_offsets(std::string group,
                               std::optional<std::vector<TopicPartition>> partitions,
                               OffsetsCallback cb) {
  proto::OffsetFetchRequest req = partitions
                                      ? offset_fetch_request(group, std::move(*partitions))
                                      : offset_fetch_all_request(group);
  find_coordinator(group, [this, req = std::move(req), group,
                           cb = std::move(cb)](Result<NodeId> node) mutable {
    if (!node) return cb(node.status());
    net_.send(*node, std::move(req), [cb, group](Result<proto::OffsetFetchResponse> r) {
      if (!r) return cb(r.status());
      if (r->error_code != 0) {
        return cb(kafka_error(r->error_code, "fetching the offsets of group " + group));
      }
      std::vector<CommittedOffset> out;
      for (const auto& t : r->topics) {
        for (const auto& p : t.partitions) {
          out.push_back({{t.name, PartitionId(p.partition_index)},
                         p.committed_offset,
                         p.metadata,
                         p.error_code});
        }
      }
      std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.tp < b.tp; });
      cb(std::move(out));
    });
  });
}

void Admin::alter_group_offsets(std::string group,
                                std::vector<std::pair<TopicPartition, int64_t>> offsets,
                                OffsetsCallback cb) {
  STRATA_ASSERT(offsets.size() <= limits::kAssignedPartitionsMax);
  for (const auto& [tp, offset] : offsets) {
    if (offset >= 0) continue;
    Status bad = Status::invalid_argument("offset " + std::to_string(offset) + " for " +
                                          tp.to_string() + " is negative");
    net_.runtime().schedule(Duration(0), [cb = std::move(cb), bad] { cb(bad); });
    return;
  }
  std::sort(offsets.begin(), offsets.end());
  // Not a member: the coordinator accepts this only while the group has none.
  proto::OffsetCommitRequest req = offset_commit_request(group, CommitterIdentity{}, offsets);
  find_coordinator(group, [this, req = std::move(req), offsets = std::move(offsets),
                           cb = std::move(cb)](Result<NodeId> node) mutable {
    if (!node) return cb(node.status());
    net_.send(*node, std::move(req), [cb, offsets](Result<proto::OffsetCommitResponse> r) {
      if (!r) return cb(r.status());
      std::vector<CommittedOffset> out;
      for (const auto& t : r->topics) {
        for (const auto& p : t.partitions) {
          TopicPartition tp{t.name, PartitionId(p.partition_index)};
          int64_t offset = -1;
          auto it = std::lower_bound(offsets.begin(), offsets.end(), tp,
                                     [](const auto& kv, const auto& x) { return kv.first < x; });
          if (it != offsets.end() && it->first == tp) offset = it->second;
          out.push_back({tp, offset, std::nullopt, p.error_code});
        }
      }
      std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.tp < b.tp; });
      cb(std::move(out));
    });
  });
}

}  // namespace strata::client
