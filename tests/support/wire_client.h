// A raw Kafka wire client for tests: sends encoded requests and collects response frames in
// arrival order, on any runtime. `Loop` drives the connection:
//   Transport& transport();
//   bool run_until(const std::function<bool()>& done, Duration timeout);  // done() at return
// PosixRuntime has both; simulator tests adapt a SimWorld and a node (SimLoop in
// tests/sim/sim_broker_test.cc). Construct with the loop and CTAD picks the type:
// `WireClient c(runtime, endpoint);`.
#pragma once

#include <catch2/catch.hpp>

#include <deque>
#include <functional>
#include <string>
#include <utility>

#include "engine/protocol/framing.h"
#include "engine/protocol/messages.h"
#include "engine/runtime/runtime.h"

namespace strata::testing {

template <class Loop>
class WireClient final : public ConnectionHandler {
 public:
  // `patience` bounds connecting and each receive() (wall or simulated time, per the loop).
  WireClient(Loop& loop, const Endpoint& to, Duration patience = std::chrono::seconds(5))
      : loop_(loop), patience_(patience) {
    auto c = loop_.transport().connect(to, this);
    REQUIRE(c);
    conn_ = *c;
    REQUIRE(loop_.run_until([&] { return connected_ || closed_; }, patience_));
    REQUIRE(connected_);
  }
  ~WireClient() override {
    if (!closed_) {
      loop_.transport().close(conn_);
      loop_.run_until([&] { return closed_; }, patience_);
    }
  }
  WireClient(const WireClient&) = delete;
  WireClient& operator=(const WireClient&) = delete;

  template <class Msg>
  int32_t send(const Msg& msg, int16_t version) {
    proto::RequestHeader h{Msg::kApiKey, version, next_correlation_++, "wire-test"};
    Bytes frame;
    proto::append_request_frame(frame, h, msg);
    send_raw(Bytes(frame.begin() + 4, frame.end()));
    return h.correlation_id;
  }
  void send_raw(Bytes frame_without_size) {
    REQUIRE(loop_.transport().send(conn_, std::move(frame_without_size)));
  }
  // Waits for the next response frame and decodes it as Msg.
  template <class Msg>
  Msg receive(int16_t version, int32_t* correlation_id = nullptr) {
    REQUIRE(loop_.run_until([&] { return !frames_.empty() || closed_; }, patience_));
    REQUIRE_FALSE(frames_.empty());
    // Decoded views (records) point into the frame: keep it until the next receive.
    last_frame_ = std::move(frames_.front());
    frames_.pop_front();
    proto::ResponseHeader h;
    ByteSpan body;
    REQUIRE(proto::parse_response_frame(last_frame_, Msg::kApiKey, version, h, body));
    if (correlation_id) *correlation_id = h.correlation_id;
    Msg out;
    ByteReader r(body);
    REQUIRE(out.decode(r, version));
    return out;
  }
  bool wait_closed(Duration timeout = std::chrono::seconds(5)) {
    return loop_.run_until([&] { return closed_; }, timeout);
  }
  size_t pending_frames() const { return frames_.size(); }

  void on_connected(ConnId, const Status& s) override { connected_ = s.is_ok(); }
  void on_frame(ConnId, Bytes frame) override { frames_.push_back(std::move(frame)); }
  void on_closed(ConnId, const Status&) override { closed_ = true; }

 private:
  Loop& loop_;
  Duration patience_;
  ConnId conn_{0};
  bool connected_ = false;
  bool closed_ = false;
  int32_t next_correlation_ = 1;
  std::deque<Bytes> frames_;
  Bytes last_frame_;
};

}  // namespace strata::testing
