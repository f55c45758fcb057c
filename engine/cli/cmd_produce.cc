// `strata produce TOPIC`: kafka-console-producer on our own Producer. One record from
// --value, or one per stdin line; a summary goes to stderr and the exit code is 1 if any
// record failed.
#include <iostream>
#include <string>

#include "engine/cli/client_cli.h"
#include "engine/cli/commands.h"
#include "engine/client/producer.h"

namespace strata::cli {
namespace {

constexpr const char* kProduceUsage =
    "usage: strata produce TOPIC [options]\n"
    "  --key K --value V          send one record (without --value: one record per stdin\n"
    "                             line)\n"
    "  --key-separator SEP        stdin lines are KEY<SEP>VALUE\n"
    "  --header k=v               add a record header (repeatable)\n"
    "  --partition P              send to partition P (default: by key, sticky for no key)\n"
    "  --acks all|1|0             (default all)\n"
    "  --compression C            none|gzip|snappy|lz4|zstd (default none)\n"
    "  --linger-ms N              (default 5)\n"
    "  --batch-size BYTES         (default 16384)\n"
    "  --idempotence              enable.idempotence: retries never duplicate (acks all)\n"
    "common options:\n"
    "  -b, --bootstrap-server HOST:PORT  (default 127.0.0.1:9092)\n"
    "  --format text|json                json: print one line per acknowledged record\n"
    "  --timeout-ms N                    delivery timeout (default 120000)\n";

constexpr const char* kCmd = "produce";
constexpr int kErrorsPrintedMax = 10;

struct Template {
  std::string topic;
  std::optional<PartitionId> partition;
  std::vector<RecordHeader> headers;
  std::optional<std::string> separator;
};

Result<client::ProducerConfig> producer_config(const Args& a, const CommonOptions& common) {
  client::ProducerConfig c;
  std::string acks = a.get_or("acks", "all");
  if (acks == "all" || acks == "-1") {
    c.acks = -1;
  } else if (acks == "1" || acks == "0") {
    c.acks = int16_t(acks[0] - '0');
  } else {
    return Status::invalid_argument("--acks must be all, 1 or 0");
  }
  STRATA_ASSIGN_OR_RETURN(c.compression, client::parse_compression(a.get_or("compression",
                                                                           "none")));
  STRATA_ASSIGN_OR_RETURN(c.linger_ms, a.get_int("linger-ms", 5));
  STRATA_ASSIGN_OR_RETURN(int64_t batch, a.get_int("batch-size", 16384));
  c.batch_size = int32_t(batch);
  c.enable_idempotence = a.has("idempotence");
  if (c.enable_idempotence && c.acks != -1) {
    return Status::invalid_argument("--idempotence needs --acks all");
  }
  if (common.timeout_ms) {
    c.delivery_timeout_ms = *common.timeout_ms;
    c.request_timeout_ms = std::min<int64_t>(c.request_timeout_ms, *common.timeout_ms);
    c.linger_ms = std::min(c.linger_ms, *common.timeout_ms - c.request_timeout_ms);
    if (c.linger_ms < 0) c.linger_ms = 0;
  }
  STRATA_RETURN_IF_ERROR(client::validate(c));
  return c;
}

Result<Template> record_template(const Args& a) {
  Template t;
  t.topic = a.positional().empty() ? a.get_or("topic", "") : a.positional()[0];
  if (t.topic.empty() || a.positional().size() > 1) {
    return Status::invalid_argument("expected exactly one TOPIC");
  }
  if (a.has("partition")) {
    STRATA_ASSIGN_OR_RETURN(int64_t p, a.get_int("partition", 0));
    if (p < 0 || p > INT32_MAX) return Status::invalid_argument("--partition out of range");
    t.partition = PartitionId(int32_t(p));
  }
  for (const auto& kv : a.all("header")) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) return Status::invalid_argument("--header expects k=v");
    t.headers.push_back({kv.substr(0, eq), Bytes(kv.begin() + long(eq) + 1, kv.end())});
  }
  t.separator = a.get("key-separator");
  if (t.separator && t.separator->empty()) {
    return Status::invalid_argument("--key-separator must not be empty");
  }
  if (a.has("key") && !a.has("value") && !t.separator) {
    return Status::invalid_argument("--key needs --value (or --key-separator for stdin)");
  }
  return t;
}

Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

class Session {
 public:
  Session(PosixRuntime& rt, client::Producer& p, OutputFormat f) : rt_(rt), p_(p), format_(f) {}

  // Sends one record, running the loop while the producer's buffer is full.
  void send(client::ProducerRecord r) {
    ++attempted_;
    while (true) {
      Status s = p_.send(r, [this](const Result<client::RecordMetadata>& md) { on_done(md); });
      if (s) return;
      if (s.code() != StatusCode::kResourceExhausted || rt_.stop_requested()) {
        return record_error(s.message());
      }
      rt_.run_once(milliseconds(10));
    }
  }
  void record_error(const std::string& message) {
    ++errors_;
    ++completed_;
    if (errors_ <= kErrorsPrintedMax) print_error(kCmd, message);
  }
  // Runs the loop until every record sent so far has completed.
  void drain(std::optional<int64_t> timeout_ms) {
    run_until(rt_, [&] { return completed_ == attempted_; }, timeout_ms);
  }
  uint64_t attempted() const { return attempted_; }
  uint64_t errors() const { return errors_ + (attempted_ - completed_); }

 private:
  void on_done(const Result<client::RecordMetadata>& md) {
    if (!md) return record_error(md.status().message());
    ++completed_;
    if (format_ == OutputFormat::kJson) {
      std::cout << "{\"topic\":" << json_string(md->topic)
                << ",\"partition\":" << md->partition.value()
                << ",\"offset\":" << md->offset.value() << ",\"timestamp\":" << md->timestamp_ms
                << "}\n";
    }
  }

  PosixRuntime& rt_;
  client::Producer& p_;
  OutputFormat format_;
  uint64_t attempted_ = 0;
  uint64_t completed_ = 0;
  uint64_t errors_ = 0;
};

void produce_stdin(PosixRuntime& rt, Session& session, const Template& t) {
  std::string line;
  while (!rt.stop_requested() && std::getline(std::cin, line)) {
    client::ProducerRecord r{t.topic, t.partition, std::nullopt, std::nullopt, t.headers, {}};
    if (t.separator) {
      size_t at = line.find(*t.separator);
      if (at == std::string::npos) {
        session.record_error("No key separator found on line: " + line);
        continue;
      }
      r.key = to_bytes(std::string_view(line).substr(0, at));
      r.value = to_bytes(std::string_view(line).substr(at + t.separator->size()));
    } else {
      r.value = to_bytes(line);
    }
    session.send(std::move(r));
    rt.run_once(Duration(0));
    // Nothing more buffered on stdin means the next read may block (a person typing):
    // deliver what we have first.
    if (std::cin.rdbuf()->in_avail() <= 0) session.drain(std::nullopt);
  }
}

}  // namespace

int cmd_produce(const Argv& argv) {
  Args args;
  std::vector<OptionSpec> specs = {{"key"},        {"value"},       {"key-separator"},
                                   {"header"},     {"partition"},   {"acks"},
                                   {"compression"}, {"linger-ms"},  {"batch-size"},
                                   {"topic"},      {"idempotence", false}};
  if (auto rc = parse_or_usage(kCmd, argv, specs, kProduceUsage, args)) return *rc;
  auto common = parse_common(args);
  if (!common) return print_error(kCmd, common.status().message()), 2;
  auto config = producer_config(args, *common);
  if (!config) return print_error(kCmd, config.status().message()), 2;
  auto tmpl = record_template(args);
  if (!tmpl) return print_error(kCmd, tmpl.status().message()), 2;
  auto rt = make_runtime();
  if (!rt) return print_error(kCmd, rt.status().message()), 1;

  // Buffered stdin, so that in_avail() can tell piped input from a person typing.
  std::ios::sync_with_stdio(false);
  client::Producer producer(**rt, common->client, *config);
  Session session(**rt, producer, common->format);
  if (auto value = args.get("value")) {
    client::ProducerRecord r{tmpl->topic, tmpl->partition, std::nullopt, to_bytes(*value),
                             tmpl->headers, {}};
    if (auto key = args.get("key")) r.key = to_bytes(*key);
    session.send(std::move(r));
  } else {
    produce_stdin(**rt, session, *tmpl);
  }
  // The producer's delivery timeout bounds the wait; the extra second covers its last tick.
  session.drain(config->delivery_timeout_ms + 1000);
  close_client(**rt, producer.network());
  std::cout.flush();
  std::cerr << "strata produce: " << session.attempted() - session.errors() << " records sent, "
            << session.errors() << " errors\n";
  return session.errors() == 0 ? 0 : 1;
}

}  // namespace strata::cli
