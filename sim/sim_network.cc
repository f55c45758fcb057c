#include "sim/sim_network.h"

#include <algorithm>
#include <boost/graph/adjacency_matrix.hpp>
#include <boost/graph/strong_components.hpp>

namespace strata::sim {

// Directed graph of links that are up: an edge u→v means frames from u reach v.
struct SimNetwork::LinkGraph {
  using Graph = boost::adjacency_matrix<boost::directedS>;
  Graph g;
  explicit LinkGraph(size_t n) : g(n) {}
};

SimNetwork::SimNetwork(SimWorld& world)
    : world_(world), graph_(std::make_unique<LinkGraph>(0)) {}

SimNetwork::~SimNetwork() = default;

int SimNetwork::add_host(SimNode* node) {
  STRATA_ASSERT(node != nullptr);
  size_t n = nodes_.size() + 1;
  auto bigger = std::make_unique<LinkGraph>(n);
  for (size_t u = 0; u < n; ++u) {
    for (size_t v = 0; v < n; ++v) {
      bool was_up = u + 1 < n && v + 1 < n ? link_up(int(u), int(v)) : true;
      if (u != v && was_up) boost::add_edge(u, v, bigger->g);
    }
  }
  graph_ = std::move(bigger);
  nodes_.push_back(node);
  return int(n - 1);
}

int SimNetwork::host_of(const std::string& name) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->name() == name) return int(i);
  }
  return -1;
}

bool SimNetwork::link_up(int from, int to) const {
  if (from == to) return true;
  return boost::edge(size_t(from), size_t(to), graph_->g).second;
}

void SimNetwork::set_link_up(int from, int to, bool up) {
  STRATA_ASSERT(from != to, "a host always reaches itself");
  if (link_up(from, to) == up) return;
  if (up) {
    boost::add_edge(size_t(from), size_t(to), graph_->g);
    release_stalled(from, to);
  } else {
    boost::remove_edge(size_t(from), size_t(to), graph_->g);
  }
  world_.trace("link " + nodes_[from]->name() + "->" + nodes_[to]->name() +
               (up ? " up" : " down"));
}

void SimNetwork::partition(const std::vector<std::vector<int>>& groups) {
  std::vector<int> group_of(nodes_.size(), -1);
  for (size_t g = 0; g < groups.size(); ++g) {
    for (int h : groups[g]) group_of.at(size_t(h)) = int(g);
  }
  for (size_t u = 0; u < nodes_.size(); ++u) {
    for (size_t v = 0; v < nodes_.size(); ++v) {
      if (u == v) continue;
      // Hosts named in no group keep their links (only the named groups are separated).
      bool separated = group_of[u] >= 0 && group_of[v] >= 0 && group_of[u] != group_of[v];
      set_link_up(int(u), int(v), !separated);
    }
  }
}

void SimNetwork::heal_all() {
  for (size_t u = 0; u < nodes_.size(); ++u) {
    for (size_t v = 0; v < nodes_.size(); ++v) {
      if (u != v) set_link_up(int(u), int(v), true);
    }
  }
}

std::vector<std::vector<int>> SimNetwork::components() const {
  std::vector<size_t> comp(nodes_.size());
  size_t n = nodes_.empty() ? 0 : boost::strong_components(graph_->g, comp.data());
  std::vector<std::vector<int>> out(n);
  for (size_t v = 0; v < comp.size(); ++v) out[comp[v]].push_back(int(v));
  std::sort(out.begin(), out.end());
  return out;
}

const LinkParams& SimNetwork::params(int from, int to) const {
  auto it = params_.find({from, to});
  return it == params_.end() ? default_params_ : it->second;
}

Duration SimNetwork::sample_delay(int from, int to) {
  if (from == to) return std::chrono::microseconds(20);  // loopback
  const LinkParams& p = params(from, to);
  Rng& rng = world_.rng();
  int64_t ns = p.latency.count();
  if (p.jitter.count() > 0) ns += int64_t(rng.below(uint64_t(p.jitter.count()) + 1));
  if (p.tail_probability > 0 && rng.chance(p.tail_probability)) ns += p.tail.count();
  if (p.loss > 0) {
    while (rng.chance(p.loss)) ns += p.retransmit.count();  // each loss costs a retransmit
  }
  return Duration(ns);
}

SimNetwork::Side* SimNetwork::side(ConnId id) {
  auto it = sides_.find(id);
  return it == sides_.end() ? nullptr : &it->second;
}

void SimNetwork::transmit(ConnId from_id, Bytes frame) {
  Side* s = side(from_id);
  STRATA_ASSERT(s != nullptr && s->open, "transmit on a closed connection");
  Side* peer = side(s->peer);
  if (peer == nullptr) return;  // the other end is gone; a reset is on its way
  if (!link_up(s->host, peer->host) || !s->stalled.empty()) {
    if (s->stalled.empty()) s->stalled_since_ns = world_.now().ns;
    s->stalled.push_back(std::move(frame));
    check_stalls();
    return;
  }
  // A process stalled in slow I/O sends when the stall ends.
  int64_t depart = std::max(world_.now().ns, nodes_[s->host]->busy_until().ns);
  int64_t arrival = std::max(depart + sample_delay(s->host, peer->host).count(),
                             s->last_arrival_ns + 1);
  s->last_arrival_ns = arrival;
  s->in_flight_bytes += frame.size();
  ConnId to = s->peer;
  nodes_[peer->host]->post(Duration(arrival - world_.now().ns),
                           [this, to, f = std::move(frame)]() mutable { deliver(to, std::move(f)); });
}

void SimNetwork::deliver(ConnId to_id, Bytes frame) {
  Side* t = side(to_id);
  if (t == nullptr || !t->open) return;
  if (Side* from = side(t->peer)) {
    from->in_flight_bytes -= std::min(from->in_flight_bytes, frame.size());
  }
  ++frames_delivered_;
  if (!t->reading || !t->inbox.empty()) {
    t->inbox.push_back(std::move(frame));
    return;
  }
  t->handler->on_frame(to_id, std::move(frame));
}

void SimNetwork::close_side(ConnId id, const Status& why, bool notify_self) {
  Side* s = side(id);
  if (s == nullptr || !s->open) return;
  s->open = false;
  ConnectionHandler* h = s->handler;
  if (!notify_self) {
    sides_.erase(id);
    return;
  }
  nodes_[s->host]->post(Duration(0), [this, id, h, why] {
    sides_.erase(id);
    h->on_closed(id, why);
  });
}

void SimNetwork::release_stalled(int from, int to) {
  for (auto& [id, s] : sides_) {
    Side* peer = side(s.peer);
    if (s.host != from || peer == nullptr || peer->host != to || s.stalled.empty()) continue;
    std::deque<Bytes> frames;
    frames.swap(s.stalled);
    s.stalled_since_ns = -1;
    for (auto& f : frames) transmit(id, std::move(f));
  }
}

void SimNetwork::check_stalls() {
  if (stall_check_scheduled_) return;
  stall_check_scheduled_ = true;
  world_.schedule(std::chrono::seconds(1), [this] {
    stall_check_scheduled_ = false;
    bool any = false;
    std::vector<ConnId> expired;
    for (auto& [id, s] : sides_) {
      if (s.stalled.empty() || !s.open) continue;
      any = true;
      if (world_.now().ns - s.stalled_since_ns >= tcp_timeout_.count()) expired.push_back(id);
    }
    for (ConnId id : expired) {
      Side* s = side(id);
      if (s == nullptr) continue;
      ConnId peer = s->peer;
      world_.trace("tcp timeout " + nodes_[s->host]->name());
      close_side(id, Status::timed_out("connection timed out"), true);
      close_side(peer, Status::timed_out("connection timed out"), true);
    }
    if (any) check_stalls();
  });
}

void SimNetwork::reset_connections(int a, int b) {
  std::vector<ConnId> ids;
  for (auto& [id, s] : sides_) {
    Side* peer = side(s.peer);
    if (peer != nullptr && ((s.host == a && peer->host == b) || (s.host == b && peer->host == a))) {
      ids.push_back(id);
    }
  }
  for (ConnId id : ids) close_side(id, Status::io_error("connection reset by peer"), true);
  if (!ids.empty()) world_.trace("reset " + nodes_[a]->name() + "<->" + nodes_[b]->name());
}

}  // namespace strata::sim
