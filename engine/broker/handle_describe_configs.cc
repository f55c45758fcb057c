// DescribeConfigs: a topic's effective configuration (broker defaults + its overrides) or a
// broker's, with Kafka's config sources so tools can tell overrides from defaults.
#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {
namespace {

using proto::ErrorCode;
using Response = proto::DescribeConfigsResponse;

constexpr int8_t kResourceTopic = 2;
constexpr int8_t kResourceBroker = 4;
// ConfigSource values (DescribeConfigs v1+).
constexpr int8_t kSourceDynamicTopic = 1;
constexpr int8_t kSourceStaticBroker = 4;
constexpr int8_t kSourceDefault = 5;

bool wanted(const std::optional<std::vector<std::string>>& keys, std::string_view name) {
  if (!keys) return true;
  for (const auto& k : *keys) {
    if (k == name) return true;
  }
  return false;
}

void describe_topic(const Topic& t, const BrokerConfig& bc,
                    const proto::DescribeConfigsRequest::Resource& res, bool synonyms,
                    Response::ResourceResult& out) {
  static const TopicConfig kBuiltIn;
  for (const TopicKeyDef& def : topic_key_defs()) {
    if (!wanted(res.configuration_keys, def.name)) continue;
    Response::Config c;
    c.name = std::string(def.name);
    c.value = def.get(t.config);
    bool overridden = t.record.configs.count(std::string(def.name)) > 0;
    bool broker_set = def.get(bc.topic_defaults) != def.get(kBuiltIn);
    c.config_source = overridden ? kSourceDynamicTopic
                                 : (broker_set ? kSourceStaticBroker : kSourceDefault);
    c.is_default = !overridden && !broker_set;
    if (synonyms) {
      if (overridden) c.synonyms.push_back({c.name, c.value, kSourceDynamicTopic});
      if (broker_set) {
        c.synonyms.push_back({std::string(def.broker_name), def.get(bc.topic_defaults),
                              kSourceStaticBroker});
      }
      c.synonyms.push_back({std::string(def.broker_name), def.get(kBuiltIn), kSourceDefault});
    }
    out.configs.push_back(std::move(c));
  }
}

void describe_broker(const BrokerConfig& bc, const proto::DescribeConfigsRequest::Resource& res,
                     Response::ResourceResult& out) {
  auto add = [&](std::string name, std::string value) {
    if (!wanted(res.configuration_keys, name)) return;
    Response::Config c;
    c.name = std::move(name);
    c.value = std::move(value);
    c.read_only = true;
    c.config_source = kSourceStaticBroker;
    out.configs.push_back(std::move(c));
  };
  add("node.id", std::to_string(bc.node_id.value()));
  add("log.dirs", bc.log_dirs.front());
  add("num.partitions", std::to_string(bc.num_partitions));
  add("default.replication.factor", std::to_string(bc.default_replication_factor));
  add("auto.create.topics.enable", bc.auto_create_topics_enable ? "true" : "false");
  add("delete.topic.enable", bc.delete_topic_enable ? "true" : "false");
  for (const TopicKeyDef& def : topic_key_defs()) {
    add(std::string(def.broker_name), def.get(bc.topic_defaults));
  }
}

}  // namespace

Status handle_describe_configs(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::DescribeConfigsRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  Response resp;
  for (const auto& res : req.resources) {
    Response::ResourceResult r;
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    if (res.resource_type == kResourceTopic) {
      if (const Topic* t = b.topics().find(res.resource_name)) {
        describe_topic(*t, b.config(), res, ctx.version() >= 1 && req.include_synonyms, r);
      } else {
        r.error_code = static_cast<int16_t>(ErrorCode::kUnknownTopicOrPartition);
        r.error_message = response_message("Topic " + res.resource_name + " does not exist.");
      }
    } else if (res.resource_type == kResourceBroker &&
               (res.resource_name.empty() ||
                res.resource_name == std::to_string(b.node_id().value()))) {
      describe_broker(b.config(), res, r);
    } else {
      r.error_code = static_cast<int16_t>(ErrorCode::kInvalidRequest);
      r.error_message = response_message("Unsupported resource " +
                                         std::to_string(res.resource_type) + "/" +
                                         res.resource_name);
    }
    resp.results.push_back(std::move(r));
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
