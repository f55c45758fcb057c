// NetworkClient: connections to the brokers of one cluster, request/response matching and
// the metadata cache, as an event-driven state machine over Runtime (no threads, no
// blocking), so the simulator can drive the very same code.
//
// Per node: connect -> ApiVersions (we pick min(our max, broker max) per API, from
// engine/protocol/api_keys.h) -> ready. Requests sent while a node is not ready wait in a
// bounded queue. Every request has a deadline (request.timeout.ms unless given): on expiry it
// fails with kTimedOut and the connection is closed, as Kafka's client does, because the
// order of the answers on it can no longer be trusted. A lost connection fails its in-flight
// requests with kUnavailable (retriable); reconnects back off exponentially from
// reconnect.backoff.ms to reconnect.backoff.max.ms with 20 % jitter from Runtime's random.
//
// Nodes are the bootstrap servers (ids -2, -3, ...: kFirstBootstrapNode down) plus the
// brokers Metadata names.
//
// Callbacks run from the runtime loop, never from inside the call that queued the request.
// Decoded responses may hold spans into the response frame: they are valid only during the
// callback. Destroying the client releases its connections (Transport::release) and drops
// pending callbacks unrun.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/client/client_limits.h"
#include "engine/client/metadata_cache.h"
#include "engine/protocol/framing.h"
#include "engine/protocol/messages.h"
#include "engine/runtime/runtime.h"

namespace strata::client {

// The id of bootstrap_servers[0]; the next ones count down from it. (-1 is kNoNode.)
inline constexpr NodeId kFirstBootstrapNode{-2};

struct ClientOptions {
  std::vector<Endpoint> bootstrap_servers;
  std::string client_id = "strata";
  int64_t request_timeout_ms = 30000;
  int64_t reconnect_backoff_ms = 50;
  int64_t reconnect_backoff_max_ms = 1000;
  int64_t retry_backoff_ms = 100;
  int64_t metadata_max_age_ms = 300000;
  bool allow_auto_topic_creation = true;
};

// "host:port[,host:port...]"; IPv6 literals in brackets ("[::1]:9092").
Result<std::vector<Endpoint>> parse_bootstrap_servers(std::string_view list);

// Transport failures (lost connection, timeout) that a caller may retry.
bool is_retriable(const Status& status);

// Response type for each request type.
template <class Req>
struct ResponseOf;
#define STRATA_CLIENT_RESPONSE(Name) \
  template <>                        \
  struct ResponseOf<proto::Name##Request> { using type = proto::Name##Response; };
STRATA_CLIENT_RESPONSE(Produce)
STRATA_CLIENT_RESPONSE(Fetch)
STRATA_CLIENT_RESPONSE(ListOffsets)
STRATA_CLIENT_RESPONSE(Metadata)
STRATA_CLIENT_RESPONSE(ApiVersions)
STRATA_CLIENT_RESPONSE(CreateTopics)
STRATA_CLIENT_RESPONSE(DeleteTopics)
STRATA_CLIENT_RESPONSE(DescribeConfigs)
STRATA_CLIENT_RESPONSE(CreatePartitions)
STRATA_CLIENT_RESPONSE(FindCoordinator)
STRATA_CLIENT_RESPONSE(JoinGroup)
STRATA_CLIENT_RESPONSE(SyncGroup)
STRATA_CLIENT_RESPONSE(Heartbeat)
STRATA_CLIENT_RESPONSE(LeaveGroup)
STRATA_CLIENT_RESPONSE(OffsetCommit)
STRATA_CLIENT_RESPONSE(OffsetFetch)
STRATA_CLIENT_RESPONSE(DescribeGroups)
STRATA_CLIENT_RESPONSE(ListGroups)
STRATA_CLIENT_RESPONSE(DeleteGroups)
STRATA_CLIENT_RESPONSE(InitProducerId)
STRATA_CLIENT_RESPONSE(IncrementalAlterConfigs)
STRATA_CLIENT_RESPONSE(BrokerRegistration)
STRATA_CLIENT_RESPONSE(BrokerHeartbeat)
STRATA_CLIENT_RESPONSE(AllocateProducerIds)
#undef STRATA_CLIENT_RESPONSE

template <class Req>
using ResponseCallback = std::function<void(Result<typename ResponseOf<Req>::type>)>;

struct SendOptions {
  std::optional<Duration> timeout;  // request.timeout.ms when unset
  bool expect_response = true;      // false for acks=0 produce: done once written
};

class NetworkClient {
 public:
  NetworkClient(Runtime& rt, ClientOptions options);
  ~NetworkClient();
  NetworkClient(const NetworkClient&) = delete;
  NetworkClient& operator=(const NetworkClient&) = delete;

  // Queues `req` for `node` (connecting if needed). An unknown node fails the callback with
  // kUnavailable; so does a full per-node queue (kResourceExhausted).
  template <class Req>
  void send(NodeId node, Req req, ResponseCallback<Req> cb, SendOptions options = {}) {
    using Resp = typename ResponseOf<Req>::type;
    RawRequest raw;
    raw.api_key = Req::kApiKey;
    raw.min_version = Req::kMinVersion;
    raw.max_version = Req::kMaxVersion;
    raw.expect_response = options.expect_response;
    raw.encode = [req = std::move(req)](Bytes& out, const proto::RequestHeader& h) {
      proto::append_request_unframed(out, h, req);
    };
    raw.complete = [cb = std::move(cb), expect = options.expect_response](
                       Result<ByteSpan> body, int16_t version) {
      if (!body) return cb(body.status());
      if (!expect) return cb(Resp{});  // written to the socket; no answer will come
      Resp resp;
      ByteReader r(*body);
      Status s = resp.decode(r, version);
      if (!s) return cb(Status::corruption(std::string(Resp::kName) + ": " + s.message()));
      cb(std::move(resp));
    };
    submit(node, std::move(raw), options);
  }
  // To the least loaded node (see least_loaded_node()).
  template <class Req>
  void send_any(Req req, ResponseCallback<Req> cb, SendOptions options = {}) {
    send(least_loaded_node(), std::move(req), std::move(cb), options);
  }

  // A ready node with the fewest requests in flight; else one that is connecting; else the
  // node whose reconnect backoff ends first. Brokers from metadata first, then bootstrap.
  NodeId least_loaded_node();
  bool is_ready(NodeId node) const;
  size_t in_flight(NodeId node) const;
  // Starts connecting to `node` if it is idle and out of backoff.
  void ensure_connecting(NodeId node);
  // Called (from the loop) whenever a node becomes ready.
  void add_ready_listener(std::function<void(NodeId)> fn) {
    ready_listeners_.push_back(std::move(fn));
  }

  // Metadata --------------------------------------------------------------------------------
  const MetadataCache& metadata() const { return metadata_; }
  // Keeps `topic` in the set the periodic and on-demand refreshes ask for.
  void add_topic(const std::string& topic);
  const std::set<std::string>& topics() const { return topics_; }
  // Asks for a refresh of the tracked topics soon (coalesced; retried with retry.backoff.ms
  // while it fails). Listeners run after every successful update.
  void request_metadata_update();
  bool metadata_update_pending() const { return metadata_wanted_ || metadata_in_flight_; }
  void add_metadata_listener(std::function<void()> fn) {
    metadata_listeners_.push_back(std::move(fn));
  }
  // Merges a Metadata answer obtained outside the refresh cycle (Admin asks its own).
  void ingest_metadata(const proto::MetadataResponse& resp);
  // Whether an error code from a response means our metadata is stale.
  static bool is_metadata_error(int16_t error_code);

  Runtime& runtime() { return rt_; }
  const ClientOptions& options() const { return options_; }

  // Fails every queued and in-flight request with kClosed and closes every connection.
  void close();
  // Transport connections not yet reported closed.
  size_t connections_open() const;

 private:
  struct Shim;
  void on_connected(ConnId conn, const Status& status);
  void on_frame(ConnId conn, Bytes frame);
  void on_closed(ConnId conn, const Status& why);

  struct RawRequest {
    int16_t api_key = 0;
    int16_t min_version = 0;
    int16_t max_version = 0;
    bool expect_response = true;
    // Appends the request header and body, without the size prefix.
    std::function<void(Bytes&, const proto::RequestHeader&)> encode;
    std::function<void(Result<ByteSpan>, int16_t)> complete;
  };
  struct Entry {
    RawRequest raw;
    NodeId node{0};
    TimerId timer{0};
    int16_t version = 0;
    int32_t correlation_id = 0;
    bool sent = false;
    bool internal = false;  // ApiVersions of the handshake
  };
  enum class NodeState { kIdle, kConnecting, kNegotiating, kReady };
  struct Node {
    NodeId id{0};
    Endpoint endpoint;
    bool bootstrap = false;
    NodeState state = NodeState::kIdle;
    ConnId conn{0};
    std::map<int16_t, std::pair<int16_t, int16_t>> versions;  // broker's ranges
    std::deque<uint64_t> pending;              // request ids waiting for kReady
    std::map<int32_t, uint64_t> inflight;      // correlation id -> request id
    int failures = 0;
    MonoTime next_attempt;
    TimerId reconnect_timer{0};
  };

  void submit(NodeId node, RawRequest raw, const SendOptions& options);
  void start_connect(Node& n);
  void schedule_reconnect(Node& n);
  void send_api_versions(Node& n, int16_t version);
  void on_api_versions(Node& n, Result<ByteSpan> body, int16_t version);
  void become_ready(Node& n);
  void transmit(Node& n, uint64_t id);
  void flush_pending(Node& n);
  Status choose_version(const Node& n, Entry& e) const;
  void on_request_timeout(uint64_t id);
  void disconnect(Node& n, const Status& why, bool fail_pending);
  void finish(uint64_t id, Result<ByteSpan> body);
  // Completes a request from the loop, never inside the caller's own call.
  void complete_soon(uint64_t id, Result<ByteSpan> body);
  Duration backoff(int failures);
  Node* node_by_conn(ConnId conn);
  Node* find_node(NodeId id);
  void sync_nodes_with_metadata();

  // Metadata refresh internals (network_metadata.cc).
  void maybe_send_metadata();
  void on_metadata_response(Result<proto::MetadataResponse> resp);
  void schedule_metadata_timer(Duration after);

  Runtime& rt_;
  ClientOptions options_;
  std::map<NodeId, Node> nodes_;
  std::unordered_map<ConnId, NodeId> conn_to_node_;
  std::unordered_map<uint64_t, Entry> requests_;
  uint64_t next_request_id_ = 1;
  int32_t next_correlation_id_ = 1;
  size_t bootstrap_cursor_ = 0;
  bool closed_ = false;
  std::vector<std::function<void(NodeId)>> ready_listeners_;

  MetadataCache metadata_;
  std::set<std::string> topics_;
  bool metadata_wanted_ = false;
  bool metadata_in_flight_ = false;
  MonoTime metadata_last_attempt_;
  TimerId metadata_timer_{0};
  std::vector<std::function<void()>> metadata_listeners_;
  Shim* shim_;  // owned; receives the transport's events for all connections
};

}  // namespace strata::client
