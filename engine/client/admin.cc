#include "engine/client/admin.h"

#include "engine/client/client_errors.h"

namespace strata::client {
namespace {

constexpr int8_t kResourceTopic = 2;
constexpr int8_t kSourceDefault = 5;

template <class R>
std::vector<TopicResult> to_results(const std::vector<R>& in) {
  std::vector<TopicResult> out;
  for (const auto& r : in) {
    TopicResult t;
    t.name = r.name;
    t.error_code = r.error_code;
    if constexpr (requires { r.error_message; }) {
      if (r.error_message) t.message = *r.error_message;
    }
    out.push_back(std::move(t));
  }
  return out;
}

ClientOptions admin_options(ClientOptions o) {
  // Admin never creates topics as a side effect of describing them.
  o.allow_auto_topic_creation = false;
  return o;
}

}  // namespace

Status TopicResult::status() const {
  if (error_code == 0) return ok_status();
  return kafka_error(error_code, message.empty() ? "topic " + name : message);
}

Admin::Admin(Runtime& rt, ClientOptions client) : net_(rt, admin_options(std::move(client))) {}

void Admin::with_controller(std::function<void(Result<NodeId>)> fn) {
  proto::MetadataRequest req;
  req.topics.emplace();  // brokers and controller only
  req.allow_auto_topic_creation = false;
  net_.send_any(std::move(req), [this, fn = std::move(fn)](Result<proto::MetadataResponse> r) {
    if (!r) return fn(r.status());
    net_.ingest_metadata(*r);
    NodeId controller(r->controller_id);
    bool known = false;
    for (const auto& b : r->brokers) known = known || b.node_id == r->controller_id;
    fn(known ? controller : net_.least_loaded_node());
  });
}

void Admin::create_topics(std::vector<NewTopic> topics, TopicsCallback cb, int32_t timeout_ms,
                          bool validate_only) {
  STRATA_ASSERT(topics.size() <= limits::kAdminTopicsPerRequestMax);
  proto::CreateTopicsRequest req;
  req.timeout_ms = timeout_ms;
  req.validate_only = validate_only;
  for (auto& t : topics) {
    auto& rt = req.topics.emplace_back();
    rt.name = std::move(t.name);
    rt.num_partitions = t.partitions;
    rt.replication_factor = t.replication_factor;
    for (auto& [k, v] : t.configs) rt.configs.push_back({k, v});
  }
  with_controller([this, req = std::move(req), cb = std::move(cb)](Result<NodeId> node) mutable {
    if (!node) return cb(node.status());
    net_.send(*node, std::move(req), [cb](Result<proto::CreateTopicsResponse> r) {
      if (!r) return cb(r.status());
      cb(to_results(r->topics));
    });
  });
}

void Admin::delete_topics(std::vector<std::string> names, TopicsCallback cb, int32_t timeout_ms) {
  STRATA_ASSERT(names.size() <= limits::kAdminTopicsPerRequestMax);
  proto::DeleteTopicsRequest req;
  req.topic_names = std::move(names);
  req.timeout_ms = timeout_ms;
  with_controller([this, req = std::move(req), cb = std::move(cb)](Result<NodeId> node) mutable {
    if (!node) return cb(node.status());
    net_.send(*node, std::move(req), [cb](Result<proto::DeleteTopicsResponse> r) {
      if (!r) return cb(r.status());
      cb(to_results(r->responses));
    });
  });
}

void Admin::create_partitions(std::vector<std::pair<std::string, int32_t>> counts,
                              TopicsCallback cb, int32_t timeout_ms) {
  STRATA_ASSERT(counts.size() <= limits::kAdminTopicsPerRequestMax);
  proto::CreatePartitionsRequest req;
  req.timeout_ms = timeout_ms;
  for (auto& [name, count] : counts) {
    auto& t = req.topics.emplace_back();
    t.name = name;
    t.count = count;
    t.assignments.reset();  // null: the controller places the new partitions
  }
  with_controller([this, req = std::move(req), cb = std::move(cb)](Result<NodeId> node) mutable {
    if (!node) return cb(node.status());
    net_.send(*node, std::move(req), [cb](Result<proto::CreatePartitionsResponse> r) {
      if (!r) return cb(r.status());
      cb(to_results(r->results));
    });
  });
}

void Admin::metadata(std::optional<std::vector<std::string>> names, ClusterCallback cb) {
  proto::MetadataRequest req;
  if (names) {
    req.topics.emplace();
    for (auto& n : *names) req.topics->push_back({std::move(n)});
  } else {
    req.topics.reset();  // null: every topic
  }
  req.allow_auto_topic_creation = false;
  net_.send_any(std::move(req), [cb = std::move(cb)](Result<proto::MetadataResponse> r) {
    if (!r) return cb(r.status());
    ClusterDescription d;
    d.cluster_id = r->cluster_id;
    d.controller = r->controller_id >= 0 ? NodeId(r->controller_id) : kNoNode;
    for (const auto& b : r->brokers) {
      if (b.port <= 0 || b.port > 65535) continue;
      d.brokers.push_back({NodeId(b.node_id), Endpoint{b.host, uint16_t(b.port)}, b.rack});
    }
    d.topics = topics_from_response(*r);
    cb(std::move(d));
  });
}

void Admin::list_topics(ClusterCallback cb) { metadata(std::nullopt, std::move(cb)); }

void Admin::describe_topics(std::vector<std::string> names, ClusterCallback cb) {
  metadata(std::move(names), std::move(cb));
}

void Admin::describe_configs(std::vector<std::string> topics, ConfigsCallback cb) {
  STRATA_ASSERT(topics.size() <= limits::kAdminTopicsPerRequestMax);
  proto::DescribeConfigsRequest req;
  for (auto& t : topics) {
    auto& res = req.resources.emplace_back();
    res.resource_type = kResourceTopic;
    res.resource_name = std::move(t);
    res.configuration_keys.reset();  // null: every key
  }
  net_.send_any(std::move(req), [cb = std::move(cb)](Result<proto::DescribeConfigsResponse> r) {
    if (!r) return cb(r.status());
    std::vector<ConfigResourceResult> out;
    for (const auto& res : r->results) {
      ConfigResourceResult c;
      c.name = res.resource_name;
      c.error_code = res.error_code;
      if (res.error_message) c.message = *res.error_message;
      for (const auto& e : res.configs) {
        c.entries.push_back(ConfigEntry{e.name, e.value,
                                        e.is_default || e.config_source == kSourceDefault,
                                        e.read_only, e.is_sensitive, e.config_source});
      }
      out.push_back(std::move(c));
    }
    cb(std::move(out));
  });
}

void Admin::alter_topic_configs(std::string topic, std::vector<ConfigChange> changes,
                                TopicsCallback cb, bool validate_only) {
  proto::IncrementalAlterConfigsRequest req;
  req.validate_only = validate_only;
  auto& res = req.resources.emplace_back();
  res.resource_type = kResourceTopic;
  res.resource_name = std::move(topic);
  for (auto& c : changes) {
    res.configs.push_back({std::move(c.name), static_cast<int8_t>(c.op), std::move(c.value)});
  }
  net_.send_any(std::move(req),
                [cb = std::move(cb)](Result<proto::IncrementalAlterConfigsResponse> r) {
                  if (!r) return cb(r.status());
                  std::vector<TopicResult> out;
                  for (const auto& res : r->responses) {
                    TopicResult t;
                    t.name = res.resource_name;
                    t.error_code = res.error_code;
                    if (res.error_message) t.message = *res.error_message;
                    out.push_back(std::move(t));
                  }
                  cb(std::move(out));
                });
}

}  // namespace strata::client
