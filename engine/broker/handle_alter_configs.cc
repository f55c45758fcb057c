// AlterConfigs and IncrementalAlterConfigs: changing a topic's configuration while it runs
// (retention.ms, segment.bytes, max.message.bytes, …). Both end in
// TopicManager::alter_topic_configs, which writes the topic's new override set to the metadata
// log before it answers, so an acknowledged change survives a restart.
//
// AlterConfigs replaces the whole override set of a resource; IncrementalAlterConfigs (KIP-339)
// sets, deletes, appends to or subtracts from single keys and leaves the rest. Each resource
// gets its own error; a bad key fails its resource only. Broker resources are refused:
// strata reads its broker settings from server.properties at start.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "engine/broker/handlers.h"
#include "engine/broker/topic_config.h"
#include "engine/protocol/messages.h"

namespace strata::broker {
namespace {

using proto::ErrorCode;

constexpr int8_t kResourceTopic = 2;
constexpr int8_t kResourceBroker = 4;
constexpr int8_t kResourceBrokerLogger = 8;

enum class Op : int8_t { kSet = 0, kDelete = 1, kAppend = 2, kSubtract = 3 };

AdminError invalid(ErrorCode code, std::string message) { return {code, std::move(message)}; }

// The error for a resource that is not a topic, or nullopt for a topic.
std::optional<AdminError> check_resource_type(int8_t type) {
  if (type == kResourceTopic) return std::nullopt;
  if (type == kResourceBroker || type == kResourceBrokerLogger) {
    return invalid(ErrorCode::kInvalidRequest,
                   "strata does not change broker configs at runtime: set them in "
                   "server.properties and restart the broker.");
  }
  return invalid(ErrorCode::kInvalidRequest,
                 "Unsupported resource type " + std::to_string(type) + ".");
}

// Kafka's list-typed topic configs that APPEND and SUBTRACT apply to.
bool is_list_key(std::string_view key) { return key == "cleanup.policy"; }

std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> items;
  size_t at = 0;
  while (at <= value.size()) {
    size_t comma = value.find(',', at);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = value.substr(at, comma - at);
    if (!item.empty()) items.emplace_back(item);
    at = comma + 1;
  }
  return items;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// The effective value of `key` for a topic whose overrides are `overrides`.
std::string current_value(const Broker& b, const std::map<std::string, std::string>& overrides,
                          const TopicKeyDef& def) {
  auto it = overrides.find(std::string(def.name));
  if (it != overrides.end()) return it->second;
  return def.get(b.config().topic_defaults);
}

// Applies one IncrementalAlterConfigs operation to `overrides`.
AdminError apply_operation(const Broker& b, const proto::IncrementalAlterConfigsRequest::Config& c,
                           std::map<std::string, std::string>& overrides) {
  const TopicKeyDef* def = find_topic_key(c.name);
  if (def == nullptr) {
    return invalid(ErrorCode::kInvalidConfig, "Unknown topic config name: " + c.name);
  }
  switch (static_cast<Op>(c.config_operation)) {
    case Op::kSet:
      if (!c.value) {
        return invalid(ErrorCode::kInvalidConfig, "Null value for config " + c.name + ".");
      }
      overrides[c.name] = *c.value;
      return {};
    case Op::kDelete:
      overrides.erase(c.name);
      return {};
    case Op::kAppend:
    case Op::kSubtract: {
      if (!is_list_key(c.name)) {
        return invalid(ErrorCode::kInvalidConfig,
                       "Config value append/subtract is not allowed for config key " + c.name +
                           ", which is not a list.");
      }
      std::vector<std::string> items = split_list(current_value(b, overrides, *def));
      for (const std::string& v : split_list(c.value.value_or(""))) {
        auto found = std::find(items.begin(), items.end(), v);
        if (c.config_operation == int8_t(Op::kAppend) && found == items.end()) items.push_back(v);
        if (c.config_operation == int8_t(Op::kSubtract) && found != items.end()) items.erase(found);
      }
      overrides[c.name] = join_list(items);
      return {};
    }
  }
  return invalid(ErrorCode::kInvalidRequest,
                 "Unknown config operation " + std::to_string(c.config_operation) + " for " +
                     c.name + ".");
}

// Names that appear twice in a resource's config list, Kafka's INVALID_REQUEST.
template <class Configs>
std::optional<AdminError> duplicate_key(const Configs& configs) {
  std::set<std::string_view> seen;
  for (const auto& c : configs) {
    if (!seen.insert(c.name).second) {
      return invalid(ErrorCode::kInvalidRequest, "Error due to duplicate config keys: " + c.name);
    }
  }
  return std::nullopt;
}

// Resources named twice in one request fail both, as in Kafka.
template <class Resources>
std::set<std::pair<int8_t, std::string>> duplicate_resources(const Resources& resources) {
  std::set<std::pair<int8_t, std::string>> seen, dup;
  for (const auto& r : resources) {
    if (!seen.insert({r.resource_type, r.resource_name}).second) {
      dup.insert({r.resource_type, r.resource_name});
    }
  }
  return dup;
}

template <class Result>
Result result_of(int8_t type, const std::string& name, const AdminError& err) {
  Result r;
  r.resource_type = type;
  r.resource_name = name;
  r.error_code = static_cast<int16_t>(err.code);
  if (!err.ok()) r.error_message = response_message(err.message);
  return r;
}

// What every resource must pass before its configs are looked at: named once in the request,
// a topic, each key once.
template <class Resource>
std::optional<AdminError> precheck(const Resource& res,
                                   const std::set<std::pair<int8_t, std::string>>& dups) {
  if (dups.count({res.resource_type, res.resource_name})) {
    return invalid(ErrorCode::kInvalidRequest, "Duplicate resource in the request.");
  }
  if (auto bad = check_resource_type(res.resource_type)) return bad;
  return duplicate_key(res.configs);
}

}  // namespace

Status handle_alter_configs(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::AlterConfigsRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::AlterConfigsResponse resp;
  auto dups = duplicate_resources(req.resources);
  for (const auto& res : req.resources) {
    AdminError err;
    if (auto refused = precheck(res, dups)) {
      err = *refused;
    } else {
      std::map<std::string, std::string> overrides;
      for (const auto& c : res.configs) {
        if (!c.value) {
          err = invalid(ErrorCode::kInvalidConfig, "Null value for config " + c.name + ".");
          break;
        }
        overrides[c.name] = *c.value;
      }
      if (err.ok()) {
        err = b.topics().alter_topic_configs(res.resource_name, overrides, req.validate_only);
      }
    }
    resp.responses.push_back(result_of<proto::AlterConfigsResponse::ResourceResult>(
        res.resource_type, res.resource_name, err));
  }
  b.respond(ctx, resp);
  return ok_status();
}

Status handle_incremental_alter_configs(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::IncrementalAlterConfigsRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::IncrementalAlterConfigsResponse resp;
  auto dups = duplicate_resources(req.resources);
  for (const auto& res : req.resources) {
    AdminError err;
    const Topic* topic = nullptr;
    if (auto refused = precheck(res, dups)) {
      err = *refused;
    } else if ((topic = b.topics().find(res.resource_name)) == nullptr) {
      err = invalid(ErrorCode::kUnknownTopicOrPartition,
                    "Topic " + res.resource_name + " does not exist.");
    } else {
      std::map<std::string, std::string> overrides = topic->record.configs;
      for (const auto& c : res.configs) {
        err = apply_operation(b, c, overrides);
        if (!err.ok()) break;
      }
      if (err.ok()) {
        err = b.topics().alter_topic_configs(res.resource_name, overrides, req.validate_only);
      }
    }
    resp.responses.push_back(result_of<proto::IncrementalAlterConfigsResponse::ResourceResult>(
        res.resource_type, res.resource_name, err));
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
