// `strata topics create|list|describe|delete|alter`: kafka-topics.sh on our own Admin client.
// Text output follows kafka-topics line for line; --format json is for machines.
#include <algorithm>
#include <iostream>
#include <sstream>

#include "engine/cli/client_cli.h"
#include "engine/cli/commands.h"
#include "engine/client/admin.h"
#include "engine/client/client_errors.h"

namespace strata::cli {
namespace {

constexpr const char* kTopicsUsage =
    "usage: strata topics <command> [options]\n"
    "  create NAME [--partitions N] [--replication-factor R] [--config k=v]...\n"
    "  list\n"
    "  describe [NAME]\n"
    "  delete NAME\n"
    "  alter NAME [--partitions N] [--config k=v]... [--delete-config k]...\n"
    "                                    grow the topic to N partitions; set or remove\n"
    "                                    config overrides (the others stay)\n"
    "NAME may also be given as --topic NAME.\n"
    "common options:\n"
    "  -b, --bootstrap-server HOST:PORT  (default 127.0.0.1:9092)\n"
    "  --format text|json                (default text)\n"
    "  --timeout-ms N                    give up after N ms (default 30000)\n";

constexpr int64_t kDefaultTimeoutMs = 30000;
constexpr const char* kCmd = "topics";

struct Ctx {
  PosixRuntime& rt;
  client::Admin& admin;
  const Args& args;
  OutputFormat format;
  int64_t timeout_ms;
  std::string topic;  // may be empty
};

std::string join_nodes(const std::vector<NodeId>& nodes) {
  std::string out;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(nodes[i].value());
  }
  return out;
}

std::string json_nodes(const std::vector<NodeId>& nodes) { return "[" + join_nodes(nodes) + "]"; }

int fail(const Status& s) {
  print_error(kCmd, s.message());
  return 1;
}

// Prints each failed topic's Kafka error; returns the exit code.
int report(const Result<std::vector<client::TopicResult>>& r, const std::string& done_text,
           OutputFormat format) {
  if (!r) return fail(r.status());
  int rc = 0;
  for (const auto& t : *r) {
    Status s = t.status();
    if (!s) {
      rc = 1;
      print_error(kCmd, s.message());
    } else if (format == OutputFormat::kJson) {
      std::cout << "{\"topic\":" << json_string(t.name) << ",\"ok\":true}\n";
    } else {
      std::cout << done_text << " " << t.name << ".\n";
    }
  }
  return rc;
}

// Every --config k=v; nullopt after printing the error for a malformed one.
std::optional<std::vector<std::pair<std::string, std::string>>> config_pairs(const Args& args) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& kv : args.all("config")) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      print_error(kCmd, "--config expects key=value, got '" + kv + "'");
      return std::nullopt;
    }
    out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return out;
}

int do_create(Ctx& c) {
  client::NewTopic t;
  t.name = c.topic;
  auto partitions = c.args.get_int("partitions", -1);
  auto rf = c.args.get_int("replication-factor", -1);
  if (!partitions || !rf) {
    print_error(kCmd, (!partitions ? partitions.status() : rf.status()).message());
    return 2;
  }
  t.partitions = int32_t(*partitions);
  t.replication_factor = int16_t(*rf);
  auto configs = config_pairs(c.args);
  if (!configs) return 2;
  t.configs = std::move(*configs);
  auto r = await<std::vector<client::TopicResult>>(
      c.rt,
      [&](auto cb) {
        c.admin.create_topics({t}, cb, int32_t(c.timeout_ms));
      },
      c.timeout_ms);
  return report(r, "Created topic", c.format);
}

int do_delete(Ctx& c) {
  auto r = await<std::vector<client::TopicResult>>(
      c.rt, [&](auto cb) { c.admin.delete_topics({c.topic}, cb, int32_t(c.timeout_ms)); },
      c.timeout_ms);
  return report(r, "Deleted topic", c.format);
}

// --config k=v and --delete-config k as IncrementalAlterConfigs operations; nullopt after
// printing the error for a malformed --config.
std::optional<std::vector<client::ConfigChange>> config_changes(const Args& args) {
  auto pairs = config_pairs(args);
  if (!pairs) return std::nullopt;
  std::vector<client::ConfigChange> changes;
  for (auto& [key, value] : *pairs) {
    changes.push_back({key, client::ConfigChange::Op::kSet, value});
  }
  for (const auto& k : args.all("delete-config")) {
    changes.push_back({k, client::ConfigChange::Op::kDelete, std::nullopt});
  }
  return changes;
}

int do_alter(Ctx& c) {
  auto changes = config_changes(c.args);
  if (!changes) return 2;
  bool grow = c.args.has("partitions");
  auto partitions = c.args.get_int("partitions", -1);
  if (!partitions || (grow && *partitions <= 0) || (!grow && changes->empty())) {
    print_error(kCmd, "alter needs --partitions N (N > 0), --config k=v or --delete-config k");
    return 2;
  }
  int rc = 0;
  if (!changes->empty()) {
    auto r = await<std::vector<client::TopicResult>>(
        c.rt, [&](auto cb) { c.admin.alter_topic_configs(c.topic, *changes, cb); },
        c.timeout_ms);
    rc = report(r, "Altered configs of topic", c.format);
  }
  if (grow && rc == 0) {
    auto r = await<std::vector<client::TopicResult>>(
        c.rt,
        [&](auto cb) {
          c.admin.create_partitions({{c.topic, int32_t(*partitions)}}, cb,
                                    int32_t(c.timeout_ms));
        },
        c.timeout_ms);
    rc = report(r, "Altered partitions of topic", c.format);
  }
  return rc;
}

int do_list(Ctx& c) {
  auto r = await<client::ClusterDescription>(
      c.rt, [&](auto cb) { c.admin.list_topics(cb); }, c.timeout_ms);
  if (!r) return fail(r.status());
  if (c.format == OutputFormat::kJson) {
    std::cout << "[";
    for (size_t i = 0; i < r->topics.size(); ++i) {
      std::cout << (i ? "," : "") << json_string(r->topics[i].name);
    }
    std::cout << "]\n";
    return 0;
  }
  for (const auto& t : r->topics) std::cout << t.name << "\n";
  return 0;
}

std::string configs_text(const client::ConfigResourceResult* cfg, bool json) {
  std::string out;
  if (cfg == nullptr) return json ? "{}" : "";
  for (const auto& e : cfg->entries) {
    if (e.is_default) continue;  // kafka-topics shows overrides only
    std::string v = e.sensitive ? "" : e.value.value_or("");
    if (json) {
      out += (out.empty() ? "" : ",") + json_string(e.name) + ":" + json_string(v);
    } else {
      out += (out.empty() ? "" : ",") + e.name + "=" + v;
    }
  }
  return json ? "{" + out + "}" : out;
}

void print_topic(const client::TopicMetadata& t, const client::ConfigResourceResult* cfg,
                 OutputFormat format) {
  size_t rf = t.partitions.empty() ? 0 : t.partitions.front().replicas.size();
  if (format == OutputFormat::kJson) {
    std::cout << "{\"topic\":" << json_string(t.name)
              << ",\"partition_count\":" << t.partitions.size()
              << ",\"replication_factor\":" << rf << ",\"configs\":" << configs_text(cfg, true)
              << ",\"partitions\":[";
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      const auto& p = t.partitions[i];
      std::cout << (i ? "," : "") << "{\"partition\":" << p.id.value()
                << ",\"leader\":" << p.leader.value() << ",\"replicas\":" << json_nodes(p.replicas)
                << ",\"isr\":" << json_nodes(p.isr) << "}";
    }
    std::cout << "]}\n";
    return;
  }
  // Kafka prints "TopicId: ..." after the name when it knows the id; Metadata up to v8 (all
  // we speak) does not carry topic ids, so the field is left out as Kafka does for a zero id.
  std::cout << "Topic: " << t.name << "\tPartitionCount: " << t.partitions.size()
            << "\tReplicationFactor: " << rf << "\tConfigs: " << configs_text(cfg, false)
            << "\n";
  for (const auto& p : t.partitions) {
    std::string leader = p.leader == kNoNode ? "none" : std::to_string(p.leader.value());
    std::cout << "\tTopic: " << t.name << "\tPartition: " << p.id.value() << "\tLeader: "
              << leader << "\tReplicas: " << join_nodes(p.replicas)
              << "\tIsr: " << join_nodes(p.isr) << "\n";
  }
}

int do_describe(Ctx& c) {
  auto r = await<client::ClusterDescription>(
      c.rt,
      [&](auto cb) {
        if (c.topic.empty()) {
          c.admin.list_topics(cb);
        } else {
          c.admin.describe_topics({c.topic}, cb);
        }
      },
      c.timeout_ms);
  if (!r) return fail(r.status());
  std::vector<std::string> names;
  int rc = 0;
  for (const auto& t : r->topics) {
    if (t.error_code != 0) {
      rc = 1;
      print_error(kCmd, client::kafka_error_text(t.error_code, "topic '" + t.name + "'"));
    } else {
      names.push_back(t.name);
    }
  }
  if (names.empty()) return rc;
  auto cfgs = await<std::vector<client::ConfigResourceResult>>(
      c.rt, [&](auto cb) { c.admin.describe_configs(names, cb); }, c.timeout_ms);
  for (const auto& t : r->topics) {
    if (t.error_code != 0) continue;
    const client::ConfigResourceResult* cfg = nullptr;
    if (cfgs) {
      for (const auto& x : *cfgs) {
        if (x.name == t.name && x.error_code == 0) cfg = &x;
      }
    }
    print_topic(t, cfg, c.format);
  }
  return rc;
}

}  // namespace

int cmd_topics(const Argv& argv) {
  Args args;
  std::vector<OptionSpec> specs = {
      {"partitions"}, {"replication-factor"}, {"config"}, {"delete-config"}, {"topic"}};
  if (auto rc = parse_or_usage(kCmd, argv, specs, kTopicsUsage, args)) return *rc;
  auto common = parse_common(args);
  const auto& pos = args.positional();
  if (!common || pos.empty() || pos.size() > 2) {
    print_error(kCmd, !common ? common.status().message() : "expected a command and a name");
    std::cerr << kTopicsUsage;
    return 2;
  }
  const std::string& verb = pos[0];
  std::string topic = pos.size() > 1 ? pos[1] : args.get_or("topic", "");
  bool needs_name = verb == "create" || verb == "delete" || verb == "alter";
  bool known = needs_name || verb == "list" || verb == "describe";
  if (!known || (needs_name && topic.empty())) {
    print_error(kCmd, known ? verb + " needs a topic name" : "unknown command '" + verb + "'");
    std::cerr << kTopicsUsage;
    return 2;
  }
  auto rt = make_runtime();
  if (!rt) return fail(rt.status());
  client::Admin admin(**rt, common->client);
  Ctx c{**rt, admin, args, common->format, common->timeout_ms.value_or(kDefaultTimeoutMs), topic};
  int rc = verb == "create"   ? do_create(c)
           : verb == "delete" ? do_delete(c)
           : verb == "alter"  ? do_alter(c)
           : verb == "list"   ? do_list(c)
                              : do_describe(c);
  close_client(**rt, admin.network());
  return rc;
}

}  // namespace strata::cli
