// PosixTransport: Kafka-framed TCP connections on the PosixRuntime's epoll loop.
//
// Frames are a 4-byte big-endian size prefix plus payload. Inbound bytes are reassembled
// across arbitrary splits; a size that is negative or above limits::kFrameBytesMax closes that
// connection only. Outbound frames queue and are written with writev.
//
// Re-entrancy: handlers may call any Transport method from any callback, including closing
// their own connection inside on_frame. A connection's record lives until its on_closed has
// run; on_closed is always deferred to the loop (never called from inside send/close/connect)
// and runs exactly once. Connection ids are never reused, so a stale id is simply "gone".
//
// Ownership: created and owned by PosixRuntime. Handlers are borrowed and must stay alive
// until their connection's on_closed (or until the runtime is destroyed).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "engine/base/limits.h"
#include "engine/runtime/runtime.h"

namespace strata {

class PosixRuntime;

class PosixTransport final : public Transport {
 public:
  PosixTransport(PosixRuntime& rt, size_t connections_max);
  // Closes every socket without calling handlers: they may already be gone.
  ~PosixTransport() override;
  PosixTransport(const PosixTransport&) = delete;
  PosixTransport& operator=(const PosixTransport&) = delete;

  Result<Endpoint> listen(const Endpoint& at, ListenHandler* handler) override;
  void stop_listening(const Endpoint& bound) override;
  Result<ConnId> connect(const Endpoint& to, ConnectionHandler* handler) override;
  Status send(ConnId conn, Bytes frame) override;
  size_t queued_bytes(ConnId conn) const override;
  void set_reading(ConnId conn, bool enabled) override;
  void close(ConnId conn) override;
  void release(ConnId conn) override;

  // Connections whose on_closed has not yet run.
  size_t connection_count() const { return conns_.size(); }
  // Called by PosixRuntime for every epoll event on a transport socket.
  void on_io(uint64_t token, uint32_t events);

 private:
  struct Conn;
  struct Listener {
    int fd = -1;
    Endpoint bound;
    ListenHandler* handler = nullptr;
    bool paused = false;  // accept refused by the OS (EMFILE): retry after a pause
  };

  // Socket setup.
  Result<ConnId> add_conn(int fd, ConnectionHandler* handler, const Endpoint& peer,
                          bool connecting);
  Status start_connect_attempt(Conn& c);
  void on_connect_ready(Conn& c);
  void fail_connect(Conn& c, Status why);
  void on_accept_ready(uint64_t token);
  void pause_listener(uint64_t token);

  // Inbound.
  void on_readable(Conn& c);
  bool read_once(Conn& c);
  Status parse(Conn& c, const uint8_t* data, size_t n);
  void deliver(Conn& c);
  void resume(ConnId id);

  // Outbound and teardown.
  void flush(Conn& c);
  void after_drain(Conn& c);
  void begin_close(Conn& c, Status why);
  void finalize(Conn& c, Status why);
  void update_interest(Conn& c);

  Conn* find(ConnId id) const;
  void warn(const std::string& message);

  PosixRuntime& rt_;
  size_t connections_max_;
  uint64_t next_conn_id_ = 1;
  uint64_t next_listener_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::map<uint64_t, Listener> listeners_;  // by epoll token
  std::vector<uint8_t> scratch_;            // one read's worth of small frames
};

}  // namespace strata
