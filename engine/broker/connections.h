// Client connections of a broker: pipelined requests answered strictly in arrival order, with
// bounded in-flight work per connection.
//
// Each request reserves a response slot when it arrives. Handlers may finish out of order
// (a long-polling Fetch behind a quick Metadata); a response is sent only once every earlier
// slot of that connection has been filled or skipped (acks=0 produce has no response).
// A connection stops being read while it has kInflightRequestsPerConnMax unanswered requests
// or more than kSendQueueBytesPerConnMax queued output, and resumes when it drains.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>

#include "engine/base/limits.h"
#include "engine/runtime/runtime.h"

namespace strata::broker {

struct SlotRef {
  ConnId conn;
  uint64_t slot = 0;
};

// Receives complete request frames. Implemented by the broker's dispatcher.
class RequestSink {
 public:
  virtual ~RequestSink() = default;
  virtual void on_request(SlotRef slot, const Endpoint& peer, Bytes frame) = 0;
  virtual void on_connection_closed(ConnId conn) = 0;
};

class Connections final : public ListenHandler, public ConnectionHandler {
 public:
  Connections(Runtime& runtime, RequestSink& sink) : runtime_(runtime), sink_(sink) {}
  ~Connections() override;
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;

  // Answers a request. Unknown (already closed) connections are ignored.
  void respond(SlotRef slot, Bytes frame);
  // The request gets no response (acks=0 produce).
  void skip(SlotRef slot);
  // Closes one connection (malformed input); others are unaffected.
  void close(ConnId conn, std::string_view reason);
  bool is_open(ConnId conn) const { return conns_.count(conn) > 0; }
  size_t open_count() const { return conns_.size(); }
  size_t inflight(ConnId conn) const;
  void close_all();

  // ListenHandler / ConnectionHandler.
  ConnectionHandler* on_accept(ConnId conn, const Endpoint& peer) override;
  void on_frame(ConnId conn, Bytes frame) override;
  void on_closed(ConnId conn, const Status& why) override;
  void on_drained(ConnId conn) override;

 private:
  struct Conn {
    Endpoint peer;
    uint64_t next_slot = 0;  // slot number of the next request
    uint64_t head_slot = 0;  // oldest unanswered slot
    // Slots [head_slot, next_slot): nullopt = pending; Bytes = ready; empty marker = skipped.
    std::deque<std::optional<Bytes>> pending;
    std::deque<bool> skipped;
    bool reading = true;
    bool closing = false;
  };

  void complete(SlotRef slot, std::optional<Bytes> frame);
  void flush_ready(ConnId id, Conn& c);
  void update_reading(ConnId id, Conn& c);

  Runtime& runtime_;
  RequestSink& sink_;
  std::unordered_map<ConnId, Conn> conns_;
};

}  // namespace strata::broker
