// NetworkClient: connection life cycle, ApiVersions handshake, request matching and timeouts.
// Metadata refresh lives in network_metadata.cc.
#include "engine/client/network_client.h"

#include <algorithm>
#include <charconv>

#include "engine/protocol/api_keys.h"
#include "engine/protocol/errors.h"

#include <set>

namespace strata::client {

// Receives transport events for every connection of one client and knows which of them the
// transport has not yet reported closed, so that the client's destructor can release them
// (Transport::release: no callback after that) and nothing ever calls into a dead client.
struct NetworkClient::Shim final : ConnectionHandler {
  NetworkClient* owner = nullptr;
  std::set<ConnId> live;  // connected or connecting, or closed but not yet reported

  void on_connected(ConnId c, const Status& s) override {
    if (owner) owner->on_connected(c, s);
  }
  void on_frame(ConnId c, Bytes f) override {
    if (owner) owner->on_frame(c, std::move(f));
  }
  void on_closed(ConnId c, const Status& why) override {
    STRATA_ASSERT(live.erase(c) == 1, "close reported for a connection the shim never saw");
    if (owner) owner->on_closed(c, why);
  }
};

namespace {

constexpr int16_t kApiVersionsKey = proto::to_int(proto::ApiKey::kApiVersions);
constexpr int16_t kApiVersionsMax = proto::ApiVersionsRequest::kMaxVersion;

Result<Endpoint> parse_one_server(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::invalid_argument("bootstrap server '" + std::string(s) +
                                    "' is not host:port");
  }
  std::string_view host = s.substr(0, colon);
  std::string_view port_text = s.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port <= 0 ||
      port > 65535) {
    return Status::invalid_argument("bootstrap server '" + std::string(s) + "' has a bad port");
  }
  return Endpoint{std::string(host), uint16_t(port)};
}

}  // namespace

Result<std::vector<Endpoint>> parse_bootstrap_servers(std::string_view list) {
  std::vector<Endpoint> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view one = list.substr(0, comma);
    if (!one.empty()) {
      STRATA_ASSIGN_OR_RETURN(Endpoint ep, parse_one_server(one));
      out.push_back(std::move(ep));
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (out.empty()) return Status::invalid_argument("no bootstrap servers given");
  if (out.size() > limits::kBootstrapServersMax) {
    return Status::invalid_argument("too many bootstrap servers");
  }
  return out;
}

bool is_retriable(const Status& status) {
  return status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kTimedOut;
}

NetworkClient::NetworkClient(Runtime& rt, ClientOptions options)
    : rt_(rt), options_(std::move(options)), shim_(new Shim) {
  STRATA_ASSERT(!options_.bootstrap_servers.empty(), "a client needs bootstrap servers");
  STRATA_ASSERT(options_.bootstrap_servers.size() <= limits::kBootstrapServersMax);
  shim_->owner = this;
  // Bootstrap entries get ids -2, -3, ...: -1 is kNoNode, and real brokers are >= 0.
  int32_t next = kFirstBootstrapNode.value();
  for (const auto& ep : options_.bootstrap_servers) {
    Node n;
    n.id = NodeId(next--);
    n.endpoint = ep;
    n.bootstrap = true;
    nodes_.emplace(n.id, std::move(n));
  }
}

NetworkClient::~NetworkClient() {
  for (auto& [id, e] : requests_) rt_.cancel(e.timer);
  for (auto& [id, n] : nodes_) rt_.cancel(n.reconnect_timer);
  rt_.cancel(metadata_timer_);
  // Every connection the transport may still report on is released: no callback can reach
  // the shim or this client afterwards, so both go now.
  for (ConnId c : shim_->live) rt_.transport().release(c);
  delete shim_;
}

void NetworkClient::close() {
  closed_ = true;
  for (auto& [id, n] : nodes_) {
    rt_.cancel(n.reconnect_timer);
    n.reconnect_timer = TimerId(0);
    if (n.state != NodeState::kIdle) {
      conn_to_node_.erase(n.conn);
      rt_.transport().close(n.conn);
      n.state = NodeState::kIdle;
    }
    n.pending.clear();
    n.inflight.clear();
  }
  rt_.cancel(metadata_timer_);
  metadata_wanted_ = false;
  auto requests = std::move(requests_);
  requests_.clear();
  for (auto& [id, e] : requests) {
    rt_.cancel(e.timer);
    e.raw.complete(Status::closed("client closed"), e.version);
  }
}

size_t NetworkClient::connections_open() const { return shim_->live.size(); }

NetworkClient::Node* NetworkClient::find_node(NodeId id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

NetworkClient::Node* NetworkClient::node_by_conn(ConnId conn) {
  auto it = conn_to_node_.find(conn);
  return it == conn_to_node_.end() ? nullptr : find_node(it->second);
}

bool NetworkClient::is_ready(NodeId node) const {
  auto it = nodes_.find(node);
  return it != nodes_.end() && it->second.state == NodeState::kReady;
}

size_t NetworkClient::in_flight(NodeId node) const {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? 0 : it->second.inflight.size() + it->second.pending.size();
}

Duration NetworkClient::backoff(int failures) {
  int64_t ms = options_.reconnect_backoff_ms;
  for (int i = 1; i < failures && ms < options_.reconnect_backoff_max_ms; ++i) ms *= 2;
  ms = std::min(ms, options_.reconnect_backoff_max_ms);
  // +-20 % jitter so that many clients do not reconnect in lockstep.
  int64_t spread = ms / 5;
  if (spread > 0) ms += int64_t(rt_.random_below(uint64_t(2 * spread + 1))) - spread;
  return milliseconds(std::max<int64_t>(ms, 0));
}

void NetworkClient::submit(NodeId node, RawRequest raw, const SendOptions& options) {
  uint64_t id = next_request_id_++;
  Entry& e = requests_[id];
  e.raw = std::move(raw);
  e.node = node;
  Duration timeout = options.timeout.value_or(milliseconds(options_.request_timeout_ms));
  e.timer = rt_.schedule(timeout, [this, id] { on_request_timeout(id); });
  Node* n = find_node(node);
  if (closed_) return complete_soon(id, Status::closed("client closed"));
  if (n == nullptr) {
    return complete_soon(id, Status::unavailable("node " + std::to_string(node.value()) +
                                                 " is not known"));
  }
  if (n->state == NodeState::kReady && n->pending.empty() &&
      n->inflight.size() < limits::kInflightRequestsPerNodeMax) {
    return transmit(*n, id);
  }
  if (n->pending.size() >= limits::kPendingRequestsPerNodeMax) {
    return complete_soon(id, Status::resource_exhausted(
                                 "too many requests queued for " + n->endpoint.to_string()));
  }
  n->pending.push_back(id);
  ensure_connecting(node);
}

void NetworkClient::complete_soon(uint64_t id, Result<ByteSpan> body) {
  auto it = requests_.find(id);
  STRATA_ASSERT(it != requests_.end());
  rt_.cancel(it->second.timer);
  it->second.timer = rt_.schedule(Duration(0), [this, id, body] { finish(id, body); });
}

void NetworkClient::finish(uint64_t id, Result<ByteSpan> body) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  Entry e = std::move(it->second);
  requests_.erase(it);
  rt_.cancel(e.timer);
  if (Node* n = find_node(e.node)) {
    if (e.sent) {
      n->inflight.erase(e.correlation_id);
    } else {
      auto p = std::find(n->pending.begin(), n->pending.end(), id);
      if (p != n->pending.end()) n->pending.erase(p);
    }
  }
  e.raw.complete(std::move(body), e.version);
}

void NetworkClient::ensure_connecting(NodeId node) {
  Node* n = find_node(node);
  if (n == nullptr || closed_ || n->state != NodeState::kIdle) return;
  if (rt_.now() >= n->next_attempt) return start_connect(*n);
  schedule_reconnect(*n);
}

void NetworkClient::schedule_reconnect(Node& n) {
  if (n.reconnect_timer.value() != 0) return;
  Duration wait = std::max(Duration(0), n.next_attempt - rt_.now());
  NodeId id = n.id;
  n.reconnect_timer = rt_.schedule(wait, [this, id] {
    Node* n = find_node(id);
    if (n == nullptr) return;
    n->reconnect_timer = TimerId(0);
    if (n->state == NodeState::kIdle && !closed_) start_connect(*n);
  });
}

void NetworkClient::start_connect(Node& n) {
  STRATA_ASSERT(n.state == NodeState::kIdle);
  auto conn = rt_.transport().connect(n.endpoint, shim_);
  if (!conn) {
    ++n.failures;
    n.next_attempt = rt_.now() + backoff(n.failures);
    auto pending = n.pending;
    for (uint64_t id : pending) {
      complete_soon(id, Status::unavailable("connect to " + n.endpoint.to_string() + ": " +
                                            conn.status().message()));
    }
    return;
  }
  shim_->live.insert(*conn);
  n.conn = *conn;
  n.state = NodeState::kConnecting;
  conn_to_node_[*conn] = n.id;
}

void NetworkClient::on_connected(ConnId conn, const Status& status) {
  Node* n = node_by_conn(conn);
  if (n == nullptr) return;
  if (!status) return disconnect(*n, status, true);
  n->state = NodeState::kNegotiating;
  send_api_versions(*n, kApiVersionsMax);
}

void NetworkClient::send_api_versions(Node& n, int16_t version) {
  proto::ApiVersionsRequest req;
  req.client_software_name = "strata";
  req.client_software_version = "0.1.0";
  uint64_t id = next_request_id_++;
  Entry& e = requests_[id];
  e.node = n.id;
  e.internal = true;
  e.version = version;
  e.raw.api_key = kApiVersionsKey;
  e.raw.min_version = e.raw.max_version = version;
  e.raw.encode = [req](Bytes& out, const proto::RequestHeader& h) {
    proto::append_request_unframed(out, h, req);
  };
  NodeId node = n.id;
  e.raw.complete = [this, node](Result<ByteSpan> body, int16_t v) {
    if (Node* n = find_node(node)) on_api_versions(*n, std::move(body), v);
  };
  e.timer = rt_.schedule(milliseconds(options_.request_timeout_ms),
                         [this, id] { on_request_timeout(id); });
  transmit(n, id);
}

void NetworkClient::on_api_versions(Node& n, Result<ByteSpan> body, int16_t version) {
  if (n.state != NodeState::kNegotiating) return;
  if (!body) return disconnect(n, body.status(), true);
  proto::ApiVersionsResponse resp;
  ByteReader r(*body);
  Status s = resp.decode(r, version);
  if (!s || resp.error_code == proto::to_int(proto::ErrorCode::kUnsupportedVersion)) {
    // A broker that does not know our version answers in v0 format with its own ranges.
    proto::ApiVersionsResponse v0;
    ByteReader r0(*body);
    if (v0.decode(r0, 0) && !v0.api_keys.empty()) {
      resp = std::move(v0);
      s = ok_status();
    }
  }
  if (!s) return disconnect(n, Status::corruption("ApiVersions: " + s.message()), true);
  n.versions.clear();
  for (const auto& k : resp.api_keys) n.versions[k.api_key] = {k.min_version, k.max_version};
  n.state = NodeState::kReady;
  n.failures = 0;
  flush_pending(n);
  NodeId id = n.id;
  for (size_t i = 0; i < ready_listeners_.size(); ++i) ready_listeners_[i](id);
}

Status NetworkClient::choose_version(const Node& n, Entry& e) const {
  auto it = n.versions.find(e.raw.api_key);
  std::string name(proto::api_name(e.raw.api_key));
  if (it == n.versions.end()) {
    return Status::unsupported("broker " + n.endpoint.to_string() + " does not serve " + name);
  }
  int16_t hi = std::min(e.raw.max_version, it->second.second);
  int16_t lo = std::max(e.raw.min_version, it->second.first);
  if (hi < lo) {
    return Status::unsupported("no " + name + " version in common with " +
                               n.endpoint.to_string());
  }
  e.version = hi;
  return ok_status();
}

void NetworkClient::transmit(Node& n, uint64_t id) {
  Entry& e = requests_.at(id);
  if (!e.internal) {
    if (Status s = choose_version(n, e); !s) return complete_soon(id, s);
  }
  if (next_correlation_id_ == INT32_MAX) next_correlation_id_ = 1;
  e.correlation_id = next_correlation_id_++;
  proto::RequestHeader h{e.raw.api_key, e.version, e.correlation_id, options_.client_id};
  Bytes frame;
  e.raw.encode(frame, h);  // without a size prefix: the transport adds its own
  if (Status s = rt_.transport().send(n.conn, std::move(frame)); !s) {
    return complete_soon(id, Status::unavailable(s.message()));
  }
  e.sent = true;
  if (!e.raw.expect_response) return complete_soon(id, ByteSpan{});
  n.inflight[e.correlation_id] = id;
}

void NetworkClient::flush_pending(Node& n) {
  while (n.state == NodeState::kReady && !n.pending.empty() &&
         n.inflight.size() < limits::kInflightRequestsPerNodeMax) {
    uint64_t id = n.pending.front();
    n.pending.pop_front();
    transmit(n, id);
  }
}

void NetworkClient::on_frame(ConnId conn, Bytes frame) {
  Node* n = node_by_conn(conn);
  if (n == nullptr) return;
  if (frame.size() < 4) return disconnect(*n, Status::corruption("short response frame"), false);
  auto it = n->inflight.find(int32_t(load_be32(frame.data())));
  if (it == n->inflight.end()) {
    return disconnect(*n, Status::corruption("response with an unknown correlation id"), false);
  }
  uint64_t id = it->second;
  const Entry& e = requests_.at(id);
  proto::ResponseHeader h;
  ByteSpan body;
  Status s = proto::parse_response_frame(frame, e.raw.api_key, e.version, h, body);
  if (!s) {
    finish(id, Status::corruption(s.message()));
    return disconnect(*n, Status::corruption("malformed response: " + s.message()), false);
  }
  finish(id, body);
  flush_pending(*n);
}

void NetworkClient::on_closed(ConnId conn, const Status& why) {
  Node* n = node_by_conn(conn);
  if (n == nullptr) return;
  Status reason = why.is_ok() ? Status::unavailable("connection closed by the broker") : why;
  disconnect(*n, reason, n->state != NodeState::kReady);
}

void NetworkClient::on_request_timeout(uint64_t id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  Entry& e = it->second;
  e.timer = TimerId(0);
  bool was_sent = e.sent;
  NodeId node = e.node;
  std::string what = std::string(proto::api_name(e.raw.api_key)) + " request to node " +
                     std::to_string(node.value()) + " timed out";
  finish(id, Status::timed_out(what));
  // Kafka's client drops the connection: later answers on it could belong to anyone. A
  // connection still not ready when a request waiting for it times out is hung (a SYN into
  // a dead host): drop it too, so the next attempt starts afresh.
  Node* n = find_node(node);
  if (n != nullptr && n->state != NodeState::kIdle &&
      (was_sent || n->state != NodeState::kReady)) {
    disconnect(*n, Status::timed_out(what), false);
  }
}

void NetworkClient::disconnect(Node& n, const Status& why, bool fail_pending) {
  if (n.state == NodeState::kIdle) return;
  conn_to_node_.erase(n.conn);
  rt_.transport().close(n.conn);
  n.state = NodeState::kIdle;
  n.versions.clear();
  ++n.failures;
  n.next_attempt = rt_.now() + backoff(n.failures);
  // State first, callbacks after: a callback may send to this node again.
  auto inflight = std::move(n.inflight);
  n.inflight.clear();
  std::deque<uint64_t> pending;
  if (fail_pending) pending.swap(n.pending);
  std::string what = "connection to " + n.endpoint.to_string() + " lost: " + why.message();
  for (auto& [corr, id] : inflight) finish(id, Status::unavailable(what));
  for (uint64_t id : pending) finish(id, Status::unavailable(what));
  Node* again = find_node(n.id);
  if (again != nullptr && !again->pending.empty()) ensure_connecting(again->id);
  if (!closed_) request_metadata_update();  // a lost broker may mean leadership moved
}

NodeId NetworkClient::least_loaded_node() {
  const Node* best = nullptr;
  auto better = [&](const Node& n) {
    if (best == nullptr) return true;
    auto rank = [](const Node& x) {
      return x.state == NodeState::kReady ? 0 : x.state == NodeState::kIdle ? 2 : 1;
    };
    if (rank(n) != rank(*best)) return rank(n) < rank(*best);
    if (n.bootstrap != best->bootstrap) return !n.bootstrap;
    if (n.state == NodeState::kIdle) return n.next_attempt < best->next_attempt;
    return n.inflight.size() + n.pending.size() < best->inflight.size() + best->pending.size();
  };
  // Rotate the starting point so that idle bootstrap servers are tried in turn.
  std::vector<const Node*> order;
  for (const auto& [id, n] : nodes_) order.push_back(&n);
  size_t start = bootstrap_cursor_++ % order.size();
  for (size_t i = 0; i < order.size(); ++i) {
    const Node& n = *order[(start + i) % order.size()];
    if (!n.bootstrap && !metadata_.endpoint(n.id)) continue;  // broker left the cluster
    if (better(n)) best = &n;
  }
  STRATA_ASSERT(best != nullptr, "bootstrap nodes are never removed");
  return best->id;
}

void NetworkClient::sync_nodes_with_metadata() {
  for (const auto& [id, b] : metadata_.brokers()) {
    Node* n = find_node(id);
    if (n == nullptr) {
      if (nodes_.size() >= limits::kNodesMax) continue;
      Node fresh;
      fresh.id = id;
      fresh.endpoint = b.endpoint;
      nodes_.emplace(id, std::move(fresh));
      continue;
    }
    if (n->endpoint != b.endpoint) {
      disconnect(*n, Status::unavailable("broker moved to " + b.endpoint.to_string()), true);
      n = find_node(id);
      n->endpoint = b.endpoint;
    }
  }
}

}  // namespace strata::client
