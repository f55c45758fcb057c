// PosixTransport over loopback TCP: framing, backpressure, closing and limits.
#include <fcntl.h>

#include <catch2/catch.hpp>

#include "tests/runtime/transport_harness.h"

namespace strata {
namespace {

using namespace std::chrono_literals;
using test::EchoServer;
using test::frame_of;
using test::make_runtime;
using test::RawClient;
using test::Recorder;
using test::text_of;
using test::with_prefix;

// A runtime with an echo server listening on an ephemeral loopback port.
struct Fixture {
  std::unique_ptr<PosixRuntime> rt;
  EchoServer server;
  Endpoint bound;
  std::vector<std::string> log;

  explicit Fixture(PosixRuntimeOptions o = {}) : rt(make_runtime(o)), server(rt->transport()) {
    rt->set_log_sink([this](std::string_view l) { log.emplace_back(l); });
    auto ep = rt->transport().listen({"127.0.0.1", 0}, &server);
    REQUIRE(ep.is_ok());
    bound = *ep;
    REQUIRE(bound.port != 0);
  }
  bool run_until(const std::function<bool()>& done) { return rt->run_until(done, 5s); }
  bool logged(const std::string& needle) const {
    for (const auto& l : log) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }
};

TEST_CASE("echo: many frames of varied sizes come back in order") {
  Fixture f;
  Recorder client;
  auto conn = f.rt->transport().connect(f.bound, &client);
  REQUIRE(conn.is_ok());
  REQUIRE(f.run_until([&] { return client.connected.contains(conn->value()); }));
  CHECK(client.connected[conn->value()].is_ok());
  constexpr int kFrames = 2000;
  for (int i = 0; i < kFrames; ++i) {
    REQUIRE(
        f.rt->transport()
            .send(*conn, frame_of(std::string(size_t(i % 300), 'a' + i % 26) + std::to_string(i)))
            .is_ok());
  }
  REQUIRE(f.run_until([&] { return client.total_frames == kFrames; }));
  const auto& got = client.frames[conn->value()];
  for (int i = 0; i < kFrames; ++i) {
    REQUIRE(text_of(got[size_t(i)]) ==
            std::string(size_t(i % 300), 'a' + i % 26) + std::to_string(i));
  }
  f.rt->transport().close(*conn);
  REQUIRE(f.run_until([&] { return client.closed[conn->value()] == 1 && f.server.closed.size(); }));
  CHECK(client.closed_why[conn->value()].is_ok());  // a local close reports ok
  CHECK(f.rt->posix_transport().connection_count() == 0);
}

TEST_CASE("a frame sent one byte at a time, and several frames in one write") {
  Fixture f;
  RawClient raw(f.bound.port);
  Bytes wire = with_prefix(frame_of("one byte at a time"));
  for (uint8_t b : wire) {
    raw.write_all(Bytes{b});
    f.rt->run_once(1ms);  // let the server read each byte separately
    f.rt->run_once(0ms);
  }
  REQUIRE(f.run_until([&] { return f.server.total_frames == 1; }));
  Bytes three;
  for (const char* s : {"alpha", "", "gamma"}) {
    Bytes w = with_prefix(frame_of(s));
    three.insert(three.end(), w.begin(), w.end());
  }
  raw.write_all(three);
  REQUIRE(f.run_until([&] { return f.server.total_frames == 4; }));
  const auto& got = f.server.frames.begin()->second;
  CHECK(text_of(got[0]) == "one byte at a time");
  CHECK(text_of(got[1]) == "alpha");
  CHECK(text_of(got[2]).empty());
  CHECK(text_of(got[3]) == "gamma");
  // The echoes come back framed the same way.
  std::vector<Bytes> echoed;
  REQUIRE(f.run_until([&] {
    raw.poll_read();
    for (auto& b : raw.take_frames()) echoed.push_back(std::move(b));
    return echoed.size() == 4;
  }));
  CHECK(text_of(echoed[3]) == "gamma");
}

TEST_CASE("an oversize or negative frame size closes only that connection") {
  int32_t bad = GENERATE(limits::kFrameBytesMax + 1, -1);
  Fixture f;
  Recorder good;
  auto conn = f.rt->transport().connect(f.bound, &good);
  REQUIRE(conn.is_ok());
  RawClient raw(f.bound.port);
  Bytes prefix(4);
  store_be32(prefix.data(), uint32_t(bad));
  raw.write_all(prefix);
  REQUIRE(f.run_until([&] {
    raw.poll_read();
    return raw.eof;
  }));
  CHECK(f.logged("frame size " + std::to_string(bad) + " from 127.0.0.1:"));
  REQUIRE(f.run_until([&] { return f.server.closed.size() == 1; }));
  CHECK(f.server.closed_why.begin()->second.code() == StatusCode::kCorruption);
  // The well-behaved client is unaffected.
  REQUIRE(f.rt->transport().send(*conn, frame_of("still here")).is_ok());
  REQUIRE(f.run_until([&] { return good.total_frames == 1; }));
  CHECK(text_of(good.frames[conn->value()][0]) == "still here");
  CHECK(good.closed.empty());
}

TEST_CASE("pipelined frames in one write are answered in order") {
  Fixture f;
  RawClient raw(f.bound.port);
  Bytes wire;
  for (int i = 0; i < 200; ++i) {
    Bytes w = with_prefix(frame_of("req-" + std::to_string(i)));
    wire.insert(wire.end(), w.begin(), w.end());
  }
  raw.write_all(wire);
  std::vector<Bytes> replies;
  REQUIRE(f.run_until([&] {
    raw.poll_read();
    for (auto& b : raw.take_frames()) replies.push_back(std::move(b));
    return replies.size() == 200;
  }));
  for (int i = 0; i < 200; ++i) CHECK(text_of(replies[size_t(i)]) == "req-" + std::to_string(i));
}

TEST_CASE("set_reading(false) holds frames back until re-enabled, in order") {
  Fixture f;
  f.server.echo = false;
  f.server.on_frame_hook = [&](ConnId c, const Bytes&) {
    if (f.server.total_frames == 0) f.rt->transport().set_reading(c, false);
  };
  RawClient raw(f.bound.port);
  Bytes wire;
  for (int i = 0; i < 5; ++i) {
    Bytes w = with_prefix(frame_of(std::to_string(i)));
    wire.insert(wire.end(), w.begin(), w.end());
  }
  raw.write_all(wire);  // all five arrive in one read: four wait in the buffer
  REQUIRE(f.run_until([&] { return f.server.total_frames == 1; }));
  for (int i = 0; i < 20; ++i) f.rt->run_once(1ms);
  CHECK(f.server.total_frames == 1);
  raw.write_all(with_prefix(frame_of("5")));
  for (int i = 0; i < 5; ++i) f.rt->run_once(1ms);
  CHECK(f.server.total_frames == 1);
  f.rt->transport().set_reading(f.server.accepted.at(0), true);
  CHECK(f.server.total_frames == 1);  // delivery happens from the loop, not inside the call
  REQUIRE(f.run_until([&] { return f.server.total_frames == 6; }));
  const auto& got = f.server.frames.begin()->second;
  for (int i = 0; i < 6; ++i) CHECK(text_of(got[size_t(i)]) == std::to_string(i));
}

TEST_CASE("close() right after a large send flushes it, then reports on_closed once") {
  Fixture f;
  f.server.echo = false;
  Bytes big(8 * 1024 * 1024, 0x5a);
  bool closed_inside_call = false;
  f.server.on_frame_hook = [&](ConnId c, const Bytes&) {
    REQUIRE(f.rt->transport().send(c, big).is_ok());
    CHECK(f.rt->transport().queued_bytes(c) > 0);  // too big for the socket buffer
    f.rt->transport().close(c);
    closed_inside_call = !f.server.closed.empty();
    CHECK_FALSE(f.rt->transport().send(c, frame_of("late")).is_ok());
  };
  Recorder client;
  auto conn = f.rt->transport().connect(f.bound, &client);
  REQUIRE(conn.is_ok());
  REQUIRE(f.rt->transport().send(*conn, frame_of("give me 8 MB")).is_ok());
  REQUIRE(f.run_until([&] { return client.closed.size() == 1 && f.server.closed.size() == 1; }));
  CHECK_FALSE(closed_inside_call);
  REQUIRE(client.frames[conn->value()].size() == 1);
  CHECK(client.frames[conn->value()][0] == big);
  CHECK(client.closed_why[conn->value()].code() == StatusCode::kClosed);
  CHECK(f.server.closed.begin()->second == 1);
}

TEST_CASE("a handler closing its connection inside on_frame gets no more frames") {
  Fixture f;
  f.server.echo = false;
  f.server.on_frame_hook = [&](ConnId c, const Bytes&) {
    f.rt->transport().close(c);
    f.rt->transport().close(c);  // twice: harmless
    CHECK(f.server.closed.empty());
  };
  RawClient raw(f.bound.port);
  Bytes wire;
  for (int i = 0; i < 3; ++i) {
    Bytes w = with_prefix(frame_of("x"));
    wire.insert(wire.end(), w.begin(), w.end());
  }
  raw.write_all(wire);
  REQUIRE(f.run_until([&] { return f.server.closed.size() == 1; }));
  for (int i = 0; i < 5; ++i) f.rt->run_once(1ms);
  CHECK(f.server.total_frames == 1);
  CHECK(f.server.closed.begin()->second == 1);
}

TEST_CASE("a 10 MB frame makes the round trip intact, on_drained follows a waiting send") {
  Fixture f;
  Recorder client;
  auto conn = f.rt->transport().connect(f.bound, &client);
  REQUIRE(conn.is_ok());
  Bytes big(10 * 1024 * 1024);
  for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t((i * 131) >> 3);
  REQUIRE(f.rt->transport().send(*conn, big).is_ok());  // queued until connected
  CHECK(f.rt->transport().queued_bytes(*conn) == big.size() + 4);
  REQUIRE(f.run_until([&] { return client.total_frames == 1; }));
  CHECK(client.frames[conn->value()][0] == big);
  CHECK(f.rt->transport().queued_bytes(*conn) == 0);
  CHECK(f.server.drained >= 1);  // the echo could not be written in one go
}

TEST_CASE("a peer that half-closes after its request still gets the reply") {
  Fixture f;
  RawClient raw(f.bound.port);
  raw.write_all(with_prefix(frame_of("last words")));
  ::shutdown(raw.fd, SHUT_WR);
  std::vector<Bytes> replies;
  REQUIRE(f.run_until([&] {
    raw.poll_read();
    for (auto& b : raw.take_frames()) replies.push_back(std::move(b));
    return raw.eof;
  }));
  REQUIRE(replies.size() == 1);
  CHECK(text_of(replies[0]) == "last words");
  REQUIRE(f.run_until([&] { return f.server.closed.size() == 1; }));
  CHECK(f.server.closed_why.begin()->second.code() == StatusCode::kClosed);
}

TEST_CASE("connecting to a closed port reports an error, then on_closed once") {
  auto rt = make_runtime();
  // Find a port nobody listens on: bind one, then close it.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  uint16_t port = ntohs(a.sin_port);
  ::close(s);

  Recorder client;
  auto conn = rt->transport().connect({"127.0.0.1", port}, &client);
  REQUIRE(conn.is_ok());
  CHECK(client.connected.empty());  // never reported from inside connect()
  REQUIRE(rt->run_until([&] { return client.closed.size() == 1; }, 5s));
  REQUIRE(client.connected.contains(conn->value()));
  CHECK(client.connected[conn->value()].code() == StatusCode::kIoError);
  CHECK(client.closed[conn->value()] == 1);
  CHECK_FALSE(rt->transport().send(*conn, frame_of("x")).is_ok());
  CHECK_FALSE(rt->transport().connect({"no-such-host.invalid", 1}, &client).is_ok());
}

TEST_CASE("host names and IPv6 loopback") {
  auto rt = make_runtime();
  EchoServer server(rt->transport());
  const char* host = GENERATE("localhost", "::1");
  auto bound = rt->transport().listen({host, 0}, &server);
  if (!bound.is_ok()) {
    WARN("cannot listen on " << host << ": " << bound.status().to_string());
    return;
  }
  Recorder client;
  auto conn = rt->transport().connect(*bound, &client);
  REQUIRE(conn.is_ok());
  REQUIRE(rt->transport().send(*conn, frame_of(host)).is_ok());
  REQUIRE(rt->run_until([&] { return client.total_frames == 1; }, 5s));
  CHECK(text_of(client.frames[conn->value()][0]) == host);
  rt->transport().stop_listening(*bound);
  Recorder refused;
  auto again = rt->transport().connect(*bound, &refused);
  REQUIRE(again.is_ok());
  REQUIRE(rt->run_until([&] { return refused.closed.size() == 1; }, 5s));
  CHECK_FALSE(refused.connected[again->value()].is_ok());
}

TEST_CASE("connections beyond the limit are refused with a warning") {
  PosixRuntimeOptions o;
  o.connections_max = 2;
  Fixture f(o);
  RawClient a(f.bound.port), b(f.bound.port), c(f.bound.port);
  REQUIRE(f.run_until([&] {
    c.poll_read();
    return c.eof;
  }));
  CHECK(f.server.accepted.size() == 2);
  CHECK(f.logged("refusing connection from 127.0.0.1:"));
  Recorder extra;
  CHECK(f.rt->transport().connect(f.bound, &extra).status().code() ==
        StatusCode::kResourceExhausted);
}

TEST_CASE("stress: 1000 connections open, echo and close") {
  Fixture f;
  constexpr int kConns = 1000;
  Recorder client;
  std::vector<ConnId> conns;
  for (int i = 0; i < kConns; ++i) {
    auto c = f.rt->transport().connect(f.bound, &client);
    REQUIRE(c.is_ok());
    REQUIRE(f.rt->transport().send(*c, frame_of("hi " + std::to_string(i))).is_ok());
    conns.push_back(*c);
    if (i % 100 == 99) f.rt->run_once(0ms);
  }
  REQUIRE(f.run_until([&] { return client.total_frames == kConns; }));
  for (int i = 0; i < kConns; ++i) {
    REQUIRE(text_of(client.frames[conns[size_t(i)].value()].at(0)) == "hi " + std::to_string(i));
    f.rt->transport().close(conns[size_t(i)]);
  }
  REQUIRE(f.run_until(
      [&] { return client.closed.size() == kConns && f.server.closed.size() == kConns; }));
  for (auto& [id, n] : client.closed) REQUIRE(n == 1);
  for (auto& [id, n] : f.server.closed) REQUIRE(n == 1);
  CHECK(f.rt->posix_transport().connection_count() == 0);
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {
TEST_CASE("a frame of exactly the maximum size is accepted, read in linear time") {
  Fixture f;
  f.server.echo = false;
  RawClient raw(f.bound.port);
  Bytes payload(size_t(limits::kFrameBytesMax), 0x33);
  Bytes prefix(4);
  store_be32(prefix.data(), uint32_t(payload.size()));
  raw.write_all(prefix);
  size_t sent = 0;
  // The raw socket blocks when the buffer fills, so feed it in slices between loop turns.
  int fl = ::fcntl(raw.fd, F_GETFL);
  ::fcntl(raw.fd, F_SETFL, fl | O_NONBLOCK);
  REQUIRE(f.run_until([&] {
    while (sent < payload.size()) {
      ssize_t n = ::send(raw.fd, payload.data() + sent, payload.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += size_t(n);
    }
    return f.server.total_frames == 1;
  }));
  CHECK(f.server.frames.begin()->second[0].size() == payload.size());
}
}  // namespace
}  // namespace strata
