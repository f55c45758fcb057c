// libFuzzer target: the broker's request handlers end to end. A real broker::Broker runs on
// the deterministic simulator (virtual time, simulated network, in-memory disk), and the
// input is a script of request frames that three client connections send it, with pauses and
// reconnects in between (format: fuzz_broker_input.h). Every input gets a new world, so a
// finding reproduces from its input alone.
//
// Decoders are fuzz_request's job. Here most frames decode, and what is fuzzed is what the
// handlers, topic manager, partition logs, producer state and group coordinator do with
// hostile values — odd partition indexes, negative or huge sizes, offsets out of range,
// producer ids and sequences, generations, names, configs — and with interleavings across
// APIs and connections.
//
// A finding is a crash, an assertion (STRATA_ASSERT aborts), a sanitizer report, or one of
// these checks failing:
//  - every response arrives in request order and decodes as its request's response;
//  - the simulator's cluster invariants hold after every event (sim/invariants.h);
//  - after the script and a pause that ends every parked Fetch, a new connection gets its
//    ApiVersions and Metadata answered;
//  - every record a Produce with acks=1/-1 acknowledged (error 0 and a base offset) is read
//    back by a Fetch at that offset, and again after a clean restart of the broker. Exempt
//    are topics named in a DeleteTopics request, and records below the log start offset
//    when retention or a DeleteRecords or AlterConfigs request may have moved it there:
//    losing records is what those are for.
// STRATA_FUZZ_LOG=debug|info|warn|error in the environment prints the broker's log.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/crc32c.h"
#include "engine/base/limits.h"
#include "engine/broker/broker.h"
#include "engine/protocol/api_keys.h"
#include "engine/protocol/framing.h"
#include "engine/protocol/messages.h"
#include "engine/protocol/record_batch.h"
#include "sim/invariants.h"
#include "sim/sim_network.h"
#include "tests/fuzz/fuzz_broker_input.h"

using namespace strata;
using namespace strata::sim;
namespace fb = strata::fuzz_broker;

namespace {

constexpr uint64_t kWorldSeed = 0x5eed;
const Endpoint kBrokerAt{"broker-0", 9092};
// Virtual time the script's pauses may add up to; later pauses are skipped, which bounds
// what one input costs.
constexpr Duration kScriptTimeMax = std::chrono::hours(1);
// How long a step waits for its answer; a round trip takes well under a millisecond.
constexpr Duration kStepWait = std::chrono::milliseconds(2);
// How long connecting and each check may take.
constexpr Duration kPatience = std::chrono::seconds(1);
// Longer than any Fetch may stay parked.
constexpr Duration kSettle = std::chrono::milliseconds(limits::kFetchMaxWaitMsMax + 1000);
// Acknowledged produces read back per check.
constexpr size_t kAckedChecksMax = 32;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz_broker: %s\n", what.c_str());
  std::abort();
}

// Whether `body` decodes as the response to (key, version), with nothing left over.
bool decodes_as_response(int16_t key, int16_t version, ByteSpan body) {
  ByteReader r(body);
#define STRATA_FUZZ_TRY_RESPONSE(Msg)                    \
  if constexpr (!proto::Msg::kIsRequest) {               \
    if (key == proto::Msg::kApiKey) {                    \
      proto::Msg m;                                      \
      return m.decode(r, version).is_ok() && r.at_end(); \
    }                                                    \
  }
  STRATA_PROTO_FOR_EACH_MESSAGE(STRATA_FUZZ_TRY_RESPONSE)
#undef STRATA_FUZZ_TRY_RESPONSE
  return false;
}

// Rewrites the CRC of every whole record batch in `records` to match its contents.
void fix_crcs(std::span<uint8_t> records) {
  namespace bf = batch_format;
  size_t pos = 0;
  while (records.size() - pos >= bf::kHeaderSize) {
    uint64_t whole = uint64_t(load_be32(&records[pos + bf::kBatchLengthAt])) + bf::kLogOverhead;
    if (whole < bf::kHeaderSize || whole > records.size() - pos) return;
    uint32_t crc = crc32c::value(
        ByteSpan(&records[pos + bf::kAttributesAt], size_t(whole) - bf::kAttributesAt));
    store_be32(&records[pos + bf::kCrcAt], crc);
    pos += size_t(whole);
  }
}

// The control byte's CRC flag: fixes the batches of a Produce frame in place.
void fix_produce_crcs(Bytes& frame) {
  proto::ParsedRequest req;
  if (!proto::parse_request_frame(frame, req) ||
      req.header.api_key != proto::ProduceRequest::kApiKey) {
    return;
  }
  proto::ProduceRequest produce;
  ByteReader body = req.body_reader();
  if (!produce.decode(body, req.header.api_version)) return;
  for (const auto& topic : produce.topic_data) {
    for (const auto& partition : topic.partition_data) {
      if (!partition.records) continue;
      size_t at = size_t(partition.records->data() - frame.data());
      fix_crcs(std::span<uint8_t>(frame.data() + at, partition.records->size()));
    }
  }
}

struct AckedRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// Member ids remembered for the script's placeholders (fuzz_broker_input.h).
constexpr size_t kMemberIdsKept = 16;
// Partitions the script may ask to create in all. An empty partition costs the simulated disk
// some 300 KiB and the broker milliseconds under ASan, so the protocol's own limits (10000 a
// topic) would make inputs of gigabytes and seconds that find nothing the small ones do not.
// Requests over the budget are not sent; counts the broker refuses anyway are.
constexpr int64_t kPartitionBudget = 200;

// Requests that may delete records below a partition's log start offset, by their Kafka API
// keys: DeleteRecords, and AlterConfigs and IncrementalAlterConfigs, which may set retention.
constexpr int16_t kDeleteRecordsKey = 21;
constexpr int16_t kAlterConfigsKey = 33;
constexpr int16_t kIncrementalAlterConfigsKey = 44;

// What the script did that the final checks and the placeholders need to know.
struct Ledger {
  std::vector<AckedRecord> acked;
  std::set<std::string> deleted_topics;  // named in a DeleteTopics request
  bool log_start_may_move = false;       // a request above was sent
  std::deque<std::string> member_uuids;  // newest first, each once
  int64_t partitions_requested = 0;      // by CreateTopics and CreatePartitions

  // Whether a request that may create partitions of these counts stays within
  // kPartitionBudget (and if so, charges it). Counts the broker refuses outright (<= 0, over
  // the protocol's limit) cost nothing.
  bool within_budget(const std::vector<int64_t>& counts) {
    int64_t n = 0;
    for (int64_t c : counts) n += c > 0 && c <= limits::kPartitionsPerTopicMax ? c : 0;
    if (partitions_requested + n > kPartitionBudget) return false;
    partitions_requested += n;
    return true;
  }

  void note_member_id(const std::string& id) {
    if (id.size() < fb::kMemberUuidBytes) return;
    std::string uuid = id.substr(id.size() - fb::kMemberUuidBytes);
    for (const auto& known : member_uuids) {
      if (known == uuid) return;
    }
    member_uuids.push_front(std::move(uuid));
    if (member_uuids.size() > kMemberIdsKept) member_uuids.pop_back();
  }

  // Replaces every member uuid placeholder in `frame` that names a known id.
  void fill_member_uuids(Bytes& frame) const {
    const auto& p = fb::kMemberUuidPlaceholder;
    for (size_t at = 0; frame.size() - at >= fb::kMemberUuidBytes; ++at) {
      if (frame[at] != uint8_t(p[0]) || as_chars(ByteSpan(frame).subspan(at, p.size())) != p) {
        continue;
      }
      uint8_t digit = frame[at + p.size()];
      if (digit < '0' || digit > '9' || size_t(digit - '0') >= member_uuids.size()) continue;
      const std::string& uuid = member_uuids[digit - '0'];
      std::copy(uuid.begin(), uuid.end(), frame.begin() + ptrdiff_t(at));
      at += fb::kMemberUuidBytes - 1;
    }
  }
};

// One client connection. Checks that responses come in request order and decode, and notes
// acknowledged produces and deleted topics in the ledger.
class Client final : public ConnectionHandler {
 public:
  Client(SimWorld& world, SimNode& node, Ledger& ledger)
      : world_(world), node_(node), ledger_(ledger) {
    auto conn = node_.transport().connect(kBrokerAt, this);
    if (!conn) finding("connect failed: " + conn.status().to_string());
    conn_ = *conn;
    if (!run_until([&] { return connected_ || closed_; }) || !connected_) {
      finding("the broker did not accept a connection");
    }
  }
  ~Client() override {
    if (!closed_) node_.transport().release(conn_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool open() const { return connected_ && !closed_; }

  // Sends a frame of the script (header and body, no size prefix).
  void send_frame(Bytes frame) {
    ledger_.fill_member_uuids(frame);
    proto::ParsedRequest req;
    Status parsed = proto::parse_request_frame(frame, req);
    bool answered = parsed.is_ok() || parsed.code() == StatusCode::kUnsupported;
    if (parsed.is_ok()) {
      if (!affordable(req)) return;
      answered = note_request(req);
    }
    if (answered) {
      const auto& h = req.header;
      sent_.push_back({h.correlation_id, h.api_key, h.api_version});
    }
    (void)node_.transport().send(conn_, std::move(frame));
  }

  // Sends a well-formed request of the checks; returns its correlation id.
  template <class Msg>
  int32_t send(const Msg& msg, int16_t version) {
    proto::RequestHeader h{Msg::kApiKey, version, next_correlation_--, "fuzz-check"};
    Bytes frame;
    proto::append_request_unframed(frame, h, msg);
    send_frame(std::move(frame));
    return h.correlation_id;
  }

  // Waits for the response to `correlation_id` and decodes it; nullopt if none came.
  template <class Msg>
  std::optional<Msg> receive(int32_t correlation_id, int16_t version) {
    run_until([&] { return kept_.count(correlation_id) > 0 || closed_; });
    auto it = kept_.find(correlation_id);
    if (it == kept_.end()) return std::nullopt;
    proto::ResponseHeader h;
    ByteSpan body;
    Msg out;
    if (!proto::parse_response_frame(it->second, Msg::kApiKey, version, h, body)) {
      return std::nullopt;
    }
    ByteReader r(body);
    if (!out.decode(r, version)) return std::nullopt;
    return out;  // its views point into kept_, which lives as long as this client
  }

  void on_connected(ConnId, const Status& s) override { connected_ = s.is_ok(); }
  void on_closed(ConnId, const Status&) override { closed_ = true; }
  void on_frame(ConnId, Bytes frame) override {
    if (frame.size() < 4) finding("a response frame of " + std::to_string(frame.size()) + " B");
    int32_t correlation_id = int32_t(load_be32(frame.data()));
    if (sent_.empty() || sent_.front().correlation_id != correlation_id) {
      finding("response with correlation id " + std::to_string(correlation_id) +
              " out of request order");
    }
    Sent req = sent_.front();
    sent_.pop_front();
    // An ApiVersions request of a version we do not serve is answered in v0 layout.
    int16_t version = req.version;
    if (req.api_key == proto::ApiVersionsRequest::kApiKey &&
        !proto::is_supported(req.api_key, version)) {
      version = 0;
    }
    proto::ResponseHeader h;
    ByteSpan body;
    if (!proto::parse_response_frame(frame, req.api_key, version, h, body) ||
        !decodes_as_response(req.api_key, version, body)) {
      finding("the response to " + std::string(proto::api_name(req.api_key)) + " v" +
              std::to_string(version) + " does not decode");
    }
    if (req.api_key == proto::ProduceRequest::kApiKey) note_produce_response(body, version);
    if (req.api_key == proto::JoinGroupRequest::kApiKey) note_join_response(body, version);
    if (correlation_id < 0) kept_.emplace(correlation_id, std::move(frame));
  }

 private:
  struct Sent {
    int32_t correlation_id;
    int16_t api_key;
    int16_t version;
  };

  bool run_until(const std::function<bool()>& done) {
    MonoTime limit = world_.now() + kPatience;
    while (!done() && world_.now() < limit && world_.step()) {
    }
    return done();
  }

  // Whether the partitions a CreateTopics or CreatePartitions request may create fit the
  // budget.
  bool affordable(const proto::ParsedRequest& req) {
    ByteReader body = req.body_reader();
    int16_t version = req.header.api_version;
    if (req.header.api_key == proto::CreateTopicsRequest::kApiKey) {
      proto::CreateTopicsRequest c;
      if (!c.decode(body, version) || c.validate_only) return true;
      std::vector<int64_t> counts;
      for (const auto& t : c.topics) {
        counts.push_back(t.num_partitions == -1 ? 1 : t.num_partitions);  // -1: num.partitions
      }
      return ledger_.within_budget(counts);
    }
    if (req.header.api_key == proto::CreatePartitionsRequest::kApiKey) {
      proto::CreatePartitionsRequest c;
      if (!c.decode(body, version) || c.validate_only) return true;
      std::vector<int64_t> counts;
      for (const auto& t : c.topics) counts.push_back(t.count);
      return ledger_.within_budget(counts);
    }
    return true;
  }

  // Returns whether the broker owes this request a response.
  bool note_request(const proto::ParsedRequest& req) {
    int16_t key = req.header.api_key;
    if (key == kDeleteRecordsKey || key == kAlterConfigsKey || key == kIncrementalAlterConfigsKey) {
      ledger_.log_start_may_move = true;
    }
    ByteReader body = req.body_reader();
    if (req.header.api_key == proto::ProduceRequest::kApiKey) {
      proto::ProduceRequest p;
      return !(p.decode(body, req.header.api_version) && p.acks == 0);
    }
    if (req.header.api_key == proto::DeleteTopicsRequest::kApiKey) {
      proto::DeleteTopicsRequest d;
      if (d.decode(body, req.header.api_version)) {
        ledger_.deleted_topics.insert(d.topic_names.begin(), d.topic_names.end());
      }
    }
    return true;
  }

  void note_produce_response(ByteSpan body, int16_t version) {
    proto::ProduceResponse resp;
    ByteReader r(body);
    if (!resp.decode(r, version)) return;
    for (const auto& t : resp.responses) {
      for (const auto& p : t.partition_responses) {
        if (p.error_code == 0 && p.base_offset >= 0) {
          ledger_.acked.push_back({t.name, p.index, p.base_offset});
        }
      }
    }
  }

  void note_join_response(ByteSpan body, int16_t version) {
    proto::JoinGroupResponse resp;
    ByteReader r(body);
    if (!resp.decode(r, version)) return;
    ledger_.note_member_id(resp.leader);
    for (const auto& m : resp.members) ledger_.note_member_id(m.member_id);
    ledger_.note_member_id(resp.member_id);
  }

  SimWorld& world_;
  SimNode& node_;
  Ledger& ledger_;
  ConnId conn_{0};
  bool connected_ = false;
  bool closed_ = false;
  std::deque<Sent> sent_;
  // The checks use negative correlation ids; their responses are kept for receive().
  int32_t next_correlation_ = -1;
  std::map<int32_t, Bytes> kept_;
};

// The world of one input: a broker node, a client node, the script's connections.
class Harness {
 public:
  Harness() : world_(kWorldSeed) {
    net_.add_host(&broker_node_);
    net_.add_host(&client_node_);
    if (const char* level = std::getenv("STRATA_FUZZ_LOG")) enable_log(level);
    config_.listeners = {broker::Listener{"PLAINTEXT", kBrokerAt.host, kBrokerAt.port}};
    config_.log_dirs = {"/data"};
    // Records leave only by retention or deletion; the loss check exempts topics that ask
    // for either, so the defaults keep everything.
    config_.topic_defaults.retention_ms = -1;
    config_.topic_defaults.retention_bytes = -1;
    // Retention and time-based roll run within the script's hour, not once in five minutes.
    config_.log_retention_check_interval_ms = 10000;
    // The first group would create 50 partitions of __consumer_offsets (see kPartitionBudget).
    config_.group.offsets_topic_num_partitions = 3;
    start_broker();
    world_.set_after_event([this] { check_invariants(); });
    script_end_ = world_.now() + kScriptTimeMax;
  }
  ~Harness() {
    world_.set_after_event(nullptr);
    for (auto& c : clients_) c.reset();
    broker_.reset();
  }

  void step(uint8_t control, ByteSpan frame) {
    Duration pause = fb::kAdvance[(control >> fb::kAdvanceShift) & fb::kAdvanceMask];
    if (pause > Duration(0) && world_.now() + pause <= script_end_) {
      world_.run_until(world_.now() + pause);
    }
    auto& client = clients_[(control & fb::kConnectionMask) % fb::kConnections];
    if (control & fb::kReconnect) client.reset();
    if (frame.empty()) return;
    if (!client || !client->open()) {
      client = std::make_unique<Client>(world_, client_node_, ledger_);
    }
    Bytes bytes(frame.begin(), frame.end());
    if (control & fb::kFixCrcs) fix_produce_crcs(bytes);
    client->send_frame(std::move(bytes));
    if (!(control & fb::kPipeline)) world_.run_until(world_.now() + kStepWait);
  }

  // The checks after the script: still serving, nothing acknowledged lost, and the same after
  // a clean restart.
  void finish() {
    world_.run_until(world_.now() + kSettle);
    check_serving();
    check_acknowledged();
    for (auto& c : clients_) c.reset();
    if (Status s = broker_->shutdown(); !s) finding("clean shutdown failed: " + s.to_string());
    broker_.reset();
    world_.run_until(world_.now() + kStepWait);
    ++incarnation_;
    start_broker();
    check_serving();
    check_acknowledged();
  }

 private:
  // After every event of the world.
  void check_invariants() {
    if (!broker_) return;
    invariants_.check(world_.now(), "broker-0", incarnation_, *broker_);
    if (invariants_.violation_count() > 0) {
      const InvariantViolation& v = invariants_.violations().front();
      finding("cluster invariant " + v.invariant + " at " + std::to_string(v.at.ms()) +
              " ms: " + v.detail);
    }
  }

  void enable_log(std::string_view level) {
    LogLevel min = level == "debug"  ? LogLevel::kDebug
                   : level == "info" ? LogLevel::kInfo
                   : level == "warn" ? LogLevel::kWarn
                                     : LogLevel::kError;
    broker_node_.set_log_level(min);
    broker_node_.set_log_sink([](std::string_view line) {
      std::fprintf(stderr, "%.*s\n", int(line.size()), line.data());
    });
  }

  void start_broker() {
    broker_ = std::make_unique<broker::Broker>(broker_node_, config_);
    if (Status s = broker_->start(); !s) finding("broker start failed: " + s.to_string());
  }

  // A new connection gets ApiVersions and Metadata answered.
  void check_serving() {
    Client probe(world_, client_node_, ledger_);
    int32_t versions = probe.send(proto::ApiVersionsRequest{}, 3);
    proto::MetadataRequest all;
    all.topics = std::nullopt;
    int32_t metadata = probe.send(all, 1);
    auto v = probe.receive<proto::ApiVersionsResponse>(versions, 3);
    if (!v || v->error_code != 0) finding("ApiVersions unanswered after the script");
    auto m = probe.receive<proto::MetadataResponse>(metadata, 1);
    if (!m || m->brokers.size() != 1) finding("Metadata unanswered after the script");
  }

  // Whether an acknowledged record may have gone legitimately: its topic was deleted, or it
  // lies below its partition's log start offset, which retention or a request moved.
  bool exempt(const AckedRecord& a) {
    if (ledger_.deleted_topics.count(a.topic)) return true;
    const broker::Topic* t = broker_->topics().find(a.topic);
    broker::PartitionReplica* p = broker_->topics().find(a.topic, a.partition);
    if (t == nullptr || p == nullptr) {
      finding("acknowledged " + a.topic + "-" + std::to_string(a.partition) + " vanished");
    }
    if (a.offset >= p->log->log_start_offset().value()) return false;
    bool retention = t->config.retention_ms >= 0 || t->config.retention_bytes >= 0;
    if (!retention && !ledger_.log_start_may_move) {
      finding("the log start of " + p->key() + " passed acknowledged offset " +
              std::to_string(a.offset) + " without retention or a request to delete");
    }
    return true;
  }

  // A Fetch at each acknowledged offset returns the batch holding it.
  void check_acknowledged() {
    Client reader(world_, client_node_, ledger_);
    size_t checked = 0;
    for (const AckedRecord& a : ledger_.acked) {
      if (checked == kAckedChecksMax) break;
      if (exempt(a)) continue;
      ++checked;
      proto::FetchRequest req;
      req.max_wait_ms = 0;
      req.min_bytes = 1;
      req.max_bytes = 1 << 20;
      auto& t = req.topics.emplace_back();
      t.topic = a.topic;
      t.partitions.push_back({});
      t.partitions.back().partition = a.partition;
      t.partitions.back().fetch_offset = a.offset;
      t.partitions.back().partition_max_bytes = 1 << 20;
      constexpr int16_t kVersion = 11;
      auto resp = reader.receive<proto::FetchResponse>(reader.send(req, kVersion), kVersion);
      std::string what =
          a.topic + "-" + std::to_string(a.partition) + " offset " + std::to_string(a.offset);
      if (!resp || resp->responses.size() != 1 || resp->responses[0].partitions.size() != 1) {
        finding("no Fetch response for acknowledged " + what);
      }
      const auto& p = resp->responses[0].partitions[0];
      if (p.error_code != 0 || !p.records || p.records->empty()) {
        finding("acknowledged " + what + " not readable: error " + std::to_string(p.error_code) +
                ", high watermark " + std::to_string(p.high_watermark));
      }
      auto batch = parse_batch_header(*p.records);
      if (!batch || batch->base_offset > a.offset ||
          batch->base_offset + batch->last_offset_delta < a.offset) {
        finding("a Fetch at acknowledged " + what + " returned another batch");
      }
    }
  }

  SimWorld world_;
  SimNetwork net_{world_};
  SimNode broker_node_{world_, net_, 0, kBrokerAt.host};
  SimNode client_node_{world_, net_, 1, "client-0"};
  broker::BrokerConfig config_;
  std::unique_ptr<broker::Broker> broker_;
  uint64_t incarnation_ = 1;
  ClusterInvariants invariants_;
  Ledger ledger_;
  std::array<std::unique_ptr<Client>, fb::kConnections> clients_;
  MonoTime script_end_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness h;
  fb::for_each_step(ByteSpan(data, size),
                    [&](uint8_t control, ByteSpan frame) { h.step(control, frame); });
  h.finish();
  return 0;
}
