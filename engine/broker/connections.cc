#include "engine/broker/connections.h"

namespace strata::broker {

Connections::~Connections() { close_all(); }

void Connections::close_all() {
  std::vector<ConnId> ids;
  ids.reserve(conns_.size());
  for (const auto& [id, c] : conns_) ids.push_back(id);
  // The broker is going away: release, so that no on_closed reaches a destroyed handler.
  for (ConnId id : ids) runtime_.transport().release(id);
  conns_.clear();
}

ConnectionHandler* Connections::on_accept(ConnId conn, const Endpoint& peer) {
  STRATA_ASSERT(conns_.count(conn) == 0, "connection id reused while open");
  conns_[conn].peer = peer;
  runtime_.debug("net", "accepted " + peer.to_string());
  return this;
}

void Connections::on_frame(ConnId id, Bytes frame) {
  auto it = conns_.find(id);
  if (it == conns_.end() || it->second.closing) return;
  Conn& c = it->second;
  SlotRef slot{id, c.next_slot++};
  c.pending.emplace_back(std::nullopt);
  c.skipped.push_back(false);
  update_reading(id, c);
  sink_.on_request(slot, c.peer, std::move(frame));  // may respond synchronously
}

void Connections::on_closed(ConnId id, const Status& why) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  runtime_.debug("net", "closed " + it->second.peer.to_string() + ": " + why.to_string());
  conns_.erase(it);
  sink_.on_connection_closed(id);
}

void Connections::on_drained(ConnId id) {
  auto it = conns_.find(id);
  if (it != conns_.end()) update_reading(id, it->second);
}

void Connections::respond(SlotRef slot, Bytes frame) { complete(slot, std::move(frame)); }

void Connections::skip(SlotRef slot) { complete(slot, std::nullopt); }

void Connections::complete(SlotRef ref, std::optional<Bytes> frame) {
  auto it = conns_.find(ref.conn);
  if (it == conns_.end()) return;  // the client went away while we worked
  Conn& c = it->second;
  STRATA_ASSERT(ref.slot >= c.head_slot && ref.slot < c.next_slot, "slot not outstanding");
  size_t index = ref.slot - c.head_slot;
  STRATA_ASSERT(!c.pending[index].has_value() && !c.skipped[index], "slot completed twice");
  if (frame) {
    c.pending[index] = std::move(frame);
  } else {
    c.skipped[index] = true;
  }
  flush_ready(ref.conn, c);
}

void Connections::flush_ready(ConnId id, Conn& c) {
  while (!c.pending.empty() && (c.pending.front().has_value() || c.skipped.front())) {
    if (c.pending.front().has_value()) {
      Status s = runtime_.transport().send(id, std::move(*c.pending.front()));
      if (!s) runtime_.debug("net", "send failed: " + s.to_string());
    }
    c.pending.pop_front();
    c.skipped.pop_front();
    ++c.head_slot;
  }
  update_reading(id, c);
}

void Connections::update_reading(ConnId id, Conn& c) {
  bool over = c.pending.size() >= limits::kInflightRequestsPerConnMax ||
              runtime_.transport().queued_bytes(id) >= limits::kSendQueueBytesPerConnMax;
  bool want = !over && !c.closing;
  if (want != c.reading) {
    c.reading = want;
    runtime_.transport().set_reading(id, want);
  }
}

size_t Connections::inflight(ConnId conn) const {
  auto it = conns_.find(conn);
  return it == conns_.end() ? 0 : it->second.pending.size();
}

void Connections::close(ConnId id, std::string_view reason) {
  auto it = conns_.find(id);
  if (it == conns_.end() || it->second.closing) return;
  runtime_.warn("net", "closing connection from " + it->second.peer.to_string() + ": " +
                           std::string(reason));
  it->second.closing = true;
  runtime_.transport().close(id);
}

}  // namespace strata::broker
