// Test helpers for the POSIX transport: an echo server, a recording client and a raw socket
// client that speaks the framing by hand (so tests control exactly how bytes are split).
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "engine/runtime/posix_runtime.h"

namespace strata::test {

using namespace std::chrono_literals;

inline std::unique_ptr<PosixRuntime> make_runtime(PosixRuntimeOptions o = {}) {
  auto rt = PosixRuntime::create(o);
  REQUIRE(rt.is_ok());
  return std::move(rt).value();
}

inline Bytes frame_of(const std::string& s) {
  return Bytes(s.begin(), s.end());
}
inline std::string text_of(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

inline Bytes with_prefix(const Bytes& payload) {
  Bytes out(4);
  store_be32(out.data(), uint32_t(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// Records everything a connection reports.
struct Recorder : ConnectionHandler {
  std::map<uint64_t, std::vector<Bytes>> frames;
  std::map<uint64_t, int> closed;  // on_closed count per connection
  std::map<uint64_t, Status> closed_why;
  std::map<uint64_t, Status> connected;
  int drained = 0;
  int total_frames = 0;

  void on_connected(ConnId c, const Status& s) override { connected[c.value()] = s; }
  void on_frame(ConnId c, Bytes f) override {
    frames[c.value()].push_back(std::move(f));
    ++total_frames;
  }
  void on_closed(ConnId c, const Status& why) override {
    ++closed[c.value()];
    closed_why[c.value()] = why;
  }
  void on_drained(ConnId) override { ++drained; }
};

// Echoes every frame back; optional hooks let a test misbehave inside callbacks.
struct EchoServer : ListenHandler, Recorder {
  Transport& t;
  std::vector<ConnId> accepted;
  std::function<void(ConnId, const Bytes&)> on_frame_hook;
  bool echo = true;

  explicit EchoServer(Transport& transport) : t(transport) {}
  ConnectionHandler* on_accept(ConnId c, const Endpoint&) override {
    accepted.push_back(c);
    return this;
  }
  void on_frame(ConnId c, Bytes f) override {
    if (on_frame_hook) on_frame_hook(c, f);
    if (echo) (void)t.send(c, f);
    Recorder::on_frame(c, std::move(f));
  }
};

// A blocking-connect, non-blocking-read socket used from the loop's thread.
struct RawClient {
  int fd = -1;
  Bytes in;
  bool eof = false;

  explicit RawClient(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawClient() {
    if (fd >= 0) ::close(fd);
  }
  void write_all(const Bytes& b) {
    size_t done = 0;
    while (done < b.size()) {
      ssize_t n = ::send(fd, b.data() + done, b.size() - done, MSG_NOSIGNAL);
      REQUIRE(n > 0);
      done += size_t(n);
    }
  }
  // Reads whatever is available without blocking.
  void poll_read() {
    uint8_t buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        in.insert(in.end(), buf, buf + n);
        continue;
      }
      if (n == 0) eof = true;
      if (n < 0 && errno == ECONNRESET) eof = true;
      return;
    }
  }
  // Complete frames received so far (payloads), consuming them.
  std::vector<Bytes> take_frames() {
    std::vector<Bytes> out;
    size_t pos = 0;
    while (in.size() - pos >= 4) {
      size_t n = load_be32(in.data() + pos);
      if (in.size() - pos - 4 < n) break;
      out.emplace_back(in.begin() + long(pos + 4), in.begin() + long(pos + 4 + n));
      pos += 4 + n;
    }
    in.erase(in.begin(), in.begin() + long(pos));
    return out;
  }
};

}  // namespace strata::test
