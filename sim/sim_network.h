// SimNetwork: simulated TCP between simulated hosts.
//
// Connections behave like TCP: frames on one connection arrive in order, exactly once, after
// a per-link delay (base latency + uniform jitter + a rare long tail). "Loss" on a link costs
// a retransmission delay instead of a missing frame, as TCP would. A cut link (a network
// partition, symmetric or one-way) holds frames back; they flow again when it heals, unless
// the connection was stalled longer than the TCP timeout, in which case both ends see it
// reset. Connection resets can be injected. A crashed process's connections reset, and its
// peers learn of it one link delay later.
//
// The link graph is a Boost.Graph adjacency matrix of links that are up; "who can reach
// whom" and the current partition (strongly connected components) come from it.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/sim_node.h"

namespace strata::sim {

struct LinkParams {
  Duration latency = std::chrono::microseconds(200);
  Duration jitter = std::chrono::microseconds(100);
  double tail_probability = 0.0;  // chance that a frame takes `tail` extra
  Duration tail = std::chrono::milliseconds(50);
  double loss = 0.0;  // chance that a frame needs a retransmission
  Duration retransmit = std::chrono::milliseconds(200);
};

class SimNetwork {
 public:
  explicit SimNetwork(SimWorld& world);
  ~SimNetwork();

  int add_host(SimNode* node);  // returns the host index
  SimNode& node(int host) { return *nodes_.at(size_t(host)); }
  int host_of(const std::string& name) const;  // -1 if unknown

  // Topology faults.
  void set_link_up(int from, int to, bool up);
  void partition(const std::vector<std::vector<int>>& groups);  // cut links between groups
  void heal_all();
  bool link_up(int from, int to) const;
  std::vector<std::vector<int>> components() const;

  void set_default_params(const LinkParams& p) { default_params_ = p; }
  void set_params(int from, int to, const LinkParams& p) { params_[{from, to}] = p; }
  const LinkParams& params(int from, int to) const;
  void set_tcp_timeout(Duration d) { tcp_timeout_ = d; }

  // Injected fault: resets every connection between two hosts (both directions).
  void reset_connections(int a, int b);

  uint64_t frames_delivered() const { return frames_delivered_; }

 private:
  friend class SimTransport;
  SimWorld& world() { return world_; }
  struct Side {
    int host = -1;
    ConnectionHandler* handler = nullptr;
    ConnId peer{0};
    bool open = true;
    bool reading = true;
    std::deque<Bytes> inbox;           // arrived while reading was off
    int64_t last_arrival_ns = 0;       // keeps this direction in order
    size_t in_flight_bytes = 0;        // sent by this side, not yet arrived
    std::deque<Bytes> stalled;         // sent while the link was cut
    int64_t stalled_since_ns = -1;
  };
  struct Listener {
    int host;
    ListenHandler* handler;
  };

  Duration sample_delay(int from, int to);
  void transmit(ConnId from_id, Bytes frame);
  void deliver(ConnId to_id, Bytes frame);
  void close_side(ConnId id, const Status& why, bool notify_self);
  void release_stalled(int from, int to);
  void check_stalls();
  Side* side(ConnId id);

  SimWorld& world_;
  std::vector<SimNode*> nodes_;
  struct LinkGraph;
  std::unique_ptr<LinkGraph> graph_;
  LinkParams default_params_;
  std::map<std::pair<int, int>, LinkParams> params_;
  Duration tcp_timeout_ = std::chrono::seconds(30);
  std::map<Endpoint, Listener> listeners_;
  std::map<ConnId, Side> sides_;
  uint64_t next_conn_ = 1;
  uint16_t next_ephemeral_port_ = 40000;
  uint64_t frames_delivered_ = 0;
  bool stall_check_scheduled_ = false;
};

// One node's view of the network (its Transport).
class SimTransport final : public Transport {
 public:
  SimTransport(SimNetwork& net, SimNode& node) : net_(net), node_(node) {}
  Result<Endpoint> listen(const Endpoint& at, ListenHandler* handler) override;
  void stop_listening(const Endpoint& bound) override;
  Result<ConnId> connect(const Endpoint& to, ConnectionHandler* handler) override;
  Status send(ConnId conn, Bytes frame) override;
  size_t queued_bytes(ConnId conn) const override;
  void set_reading(ConnId conn, bool enabled) override;
  void close(ConnId conn) override;
  void release(ConnId conn) override;

  // The process died: its listeners vanish and its connections reset.
  void on_process_crash();

 private:
  SimNetwork& net_;
  SimNode& node_;
};

}  // namespace strata::sim
