#include "engine/broker/config.h"

#include <algorithm>
#include <array>
#include <functional>
#include <map>

#include "engine/base/limits.h"
#include "engine/client/network_client.h"

namespace strata::broker {
namespace {

constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();

// Keys Kafka knows that have no effect in strata (yet); listed so they do not warn as unknown.
constexpr std::array<std::string_view, 29> kIgnoredKeys = {
    "num.network.threads", "num.io.threads", "num.replica.fetchers",
    "num.recovery.threads.per.data.dir", "socket.send.buffer.bytes",
    "socket.receive.buffer.bytes", "background.threads", "listener.security.protocol.map",
    "inter.broker.listener.name", "controller.listener.names", "process.roles",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor", "transaction.state.log.min.isr",
    "zookeeper.connect", "zookeeper.connection.timeout.ms", "broker.rack",
    "security.inter.broker.protocol",
    "sasl.enabled.mechanisms", "ssl.keystore.location", "metric.reporters",
    "auto.leader.rebalance.enable", "leader.imbalance.check.interval.seconds",
    "log.cleaner.threads",
    "replica.fetch.max.bytes", "replica.socket.timeout.ms", "compression.gzip.level",
    "broker.id.generation.enable", "log.preallocate"};

using Setter = std::function<Status(BrokerConfig&, std::string_view)>;

Setter long_setter(int64_t BrokerConfig::*field, int64_t min, int64_t max = kLongMax) {
  return [=](BrokerConfig& c, std::string_view v) {
    auto r = parse_long(v, min, max);
    if (!r) return r.status();
    c.*field = *r;
    return ok_status();
  };
}

template <class T>
Setter int_setter(T BrokerConfig::*field, int64_t min, int64_t max) {
  return [=](BrokerConfig& c, std::string_view v) {
    auto r = parse_long(v, min, max);
    if (!r) return r.status();
    c.*field = static_cast<T>(*r);
    return ok_status();
  };
}

// A key whose value has its own parser (listeners, voters): parsed, then stored in `field`.
template <class T, class Parsed>
Setter parsed_setter(T BrokerConfig::*field, Result<Parsed> (*parse)(std::string_view)) {
  return [=](BrokerConfig& c, std::string_view v) {
    auto r = parse(v);
    if (!r) return r.status();
    c.*field = std::move(*r);
    return ok_status();
  };
}

template <class T>
Setter group_setter(T group::GroupConfig::*field, int64_t min, int64_t max) {
  return [=](BrokerConfig& c, std::string_view v) {
    auto r = parse_long(v, min, max);
    if (!r) return r.status();
    c.group.*field = static_cast<T>(*r);
    return ok_status();
  };
}

Setter bool_setter(bool BrokerConfig::*field) {
  return [=](BrokerConfig& c, std::string_view v) {
    auto r = parse_bool(v);
    if (!r) return r.status();
    c.*field = *r;
    return ok_status();
  };
}

Status set_node_id(BrokerConfig& c, std::string_view v) {
  auto r = parse_long(v, 0, kIntMax);
  if (!r) return r.status();
  c.node_id = NodeId(static_cast<int32_t>(*r));
  return ok_status();
}

Status set_log_dirs(BrokerConfig& c, std::string_view v) {
  std::vector<std::string> dirs;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t comma = std::min(v.find(',', pos), v.size());
    std::string_view d = v.substr(pos, comma - pos);
    while (!d.empty() && d.front() == ' ') d.remove_prefix(1);
    while (!d.empty() && d.back() == ' ') d.remove_suffix(1);
    if (!d.empty()) dirs.emplace_back(d);
    pos = comma + 1;
  }
  if (dirs.empty()) return Status::invalid_argument("expected a comma-separated list of paths");
  c.log_dirs = std::move(dirs);
  return ok_status();
}

const std::map<std::string_view, Setter>& broker_setters() {
  static const std::map<std::string_view, Setter> setters = {
      {"node.id", set_node_id},
      {"broker.id", set_node_id},
      {"listeners", parsed_setter(&BrokerConfig::listeners, parse_listeners)},
      {"advertised.listeners",
       parsed_setter(&BrokerConfig::advertised_listeners, parse_listeners)},
      {"controller.quorum.voters",
       parsed_setter(&BrokerConfig::controller, parse_controller_voter)},
      {"log.dirs", set_log_dirs},
      {"log.dir", set_log_dirs},
      {"num.partitions", int_setter(&BrokerConfig::num_partitions, 1, 10000)},
      {"default.replication.factor",
       int_setter(&BrokerConfig::default_replication_factor, 1, 32767)},
      {"auto.create.topics.enable", bool_setter(&BrokerConfig::auto_create_topics_enable)},
      {"delete.topic.enable", bool_setter(&BrokerConfig::delete_topic_enable)},
      {"replica.lag.time.max.ms", long_setter(&BrokerConfig::replica_lag_time_max_ms, 1)},
      {"broker.heartbeat.interval.ms",
       long_setter(&BrokerConfig::broker_heartbeat_interval_ms, 1)},
      {"broker.session.timeout.ms", long_setter(&BrokerConfig::broker_session_timeout_ms, 1)},
      {"socket.request.max.bytes",
       int_setter(&BrokerConfig::socket_request_max_bytes, 1024, 104857600)},
      {"log.retention.check.interval.ms",
       long_setter(&BrokerConfig::log_retention_check_interval_ms, 1)},
      {"log.flush.scheduler.interval.ms",
       long_setter(&BrokerConfig::log_flush_scheduler_interval_ms, 1)},
      {"queued.max.requests", int_setter(&BrokerConfig::queued_max_requests, 1, 100000)},
      {"fetch.max.bytes", int_setter(&BrokerConfig::fetch_max_bytes, 1024, kIntMax)},
      {"log.cleaner.enable", bool_setter(&BrokerConfig::log_cleaner_enable)},
      {"log.cleaner.backoff.ms", long_setter(&BrokerConfig::log_cleaner_backoff_ms, 1)},
      {"log.cleaner.dedupe.buffer.size",
       long_setter(&BrokerConfig::log_cleaner_dedupe_buffer_size, 1 << 20)},
      {"producer.id.expiration.ms",
       long_setter(&BrokerConfig::producer_id_expiration_ms, 1)},
      {"group.min.session.timeout.ms",
       group_setter(&group::GroupConfig::min_session_timeout_ms, 1, kIntMax)},
      {"group.max.session.timeout.ms",
       group_setter(&group::GroupConfig::max_session_timeout_ms, 1, kIntMax)},
      {"group.initial.rebalance.delay.ms",
       group_setter(&group::GroupConfig::initial_rebalance_delay_ms, 0, kIntMax)},
      {"group.max.size",
       group_setter(&group::GroupConfig::max_size, 1, limits::kGroupMembersMax)},
      {"offsets.topic.num.partitions",
       group_setter(&group::GroupConfig::offsets_topic_num_partitions, 1,
                    limits::kPartitionsPerTopicMax)},
      {"offsets.topic.segment.bytes",
       group_setter(&group::GroupConfig::offsets_topic_segment_bytes, 14, kIntMax)},
      {"offset.metadata.max.bytes",
       group_setter(&group::GroupConfig::offset_metadata_max_bytes, 0, kIntMax)},
      {"offsets.retention.minutes",
       [](BrokerConfig& c, std::string_view v) {
         auto r = parse_long(v, 1, kIntMax);
         if (!r) return r.status();
         c.group.offsets_retention_ms = *r * 60 * 1000;
         return ok_status();
       }},
      {"offsets.retention.check.interval.ms",
       group_setter(&group::GroupConfig::offsets_retention_check_interval_ms, 1, kLongMax)},
      {"cluster.id",
       [](BrokerConfig& c, std::string_view v) {
         c.cluster_id = std::string(v);
         return ok_status();
       }},
  };
  return setters;
}

// Kafka's hour/minute variants of ms keys; the ms key wins when several are given.
struct UnitKey {
  std::string_view name;
  std::string_view ms_key;
  int64_t factor;
};
constexpr std::array<UnitKey, 4> kUnitKeys = {{
    {"log.retention.hours", "log.retention.ms", 3600 * 1000LL},
    {"log.retention.minutes", "log.retention.ms", 60 * 1000LL},
    {"log.roll.hours", "log.roll.ms", 3600 * 1000LL},
    {"log.retention.ms", "log.retention.ms", 1},
}};

std::string where(std::string_view source, const PropertyEntry& e) {
  if (e.line == 0) return "--override " + e.key;
  return std::string(source) + ":" + std::to_string(e.line);
}

Status apply_entry(BrokerConfig& c, const PropertyEntry& e) {
  if (auto it = broker_setters().find(e.key); it != broker_setters().end()) {
    return it->second(c, e.value);
  }
  const TopicKeyDef* def = find_topic_key_by_broker_name(e.key);
  STRATA_ASSERT(def != nullptr, "apply_entry on a key that is not known");
  return def->set(c.topic_defaults, e.value);
}

// Resolves the hours/minutes/ms families into their ms key, lowest precedence first.
Status apply_unit_keys(ConfigLoad& out, const std::vector<PropertyEntry>& entries,
                       std::string_view source) {
  for (const UnitKey& unit : kUnitKeys) {
    for (const auto& e : entries) {
      if (e.key != unit.name) continue;
      auto v = parse_long(e.value, -1, kLongMax / unit.factor);
      if (!v) {
        return Status::invalid_argument(where(source, e) + ": invalid value '" + e.value +
                                        "' for " + e.key + ": " + v.status().message());
      }
      int64_t ms = *v < 0 ? -1 : *v * unit.factor;
      PropertyEntry as_ms{std::string(unit.ms_key), std::to_string(ms), e.line};
      STRATA_RETURN_IF_ERROR(apply_entry(out.config, as_ms));
    }
  }
  return ok_status();
}

}  // namespace

bool is_known_ignored_key(std::string_view key) {
  return std::find(kIgnoredKeys.begin(), kIgnoredKeys.end(), key) != kIgnoredKeys.end();
}

Result<std::vector<Listener>> parse_listeners(std::string_view value) {
  std::vector<Listener> out;
  size_t pos = 0;
  while (pos < value.size()) {
    size_t comma = std::min(value.find(',', pos), value.size());
    std::string_view item = value.substr(pos, comma - pos);
    pos = comma + 1;
    size_t sep = item.find("://");
    size_t colon = item.rfind(':');
    if (sep == std::string_view::npos || colon == std::string_view::npos || colon < sep + 3) {
      return Status::invalid_argument("expected NAME://host:port, got '" + std::string(item) +
                                      "'");
    }
    Listener l;
    l.name = std::string(item.substr(0, sep));
    l.host = std::string(item.substr(sep + 3, colon - sep - 3));
    if (l.host.size() >= 2 && l.host.front() == '[') l.host = l.host.substr(1, l.host.size() - 2);
    auto port = parse_long(item.substr(colon + 1), 0, 65535);
    if (!port) return Status::invalid_argument("bad port in '" + std::string(item) + "'");
    l.port = static_cast<uint16_t>(*port);
    out.push_back(std::move(l));
  }
  if (out.empty()) return Status::invalid_argument("expected at least one listener");
  return out;
}

Result<ControllerVoter> parse_controller_voter(std::string_view value) {
  if (value.find(',') != std::string_view::npos) {
    return Status::invalid_argument("one controller voter is supported, got '" +
                                    std::string(value) + "'");
  }
  size_t at = value.find('@');
  auto id = parse_long(value.substr(0, at == std::string_view::npos ? 0 : at), 0,
                       std::numeric_limits<int32_t>::max());
  // host:port is what a client's bootstrap.servers entry is (IPv6 in brackets).
  auto where = client::parse_bootstrap_servers(value.substr(at + 1));
  if (at == std::string_view::npos || !id || !where) {
    return Status::invalid_argument("expected id@host:port, got '" + std::string(value) + "'");
  }
  return ControllerVoter{NodeId(int32_t(*id)), where->front()};
}

Listener BrokerConfig::advertised() const {
  Listener l = advertised_listeners.empty() ? listeners.front() : advertised_listeners.front();
  if (l.host.empty() || l.host == "0.0.0.0" || l.host == "::") l.host = "localhost";
  return l;
}

namespace {

// As with Java Properties, a later entry for a key (an --override) replaces an earlier one
// (the file's); the replaced value is neither applied nor validated.
std::vector<PropertyEntry> last_per_key(const std::vector<PropertyEntry>& entries) {
  std::map<std::string, size_t> last;
  for (size_t i = 0; i < entries.size(); ++i) last[entries[i].key] = i;
  std::vector<PropertyEntry> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (last[entries[i].key] == i) out.push_back(entries[i]);
  }
  return out;
}

}  // namespace

Result<ConfigLoad> load_broker_config(const std::vector<PropertyEntry>& all_entries,
                                      std::string_view source) {
  const std::vector<PropertyEntry> entries = last_per_key(all_entries);
  ConfigLoad out;
  STRATA_RETURN_IF_ERROR(apply_unit_keys(out, entries, source));
  for (const auto& e : entries) {
    bool unit_key = std::any_of(kUnitKeys.begin(), kUnitKeys.end(),
                                [&](const UnitKey& u) { return u.name == e.key; });
    if (unit_key) continue;
    bool known = broker_setters().count(e.key) > 0 ||
                 find_topic_key_by_broker_name(e.key) != nullptr;
    if (!known) {
      out.warnings.push_back(where(source, e) + ": " +
                             (is_known_ignored_key(e.key)
                                  ? "key '" + e.key + "' is accepted but has no effect in strata"
                                  : "unknown key '" + e.key + "' ignored"));
      continue;
    }
    Status s = apply_entry(out.config, e);
    if (!s) {
      return Status::invalid_argument(where(source, e) + ": invalid value '" + e.value +
                                      "' for " + e.key + ": " + s.message());
    }
  }
  return out;
}

}  // namespace strata::broker
