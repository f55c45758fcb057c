// `strata groups list|describe|delete|reset-offsets`: kafka-consumer-groups.sh on our own Admin
// client. Text output has Kafka's column names; --format json prints one array for machines.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>

#include "engine/cli/client_cli.h"
#include "engine/cli/commands.h"
#include "engine/client/admin.h"
#include "engine/client/client_errors.h"
#include "engine/client/consumer.h"

namespace strata::cli {
namespace {

constexpr const char* kGroupsUsage =
    "usage: strata groups <command> [options]\n"
    "  list                                   every consumer group\n"
    "  describe --group G [--members|--state] offsets and lag (default), members, or state\n"
    "  delete --group G [--group G2 ...]      delete groups without active members\n"
    "  reset-offsets --group G (--topic T[:P,P...] ... | --all-topics)\n"
    "      (--to-earliest | --to-latest | --to-offset N | --shift-by N) [--execute]\n"
    "                                         prints the plan; applies it only with --execute,\n"
    "                                         and only while the group has no active members\n"
    "common options:\n"
    "  -b, --bootstrap-server HOST:PORT  (default 127.0.0.1:9092)\n"
    "  --format text|json                (default text)\n"
    "  --timeout-ms N                    give up after N ms (default 30000)\n";

constexpr int64_t kDefaultTimeoutMs = 30000;
constexpr const char* kCmd = "groups";

using client::TopicPartition;
using Table = std::vector<std::vector<std::string>>;

struct Ctx {
  PosixRuntime& rt;
  client::Admin& admin;
  const Args& args;
  const CommonOptions& common;
  int64_t timeout_ms;
};

int fail(const Status& s) {
  print_error(kCmd, s.message());
  return 1;
}

// Columns padded to their widest cell, as Kafka's tool prints them.
void print_table(const std::vector<std::string>& header, const Table& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 1, ' ');
    }
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

// The same rows as a JSON array of objects keyed by lower-case column names; "-" is null and
// numbers stay numbers.
void print_json(const std::vector<std::string>& keys, const Table& rows,
                const std::set<std::string>& numeric) {
  std::cout << "[";
  for (size_t r = 0; r < rows.size(); ++r) {
    std::cout << (r ? "," : "") << "{";
    for (size_t i = 0; i < keys.size(); ++i) {
      const std::string& v = rows[r][i];
      std::string value = v == "-" ? "null" : numeric.count(keys[i]) ? v : json_string(v);
      std::cout << (i ? "," : "") << json_string(keys[i]) << ":" << value;
    }
    std::cout << "}";
  }
  std::cout << "]\n";
}

void print_rows(const Ctx& c, const std::vector<std::string>& header,
                const std::vector<std::string>& keys, const Table& rows,
                const std::set<std::string>& numeric) {
  if (c.common.format == OutputFormat::kJson) return print_json(keys, rows, numeric);
  print_table(header, rows);
}

Result<std::string> one_group(const Ctx& c) {
  const auto& groups = c.args.all("group");
  if (groups.size() != 1) return Status::invalid_argument("give exactly one --group");
  return groups[0];
}

Result<client::GroupDescription> describe(const Ctx& c, const std::string& group) {
  auto d = await<std::vector<client::GroupDescription>>(
      c.rt, [&](auto cb) { c.admin.describe_groups({group}, cb); }, c.timeout_ms);
  if (!d) return d.status();
  if (d->size() != 1) return Status::corruption("no description of group " + group);
  if (Status s = (*d)[0].status(); !s) return s;
  return std::move((*d)[0]);
}

// Earliest or latest offsets (ListOffsets through a throwaway Consumer), by partition.
Result<std::map<TopicPartition, int64_t>> log_offsets(const Ctx& c,
                                                      const std::vector<TopicPartition>& tps,
                                                      bool latest) {
  std::map<TopicPartition, int64_t> out;
  if (tps.empty()) return out;
  client::ConsumerConfig cc;
  client::ClientOptions opts = c.common.client;
  opts.allow_auto_topic_creation = false;
  client::Consumer consumer(c.rt, opts, cc);
  std::optional<Status> error;
  consumer.set_error_callback([&](const TopicPartition&, const Status& s) { error = s; });
  consumer.assign(tps);
  if (latest) {
    consumer.seek_to_end(tps);
  } else {
    consumer.seek_to_beginning(tps);
  }
  auto known = [&] {
    if (error) return true;
    for (const auto& tp : tps) {
      if (!consumer.position(tp)) return false;
    }
    return true;
  };
  bool done = c.rt.run_until(known, milliseconds(c.timeout_ms));
  for (const auto& tp : tps) {
    if (auto p = consumer.position(tp)) out[tp] = p->value();
  }
  close_client(c.rt, consumer.network());
  if (error) return *error;
  if (!done)
    return Status::timed_out("no log offsets within " + std::to_string(c.timeout_ms) + " ms");
  return out;
}

std::string dash(const std::optional<int64_t>& v) {
  return v ? std::to_string(*v) : "-";
}

int do_list(Ctx& c) {
  auto r = await<std::vector<client::GroupListing>>(
      c.rt, [&](auto cb) { c.admin.list_groups(cb); }, c.timeout_ms);
  if (!r) return fail(r.status());
  if (c.common.format == OutputFormat::kJson) {
    std::cout << "[";
    for (size_t i = 0; i < r->size(); ++i) {
      std::cout << (i ? "," : "") << "{\"group\":" << json_string((*r)[i].group_id)
                << ",\"protocol_type\":" << json_string((*r)[i].protocol_type) << "}";
    }
    std::cout << "]\n";
    return 0;
  }
  for (const auto& g : *r) std::cout << g.group_id << "\n";
  return 0;
}

int describe_state(Ctx& c, const client::GroupDescription& d) {
  std::string coordinator = "-";
  if (d.coordinator_endpoint) {
    coordinator =
        d.coordinator_endpoint->to_string() + " (" + std::to_string(d.coordinator.value()) + ")";
  }
  Table rows = {{d.group_id, coordinator, d.protocol.empty() ? "-" : d.protocol, d.state,
                 std::to_string(d.members.size())}};
  print_rows(c, {"GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"},
             {"group", "coordinator", "assignment_strategy", "state", "members"}, rows,
             {"members"});
  return 0;
}

int describe_members(Ctx& c, const client::GroupDescription& d) {
  Table rows;
  for (const auto& m : d.members) {
    rows.push_back(
        {d.group_id, m.member_id, m.client_host, m.client_id, std::to_string(m.assignment.size())});
  }
  if (rows.empty()) std::cerr << "Consumer group '" << d.group_id << "' has no active members.\n";
  print_rows(c, {"GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"},
             {"group", "consumer_id", "host", "client_id", "partitions"}, rows, {"partitions"});
  return 0;
}

int describe_offsets(Ctx& c, const client::GroupDescription& d) {
  auto committed = await<std::vector<client::CommittedOffset>>(
      c.rt, [&](auto cb) { c.admin.list_group_offsets(d.group_id, std::nullopt, cb); },
      c.timeout_ms);
  if (!committed) return fail(committed.status());
  std::map<TopicPartition, std::optional<int64_t>> current;
  std::map<TopicPartition, const client::GroupMemberDescription*> owner;
  for (const auto& o : *committed) {
    if (o.error_code == 0 && o.offset >= 0) current[o.tp] = o.offset;
  }
  for (const auto& m : d.members) {
    for (const auto& tp : m.assignment) {
      owner[tp] = &m;
      current.emplace(tp, std::nullopt);
    }
  }
  std::vector<TopicPartition> tps;
  for (const auto& [tp, off] : current) tps.push_back(tp);
  auto ends = log_offsets(c, tps, true);
  if (!ends) return fail(ends.status());
  Table rows;
  for (const auto& [tp, off] : current) {
    std::optional<int64_t> end;
    if (auto it = ends->find(tp); it != ends->end()) end = it->second;
    std::optional<int64_t> lag;
    if (off && end) lag = std::max<int64_t>(0, *end - *off);
    const auto* m = owner.count(tp) ? owner[tp] : nullptr;
    rows.push_back({d.group_id, tp.topic, std::to_string(tp.partition.value()), dash(off),
                    dash(end), dash(lag), m ? m->member_id : "-", m ? m->client_host : "-",
                    m ? m->client_id : "-"});
  }
  if (d.members.empty()) {
    std::cerr << "Consumer group '" << d.group_id << "' has no active members.\n";
  }
  print_rows(c,
             {"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
              "CONSUMER-ID", "HOST", "CLIENT-ID"},
             {"group", "topic", "partition", "current_offset", "log_end_offset", "lag",
              "consumer_id", "host", "client_id"},
             rows, {"partition", "current_offset", "log_end_offset", "lag"});
  return 0;
}

int do_describe(Ctx& c) {
  auto group = one_group(c);
  if (!group) return print_error(kCmd, group.status().message()), 2;
  auto d = describe(c, *group);
  if (!d) return fail(d.status());
  if (d->state == "Dead")
    return fail(client::kafka_error(proto::to_int(proto::ErrorCode::kGroupIdNotFound),
                                    "group '" + *group + "' does not exist"));
  if (c.args.has("state")) return describe_state(c, *d);
  if (c.args.has("members")) return describe_members(c, *d);
  return describe_offsets(c, *d);
}

int do_delete(Ctx& c) {
  const auto& groups = c.args.all("group");
  if (groups.empty()) return print_error(kCmd, "give --group"), 2;
  auto r = await<std::vector<client::TopicResult>>(
      c.rt, [&](auto cb) { c.admin.delete_groups(groups, cb); }, c.timeout_ms);
  if (!r) return fail(r.status());
  int rc = 0;
  for (const auto& g : *r) {
    Status s = g.status();
    if (c.common.format == OutputFormat::kJson) {
      std::cout << "{\"group\":" << json_string(g.name) << ",\"ok\":" << (s ? "true" : "false")
                << (s ? "" : ",\"error\":" + json_string(s.message())) << "}\n";
    }
    if (!s) {
      rc = 1;
      if (c.common.format != OutputFormat::kJson) print_error(kCmd, s.message());
    } else if (c.common.format != OutputFormat::kJson) {
      std::cout << "Deletion of requested consumer groups ('" << g.name << "') was successful.\n";
    }
  }
  return rc;
}

// --topic T or T:P,P,...; --all-topics: every partition the group has committed.
Result<std::vector<TopicPartition>> reset_partitions(const Ctx& c, const std::string& group) {
  std::set<TopicPartition> out;
  if (c.args.has("all-topics")) {
    auto committed = await<std::vector<client::CommittedOffset>>(
        c.rt, [&](auto cb) { c.admin.list_group_offsets(group, std::nullopt, cb); }, c.timeout_ms);
    if (!committed) return committed.status();
    for (const auto& o : *committed) out.insert(o.tp);
  }
  std::vector<std::string> whole;
  for (const auto& spec : c.args.all("topic")) {
    size_t colon = spec.find(':');
    std::string topic = spec.substr(0, colon);
    if (topic.empty()) return Status::invalid_argument("--topic '" + spec + "' names no topic");
    if (colon == std::string::npos) {
      whole.push_back(topic);
      continue;
    }
    std::string list = spec.substr(colon + 1);
    for (size_t pos = 0; pos <= list.size();) {
      size_t comma = std::min(list.find(',', pos), list.size());
      std::string p = list.substr(pos, comma - pos);
      char* end = nullptr;
      long v = std::strtol(p.c_str(), &end, 10);
      if (p.empty() || *end != '\0' || v < 0 || v > INT32_MAX) {
        return Status::invalid_argument("--topic '" + spec + "': bad partition '" + p + "'");
      }
      out.insert({topic, PartitionId(int32_t(v))});
      pos = comma + 1;
    }
  }
  if (!whole.empty()) {
    auto md = await<client::ClusterDescription>(
        c.rt, [&](auto cb) { c.admin.describe_topics(whole, cb); }, c.timeout_ms);
    if (!md) return md.status();
    for (const auto& t : md->topics) {
      if (t.error_code != 0) return client::kafka_error(t.error_code, "topic '" + t.name + "'");
      for (const auto& p : t.partitions) out.insert({t.name, p.id});
    }
  }
  if (out.empty()) return Status::invalid_argument("give --topic T[:P,...] or --all-topics");
  return std::vector<TopicPartition>(out.begin(), out.end());
}

struct ResetRule {
  enum Kind { kEarliest, kLatest, kOffset, kShift } kind = kEarliest;
  int64_t n = 0;
};

Result<ResetRule> reset_rule(const Args& a) {
  int given = int(a.has("to-earliest")) + int(a.has("to-latest")) + int(a.has("to-offset")) +
              int(a.has("shift-by"));
  if (given != 1) {
    return Status::invalid_argument(
        "give exactly one of --to-earliest, --to-latest, --to-offset N, --shift-by N");
  }
  ResetRule r;
  if (a.has("to-latest")) r.kind = ResetRule::kLatest;
  if (a.has("to-offset")) {
    r.kind = ResetRule::kOffset;
    STRATA_ASSIGN_OR_RETURN(r.n, a.get_int("to-offset", 0));
    if (r.n < 0) return Status::invalid_argument("--to-offset must not be negative");
  }
  if (a.has("shift-by")) {
    r.kind = ResetRule::kShift;
    STRATA_ASSIGN_OR_RETURN(r.n, a.get_int("shift-by", 0));
  }
  return r;
}

// New offset per partition, kept within [log start, log end] as Kafka's tool does. Shifting a
// partition without a committed offset starts from the log start.
std::map<TopicPartition, int64_t> plan_reset(const ResetRule& rule,
                                             const std::vector<TopicPartition>& tps,
                                             const std::map<TopicPartition, int64_t>& start,
                                             const std::map<TopicPartition, int64_t>& end,
                                             const std::map<TopicPartition, int64_t>& current) {
  std::map<TopicPartition, int64_t> out;
  for (const auto& tp : tps) {
    int64_t lo = start.count(tp) ? start.at(tp) : 0;
    int64_t hi = end.count(tp) ? end.at(tp) : lo;
    int64_t v = lo;
    switch (rule.kind) {
      case ResetRule::kEarliest:
        v = lo;
        break;
      case ResetRule::kLatest:
        v = hi;
        break;
      case ResetRule::kOffset:
        v = rule.n;
        break;
      case ResetRule::kShift:
        v = (current.count(tp) ? current.at(tp) : lo) + rule.n;
        break;
    }
    out[tp] = std::clamp(v, lo, std::max(lo, hi));
  }
  return out;
}

int do_reset(Ctx& c) {
  auto group = one_group(c);
  if (!group) return print_error(kCmd, group.status().message()), 2;
  auto rule = reset_rule(c.args);
  if (!rule) return print_error(kCmd, rule.status().message()), 2;
  auto d = describe(c, *group);
  if (!d) return fail(d.status());
  if (d->state != "Empty" && d->state != "Dead") {
    return fail(Status::invalid_argument("Assignments can only be reset if the group '" + *group +
                                         "' is inactive, but the current state is " + d->state +
                                         "."));
  }
  auto tps = reset_partitions(c, *group);
  if (!tps) return fail(tps.status());
  auto start = log_offsets(c, *tps, false);
  if (!start) return fail(start.status());
  auto end = log_offsets(c, *tps, true);
  if (!end) return fail(end.status());
  auto committed = await<std::vector<client::CommittedOffset>>(
      c.rt, [&](auto cb) { c.admin.list_group_offsets(*group, *tps, cb); }, c.timeout_ms);
  if (!committed) return fail(committed.status());
  std::map<TopicPartition, int64_t> current;
  for (const auto& o : *committed) {
    if (o.error_code == 0 && o.offset >= 0) current[o.tp] = o.offset;
  }
  auto plan = plan_reset(*rule, *tps, *start, *end, current);
  int rc = 0;
  if (c.args.has("execute")) {
    std::vector<std::pair<TopicPartition, int64_t>> offsets(plan.begin(), plan.end());
    auto r = await<std::vector<client::CommittedOffset>>(
        c.rt, [&](auto cb) { c.admin.alter_group_offsets(*group, offsets, cb); }, c.timeout_ms);
    if (!r) return fail(r.status());
    for (const auto& o : *r) {
      if (o.error_code == 0) continue;
      rc = 1;
      print_error(kCmd, client::kafka_error_text(o.error_code, o.tp.to_string()));
    }
  } else if (c.common.format != OutputFormat::kJson) {
    std::cerr << "Dry run: nothing changed; add --execute to apply.\n";
  }
  Table rows;
  for (const auto& [tp, v] : plan) {
    rows.push_back({*group, tp.topic, std::to_string(tp.partition.value()), std::to_string(v)});
  }
  print_rows(c, {"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"},
             {"group", "topic", "partition", "new_offset"}, rows, {"partition", "new_offset"});
  return rc;
}

}  // namespace

int cmd_groups(const Argv& argv) {
  Args args;
  std::vector<OptionSpec> specs = {{"group"},
                                   {"members", false},
                                   {"state", false},
                                   {"topic"},
                                   {"all-topics", false},
                                   {"to-earliest", false},
                                   {"to-latest", false},
                                   {"to-offset"},
                                   {"shift-by"},
                                   {"execute", false},
                                   {"dry-run", false}};
  if (auto rc = parse_or_usage(kCmd, argv, specs, kGroupsUsage, args)) return *rc;
  auto common = parse_common(args);
  const auto& pos = args.positional();
  if (!common || pos.size() != 1) {
    print_error(kCmd, !common ? common.status().message() : "expected one command");
    std::cerr << kGroupsUsage;
    return 2;
  }
  const std::string& verb = pos[0];
  if (verb != "list" && verb != "describe" && verb != "delete" && verb != "reset-offsets") {
    print_error(kCmd, "unknown command '" + verb + "'");
    std::cerr << kGroupsUsage;
    return 2;
  }
  auto rt = make_runtime();
  if (!rt) return fail(rt.status());
  client::Admin admin(**rt, common->client);
  int64_t timeout = common->timeout_ms.value_or(kDefaultTimeoutMs);
  Ctx c{**rt, admin, args, *common, timeout};
  int rc = verb == "list"       ? do_list(c)
           : verb == "describe" ? do_describe(c)
           : verb == "delete"   ? do_delete(c)
                                : do_reset(c);
  close_client(**rt, admin.network());
  return rc;
}

}  // namespace strata::cli
