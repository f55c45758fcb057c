// `strata consume TOPIC`: kafka-console-consumer on our own Consumer (assign-based), or with
// --group on the GroupConsumer (subscribe mode: partitions from the group, positions from its
// committed offsets, commits on exit).
#include <iostream>
#include <string>

#include "engine/cli/client_cli.h"
#include "engine/cli/commands.h"
#include "engine/client/client_errors.h"
#include "engine/client/consumer.h"
#include "engine/client/group_consumer.h"

namespace strata::cli {
namespace {

constexpr const char* kConsumeUsage =
    "usage: strata consume TOPIC [options]\n"
    "  --partition P              read only partition P (default: every partition)\n"
    "  --offset N|earliest|latest start there (default: latest)\n"
    "  --from-beginning           start at the earliest offset\n"
    "  --count N                  stop after N records (alias --max-messages)\n"
    "  --timeout-ms N             stop after N ms without a record (default: run until\n"
    "                             --count or Ctrl-C)\n"
    "  --format text|json         text: values one per line; json: one object per record\n"
    "  --print-key                text: print key<TAB>value\n"
    "  --print-headers            text: print headers (k:v,...) first\n"
    "  --isolation-level L        read_uncommitted|read_committed\n"
    "  --group G                  join consumer group G: the group assigns partitions, reading\n"
    "                             resumes at its committed offsets (else --from-beginning or\n"
    "                             latest) and offsets are committed as read and on exit;\n"
    "                             not with --partition or --offset\n"
    "  --group-instance-id ID     static membership (with --group)\n"
    "  --assignment-strategy S    range|roundrobin|cooperative-sticky, comma-separated in order\n"
    "                             of preference (default range,cooperative-sticky)\n"
    "  -b, --bootstrap-server HOST:PORT  (default 127.0.0.1:9092)\n";

constexpr const char* kCmd = "consume";
constexpr int64_t kMetadataTimeoutMs = 30000;

struct Options {
  std::string topic;
  std::optional<PartitionId> partition;
  std::optional<std::string> offset;  // number, earliest or latest
  std::optional<int64_t> count;
  std::optional<std::string> group;
  bool print_key = false;
  bool print_headers = false;
  OutputFormat format = OutputFormat::kText;
};

Result<Options> parse_options(const Args& a, const CommonOptions& common) {
  Options o;
  o.topic = a.positional().empty() ? a.get_or("topic", "") : a.positional()[0];
  if (o.topic.empty() || a.positional().size() > 1) {
    return Status::invalid_argument("expected exactly one TOPIC");
  }
  if (a.has("partition")) {
    STRATA_ASSIGN_OR_RETURN(int64_t p, a.get_int("partition", 0));
    if (p < 0 || p > INT32_MAX) return Status::invalid_argument("--partition out of range");
    o.partition = PartitionId(int32_t(p));
  }
  if (a.has("from-beginning") && a.has("offset")) {
    return Status::invalid_argument("give --offset or --from-beginning, not both");
  }
  o.offset = a.has("from-beginning") ? std::optional<std::string>("earliest") : a.get("offset");
  if (o.offset && *o.offset != "earliest" && *o.offset != "latest") {
    STRATA_ASSIGN_OR_RETURN(int64_t n, a.get_int("offset", 0));
    if (n < 0) return Status::invalid_argument("--offset must not be negative");
  }
  std::string count_key = a.has("count") ? "count" : "max-messages";
  if (a.has(count_key)) {
    STRATA_ASSIGN_OR_RETURN(int64_t n, a.get_int(count_key, 0));
    if (n <= 0) return Status::invalid_argument("--count must be positive");
    o.count = n;
  }
  o.group = a.get("group");
  if (o.group && (o.partition || a.has("offset"))) {
    return Status::invalid_argument("--partition and --offset cannot be used with --group");
  }
  if (!o.group && (a.has("group-instance-id") || a.has("assignment-strategy"))) {
    return Status::invalid_argument("--group-instance-id and --assignment-strategy need --group");
  }
  o.print_key = a.has("print-key");
  o.print_headers = a.has("print-headers");
  o.format = common.format;
  return o;
}

std::string text_line(const client::ConsumerRecord& r, const Options& o) {
  std::string line;
  if (o.print_headers) {
    if (r.headers.empty()) line += "NO_HEADERS";
    for (size_t i = 0; i < r.headers.size(); ++i) {
      line += (i ? "," : "") + r.headers[i].key + ":" +
              (r.headers[i].value ? to_string(r.headers[i].value) : "null");
    }
    line += "\t";
  }
  if (o.print_key) line += (r.key ? to_string(r.key) : "null") + "\t";
  line += r.value ? to_string(r.value) : "null";
  return line;
}

std::string json_line(const client::ConsumerRecord& r) {
  std::string out = "{\"topic\":" + json_string(r.topic) +
                    ",\"partition\":" + std::to_string(r.partition.value()) +
                    ",\"offset\":" + std::to_string(r.offset.value()) +
                    ",\"timestamp\":" + std::to_string(r.timestamp_ms) +
                    ",\"key\":" + json_bytes(r.key) + ",\"value\":" + json_bytes(r.value) +
                    ",\"headers\":[";
  for (size_t i = 0; i < r.headers.size(); ++i) {
    out += std::string(i ? "," : "") + "{\"key\":" + json_string(r.headers[i].key) +
           ",\"value\":" + json_bytes(r.headers[i].value) + "}";
  }
  return out + "]}";
}

// Waits for the topic's partitions; fails on a topic error other than a transient one.
Result<std::vector<client::TopicPartition>> partitions_of(PosixRuntime& rt,
                                                          client::Consumer& consumer,
                                                          const Options& o) {
  auto& net = consumer.network();
  net.add_topic(o.topic);
  net.request_metadata_update();
  const client::TopicMetadata* t = nullptr;
  auto known = [&] {
    t = net.metadata().topic(o.topic);
    if (t == nullptr) return false;
    if (t->error_code == 0) return !t->partitions.empty();
    if (!client::NetworkClient::is_metadata_error(t->error_code) ||
        t->error_code == proto::to_int(proto::ErrorCode::kUnknownTopicOrPartition)) {
      return true;
    }
    net.request_metadata_update();
    return false;
  };
  if (!rt.run_until(known, milliseconds(kMetadataTimeoutMs))) {
    return Status::timed_out("no metadata for topic " + o.topic);
  }
  if (t->error_code != 0) return client::kafka_error(t->error_code, "topic '" + o.topic + "'");
  std::vector<client::TopicPartition> out;
  for (const auto& p : t->partitions) {
    if (!o.partition || *o.partition == p.id) out.push_back({o.topic, p.id});
  }
  if (out.empty()) {
    return Status::invalid_argument("topic " + o.topic + " has no partition " +
                                    std::to_string(o.partition->value()));
  }
  return out;
}

void position(client::Consumer& c, const std::vector<client::TopicPartition>& tps,
              const Options& o) {
  if (!o.offset) return;  // auto.offset.reset = latest decides
  if (*o.offset == "earliest") return c.seek_to_beginning(tps);
  if (*o.offset == "latest") return c.seek_to_end(tps);
  for (const auto& tp : tps) c.seek(tp, Offset(std::stoll(*o.offset)));
}

// Runs until done(), or with --timeout-ms until no record arrived for that long.
void run_consume_loop(PosixRuntime& rt, const std::function<bool()>& done,
                      const CommonOptions& common, const MonoTime& last_activity) {
  if (!common.timeout_ms) return (void)run_until(rt, done, std::nullopt);
  while (!done()) {
    Duration left = last_activity + milliseconds(*common.timeout_ms) - rt.now();
    if (left <= Duration(0)) break;
    rt.run_until(done, left);
    std::cout.flush();
  }
}

void print_record(const client::ConsumerRecord& r, const Options& o) {
  std::cout << (o.format == OutputFormat::kJson ? json_line(r) : text_line(r, o)) << "\n";
}

// Subscribe mode: records come from poll() (so that max.poll.interval.ms holds), never more
// than --count, so nothing is committed that was not printed.
int consume_group(PosixRuntime& rt, const Args& args, const CommonOptions& common,
                  const Options& o, client::ConsumerConfig config) {
  client::GroupConsumerConfig gc;
  gc.group_id = *o.group;
  gc.group_instance_id = args.get("group-instance-id");
  gc.assignment_strategy = args.get_or("assignment-strategy", gc.assignment_strategy);
  gc.consumer = config;
  if (o.offset == "earliest") gc.consumer.auto_offset_reset = client::OffsetReset::kEarliest;
  if (Status s = client::validate(gc); !s) return print_error(kCmd, s.message()), 2;
  client::GroupConsumer consumer(rt, common.client, gc);
  int errors = 0;
  consumer.set_error_callback([&](const Status& s) {
    print_error(kCmd, s.message());
    if (consumer.state() == client::MemberState::kFailed) ++errors;
  });
  if (Status s = consumer.subscribe({o.topic}); !s) return print_error(kCmd, s.message()), 2;
  int64_t printed = 0;
  MonoTime last_activity = rt.now();
  auto done = [&] {
    // The idle timeout counts from the moment the group gave us partitions.
    if (consumer.state() != client::MemberState::kStable) last_activity = rt.now();
    size_t room = o.count ? size_t(*o.count - printed) : 500;
    for (auto& r : consumer.poll(std::min<size_t>(room, 500))) {
      print_record(r, o);
      ++printed;
      last_activity = rt.now();
    }
    return (o.count && printed >= *o.count) || errors > 0 || rt.stop_requested();
  };
  run_consume_loop(rt, done, common, last_activity);
  std::cout.flush();
  bool closed = false;
  consumer.close([&] { closed = true; });  // commits what was printed, leaves the group
  rt.run_until([&] { return closed; }, milliseconds(gc.consumer.request_timeout_ms));
  close_client(rt, consumer.network());
  std::cerr << "Processed a total of " << printed << " messages\n";
  return errors == 0 ? 0 : 1;
}

}  // namespace

int cmd_consume(const Argv& argv) {
  Args args;
  std::vector<OptionSpec> specs = {
      {"partition"},         {"offset"},          {"from-beginning", false},
      {"count"},             {"max-messages"},    {"print-key", false},
      {"print-headers", false}, {"isolation-level"}, {"topic"},
      {"group"},             {"group-instance-id"}, {"assignment-strategy"}};
  if (auto rc = parse_or_usage(kCmd, argv, specs, kConsumeUsage, args)) return *rc;
  auto common = parse_common(args);
  if (!common) return print_error(kCmd, common.status().message()), 2;
  auto o = parse_options(args, *common);
  if (!o) return print_error(kCmd, o.status().message()), 2;
  client::ConsumerConfig config;
  std::string iso = args.get_or("isolation-level", "read_uncommitted");
  if (iso != "read_uncommitted" && iso != "read_committed") {
    return print_error(kCmd, "--isolation-level must be read_uncommitted or read_committed"), 2;
  }
  config.isolation_level = iso == "read_committed" ? 1 : 0;
  auto rt_or = make_runtime();
  if (!rt_or) return print_error(kCmd, rt_or.status().message()), 1;
  PosixRuntime& rt = **rt_or;
  common->client.allow_auto_topic_creation = false;
  if (o->group) return consume_group(rt, args, *common, *o, config);

  client::Consumer consumer(rt, common->client, config);
  auto tps = partitions_of(rt, consumer, *o);
  if (!tps) {
    close_client(rt, consumer.network());
    return print_error(kCmd, tps.status().message()), 1;
  }
  int64_t printed = 0;
  int errors = 0;
  MonoTime last_activity = rt.now();
  consumer.set_record_callback([&](const client::ConsumerRecord& r) {
    if (o->count && printed >= *o->count) return;
    print_record(r, *o);
    ++printed;
    last_activity = rt.now();
  });
  consumer.set_error_callback([&](const client::TopicPartition&, const Status& s) {
    ++errors;
    print_error(kCmd, s.message());
  });
  consumer.assign(*tps);
  position(consumer, *tps, *o);
  auto done = [&] {
    return (o->count && printed >= *o->count) || errors > 0 || rt.stop_requested();
  };
  run_consume_loop(rt, done, *common, last_activity);
  close_client(rt, consumer.network());
  std::cout.flush();
  std::cerr << "Processed a total of " << printed << " messages\n";
  return errors == 0 ? 0 : 1;
}

}  // namespace strata::cli
