// SimTransport: the Transport that engine code on a simulated node uses.
#include "sim/sim_network.h"

namespace strata::sim {

Result<Endpoint> SimTransport::listen(const Endpoint& at, ListenHandler* handler) {
  STRATA_ASSERT(handler != nullptr);
  // A node listens on its own name whatever host the configuration says ("0.0.0.0" etc.).
  Endpoint bound{node_.name(), at.port};
  if (bound.port == 0) bound.port = net_.next_ephemeral_port_++;
  if (net_.listeners_.count(bound)) {
    return Status::already_exists("address in use: " + bound.to_string());
  }
  net_.listeners_[bound] = SimNetwork::Listener{node_.host(), handler};
  return bound;
}

void SimTransport::stop_listening(const Endpoint& bound) { net_.listeners_.erase(bound); }

Result<ConnId> SimTransport::connect(const Endpoint& to, ConnectionHandler* handler) {
  STRATA_ASSERT(handler != nullptr);
  int target = net_.host_of(to.host);
  if (target < 0) return Status::not_found("unknown host " + to.host);
  ConnId id{net_.next_conn_++};
  SimNetwork::Side& s = net_.sides_[id];
  s.host = node_.host();
  s.handler = handler;
  int self = node_.host();
  SimNode& client = node_;
  auto fail = [&net = net_, &client, id, handler](Duration after, Status why) {
    client.post(after, [&net, id, handler, why] {
      auto* side = net.side(id);
      if (side == nullptr || !side->open) return;
      handler->on_connected(id, why);
      net.close_side(id, why, true);
    });
  };
  if (!net_.link_up(self, target) || !net_.link_up(target, self)) {
    fail(net_.tcp_timeout_, Status::timed_out("connect to " + to.to_string() + " timed out"));
    return id;
  }
  Duration there = net_.sample_delay(self, target);
  // The SYN goes through the world, not the target process: a host whose process is down
  // (crashed, not yet restarted) still answers with a reset — "connection refused".
  net_.world().schedule(there, [this, id, to, target, self, handler, fail] {
    auto lit = net_.listeners_.find(to);
    SimNetwork::Side* client_side = net_.side(id);
    if (client_side == nullptr || !client_side->open) return;
    if (!net_.node(target).up() || lit == net_.listeners_.end() ||
        lit->second.host != target) {
      fail(net_.sample_delay(target, self), Status::unavailable("connection refused by " +
                                                                to.to_string()));
      return;
    }
    ListenHandler* listener = lit->second.handler;
    // The kernel completes the handshake; the process accepts when it next runs.
    net_.node(target).post(Duration(0), [this, id, target, self, handler, listener] {
      SimNetwork::Side* cs = net_.side(id);
      if (cs == nullptr || !cs->open) return;
      ConnId server_id{net_.next_conn_++};
      SimNetwork::Side& srv = net_.sides_[server_id];
      srv.host = target;
      srv.peer = id;
      cs->peer = server_id;
      srv.handler = listener->on_accept(
          server_id, Endpoint{net_.node(self).name(), uint16_t(50000 + id.value() % 10000)});
      net_.node(self).post(net_.sample_delay(target, self), [this, id, handler] {
        auto* side = net_.side(id);
        if (side != nullptr && side->open) handler->on_connected(id, ok_status());
      });
    });
  });
  return id;
}

Status SimTransport::send(ConnId conn, Bytes frame) {
  SimNetwork::Side* s = net_.side(conn);
  if (s == nullptr || !s->open || s->host != node_.host()) {
    return Status::closed("connection is closed");
  }
  if (s->peer.value() == 0) return Status::unavailable("connection not established yet");
  net_.transmit(conn, std::move(frame));
  return ok_status();
}

size_t SimTransport::queued_bytes(ConnId conn) const {
  auto it = net_.sides_.find(conn);
  if (it == net_.sides_.end()) return 0;
  size_t stalled = 0;
  for (const auto& f : it->second.stalled) stalled += f.size();
  return it->second.in_flight_bytes + stalled;
}

void SimTransport::set_reading(ConnId conn, bool enabled) {
  SimNetwork::Side* s = net_.side(conn);
  if (s == nullptr || s->reading == enabled) return;
  s->reading = enabled;
  if (!enabled || s->inbox.empty()) return;
  // Deliver what arrived while reading was off, from the loop (never re-entrantly).
  node_.post(Duration(0), [this, conn] {
    SimNetwork::Side* side = net_.side(conn);
    while (side != nullptr && side->open && side->reading && !side->inbox.empty()) {
      Bytes f = std::move(side->inbox.front());
      side->inbox.pop_front();
      side->handler->on_frame(conn, std::move(f));
      side = net_.side(conn);
    }
  });
}

void SimTransport::close(ConnId conn) {
  SimNetwork::Side* s = net_.side(conn);
  if (s == nullptr || !s->open) return;
  ConnId peer = s->peer;
  int64_t after_data = s->last_arrival_ns + 1 - node_.now().ns;
  net_.close_side(conn, ok_status(), true);
  SimNetwork::Side* p = net_.side(peer);
  if (p == nullptr) return;
  // The FIN follows the data already in flight.
  Duration delay = std::max(net_.sample_delay(node_.host(), p->host), Duration(after_data));
  net_.node(p->host).post(delay, [this, peer] {
    net_.close_side(peer, Status::closed("connection closed by peer"), true);
  });
}

void SimTransport::release(ConnId conn) {
  SimNetwork::Side* s = net_.side(conn);
  if (s == nullptr) return;
  s->handler = &detached_connection_handler();
  close(conn);
}

void SimTransport::on_process_crash() {
  for (auto it = net_.listeners_.begin(); it != net_.listeners_.end();) {
    it = it->second.host == node_.host() ? net_.listeners_.erase(it) : std::next(it);
  }
  std::vector<std::pair<ConnId, ConnId>> mine;
  for (auto& [id, s] : net_.sides_) {
    if (s.host == node_.host()) mine.emplace_back(id, s.peer);
  }
  for (auto [id, peer] : mine) {
    net_.close_side(id, Status::closed("process crashed"), false);
    SimNetwork::Side* p = net_.side(peer);
    if (p == nullptr) continue;
    // The kernel of the crashed machine resets its connections; peers hear it a delay later.
    // Init-capture: clang before 16 cannot capture a structured binding by name.
    net_.node(p->host).post(net_.sample_delay(node_.host(), p->host), [this, peer = peer] {
      net_.close_side(peer, Status::io_error("connection reset by peer"), true);
    });
  }
}

}  // namespace strata::sim
