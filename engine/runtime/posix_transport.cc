#include "engine/runtime/posix_transport.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/runtime/posix_runtime.h"

namespace strata {

namespace {

using namespace std::chrono_literals;

// One read into the shared scratch buffer; small frames are parsed out of it.
constexpr size_t kReadChunkBytes = 64 * 1024;
// A large frame body is read straight into its own buffer, at most this much per read(), so the
// zero-fill of vector::resize stays proportional to the bytes actually received.
constexpr size_t kDirectReadBytesMax = 256 * 1024;
// Level-triggered epoll brings a busy socket back next iteration; capping the reads per event
// keeps one fast sender from starving the other connections and the timers.
constexpr int kReadsPerEventMax = 16;
constexpr int kAcceptsPerEventMax = 64;
// Frames per writev; two iovecs each (prefix, payload), well under IOV_MAX (1024).
constexpr size_t kWritevFramesMax = 64;
constexpr size_t kListenersMax = 64;
constexpr int kListenBacklog = 1024;
// close() waits this long for a peer to take the queued output, then gives up.
constexpr Duration kCloseLingerMax = 30s;
// After accept() fails for lack of descriptors, the listener rests this long (level-triggered
// epoll would otherwise report it ready forever).
constexpr Duration kAcceptPause = 100ms;
// Listener tokens have the top bit set; connection tokens are connection ids, which count up
// from 1 and never reach it.
constexpr uint64_t kListenerTokenBit = uint64_t(1) << 63;

static_assert(kWritevFramesMax * 2 <= 1024);
static_assert(kDirectReadBytesMax >= kReadChunkBytes);

template <class Fn>
auto retry_eintr(Fn fn) {
  for (;;) {
    auto r = fn();
    if (r >= 0 || errno != EINTR) return r;
  }
}

struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
};

Endpoint endpoint_of(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  }
  return Endpoint{host, port};
}

// Resolves a host name or literal ("localhost", "127.0.0.1", "::1", "[::1]"; empty means any
// interface when `passive`). IPv4 addresses come first: "localhost" then means 127.0.0.1 on
// both sides unless the user asks for IPv6. Blocking for real names (getaddrinfo); listeners
// and bootstrap servers are resolved rarely, so this is not worth a resolver thread.
Result<std::vector<SockAddr>> resolve(const std::string& host_in, uint16_t port, bool passive) {
  std::string host = host_in;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    return Status::unavailable("resolve '" + host_in + "': " + ::gai_strerror(rc));
  }
  std::vector<SockAddr> out;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    SockAddr a;
    std::memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
    a.len = socklen_t(ai->ai_addrlen);
    out.push_back(a);
  }
  ::freeaddrinfo(list);
  std::stable_partition(out.begin(), out.end(),
                        [](const SockAddr& a) { return a.ss.ss_family == AF_INET; });
  if (out.empty()) return Status::unavailable("resolve '" + host_in + "': no addresses");
  return out;
}

void set_int_option(int fd, int level, int name, int value) {
  // Best effort: a socket that refuses TCP_NODELAY still works, only slower.
  (void)::setsockopt(fd, level, name, &value, sizeof value);
}

int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

Status net_error(std::string_view what, const Endpoint& peer, int err) {
  return Status::io_error(std::string(what) + " " + peer.to_string() + ": " + std::strerror(err));
}

}  // namespace

enum class ConnState { kConnecting, kOpen, kClosing, kDead };

// One connection. Its record outlives the socket: finalize() closes the descriptor at once and
// the record is erased by the deferred task that calls on_closed, so pointers held up the stack
// during a dispatch stay valid.
struct PosixTransport::Conn {
  struct OutFrame {
    uint8_t prefix[4];
    Bytes payload;
    size_t written = 0;  // counts the prefix too
    size_t total() const { return 4 + payload.size(); }
  };

  ConnId id;
  int fd = -1;
  ConnectionHandler* handler = nullptr;
  Endpoint peer;
  ConnState state = ConnState::kOpen;
  bool reading = true;        // the handler wants frames
  bool peer_eof = false;      // read() returned 0
  bool drain_waited = false;  // a write hit EAGAIN since the queue was last empty
  uint32_t interest = 0;      // epoll events currently registered

  // Inbound: the 4-byte size prefix being assembled, then the body; complete frames queue in
  // `ready` until delivered (they wait there while reading is paused).
  uint8_t prefix[4] = {};
  size_t prefix_have = 0;
  bool in_body = false;
  size_t body_need = 0;
  Bytes body;
  std::deque<Bytes> ready;

  std::deque<OutFrame> out;
  size_t queued = 0;

  std::vector<SockAddr> addrs;  // outbound connect: candidates, tried in order
  size_t next_addr = 0;

  Status close_why;  // reported once queued output drains after close()
  TimerId linger{};
  bool has_linger = false;
};

PosixTransport::PosixTransport(PosixRuntime& rt, size_t connections_max)
    : rt_(rt), connections_max_(connections_max), scratch_(kReadChunkBytes) {
  STRATA_ASSERT(connections_max > 0 && connections_max <= limits::kConnectionsMax);
}

PosixTransport::~PosixTransport() {
  for (auto& [id, c] : conns_) {
    if (c->fd >= 0) ::close(c->fd);
  }
  for (auto& [token, l] : listeners_) ::close(l.fd);
}

PosixTransport::Conn* PosixTransport::find(ConnId id) const {
  auto it = conns_.find(id.value());
  return it == conns_.end() ? nullptr : it->second.get();
}

void PosixTransport::warn(const std::string& message) {
  rt_.log(LogLevel::kWarn, "transport", message);
}

// ---------------------------------------------------------------------------------------------
// Listening and accepting

Result<Endpoint> PosixTransport::listen(const Endpoint& at, ListenHandler* handler) {
  STRATA_ASSERT(handler != nullptr);
  if (listeners_.size() >= kListenersMax) {
    return Status::resource_exhausted("too many listeners, max " + std::to_string(kListenersMax));
  }
  STRATA_ASSIGN_OR_RETURN(std::vector<SockAddr> addrs, resolve(at.host, at.port, true));
  Status last;
  for (const SockAddr& a : addrs) {
    int fd = ::socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last = net_error("socket for", at, errno);
      continue;
    }
    set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len) != 0 ||
        ::listen(fd, kListenBacklog) != 0) {
      last = net_error("listen on", at, errno);
      ::close(fd);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
    uint64_t token = kListenerTokenBit | next_listener_id_++;
    if (Status s = rt_.watch_fd(fd, EPOLLIN, token); !s) {
      ::close(fd);
      return s;
    }
    Endpoint ep{at.host, endpoint_of(bound).port};
    listeners_[token] = Listener{fd, ep, handler, false};
    rt_.log(LogLevel::kInfo, "transport", "listening on " + endpoint_of(bound).to_string());
    return ep;
  }
  STRATA_ASSERT(!last.is_ok());
  return last;
}

void PosixTransport::stop_listening(const Endpoint& bound) {
  for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
    if (it->second.bound != bound) continue;
    rt_.unwatch_fd(it->second.fd);
    ::close(it->second.fd);
    listeners_.erase(it);
    return;
  }
}

void PosixTransport::pause_listener(uint64_t token) {
  Listener& l = listeners_.at(token);
  if (l.paused) return;
  l.paused = true;
  (void)rt_.rewatch_fd(l.fd, 0, token);
  rt_.schedule(kAcceptPause, [this, token] {
    auto it = listeners_.find(token);
    if (it == listeners_.end()) return;
    it->second.paused = false;
    (void)rt_.rewatch_fd(it->second.fd, EPOLLIN, token);
  });
}

void PosixTransport::on_accept_ready(uint64_t token) {
  for (int i = 0; i < kAcceptsPerEventMax; ++i) {
    // Looked up each time: on_accept may stop this listener.
    auto it = listeners_.find(token);
    if (it == listeners_.end() || it->second.paused) return;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(it->second.fd, reinterpret_cast<sockaddr*>(&ss), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EINTR || err == ECONNABORTED) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      warn("accept on " + it->second.bound.to_string() + ": " + std::strerror(err));
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) pause_listener(token);
      return;
    }
    Endpoint peer = endpoint_of(ss);
    if (conns_.size() >= connections_max_) {
      warn("refusing connection from " + peer.to_string() + ": " + std::to_string(conns_.size()) +
           " connections open, max " + std::to_string(connections_max_));
      ::close(fd);
      continue;
    }
    set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    ListenHandler* lh = it->second.handler;
    Result<ConnId> id = add_conn(fd, nullptr, peer, false);
    if (!id) {
      warn("accept from " + peer.to_string() + ": " + id.status().to_string());
      ::close(fd);
      continue;
    }
    Conn* c = find(*id);
    ConnectionHandler* h = lh->on_accept(*id, peer);
    STRATA_ASSERT(h != nullptr, "on_accept must return a handler");
    c->handler = h;
  }
}

Result<ConnId> PosixTransport::add_conn(int fd, ConnectionHandler* handler, const Endpoint& peer,
                                        bool connecting) {
  auto c = std::make_unique<Conn>();
  c->id = ConnId(next_conn_id_++);
  STRATA_ASSERT(c->id.value() < kListenerTokenBit);
  c->fd = fd;
  c->handler = handler;
  c->peer = peer;
  c->state = connecting ? ConnState::kConnecting : ConnState::kOpen;
  if (fd >= 0) {
    uint32_t events = connecting ? EPOLLOUT : EPOLLIN;
    STRATA_RETURN_IF_ERROR(rt_.watch_fd(fd, events, c->id.value()));
    c->interest = events;
  }
  ConnId id = c->id;
  conns_.emplace(id.value(), std::move(c));
  return id;
}

// ---------------------------------------------------------------------------------------------
// Connecting

Result<ConnId> PosixTransport::connect(const Endpoint& to, ConnectionHandler* handler) {
  STRATA_ASSERT(handler != nullptr);
  if (conns_.size() >= connections_max_) {
    return Status::resource_exhausted("connect to " + to.to_string() + ": " +
                                      std::to_string(conns_.size()) + " connections open");
  }
  STRATA_ASSIGN_OR_RETURN(std::vector<SockAddr> addrs, resolve(to.host, to.port, false));
  STRATA_ASSIGN_OR_RETURN(ConnId id, add_conn(-1, handler, to, true));
  Conn* c = find(id);
  c->addrs = std::move(addrs);
  if (Status s = start_connect_attempt(*c); !s) {
    // Report from the loop, never from inside connect().
    rt_.defer([this, id, s] {
      if (Conn* c = find(id); c != nullptr && c->state == ConnState::kConnecting) {
        fail_connect(*c, s);
      }
    });
  }
  return id;
}

// Starts a non-blocking connect to the next candidate address that accepts one.
Status PosixTransport::start_connect_attempt(Conn& c) {
  STRATA_ASSERT(c.state == ConnState::kConnecting && c.fd < 0);
  Status last = Status::unavailable("connect to " + c.peer.to_string() + ": no address");
  while (c.next_addr < c.addrs.size()) {
    const SockAddr& a = c.addrs[c.next_addr++];
    int fd = ::socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last = net_error("socket for", c.peer, errno);
      continue;
    }
    set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len);
    if (rc != 0 && errno != EINPROGRESS) {
      last = net_error("connect to", c.peer, errno);
      ::close(fd);
      continue;
    }
    // Success or in progress: writability reports the outcome either way.
    if (Status s = rt_.watch_fd(fd, EPOLLOUT, c.id.value()); !s) {
      ::close(fd);
      return s;
    }
    c.fd = fd;
    c.interest = EPOLLOUT;
    return ok_status();
  }
  return last;
}

void PosixTransport::on_connect_ready(Conn& c) {
  int err = socket_error(c.fd);
  if (err != 0) {
    rt_.unwatch_fd(c.fd);
    ::close(c.fd);
    c.fd = -1;
    c.interest = 0;
    Status failed = net_error("connect to", c.peer, err);
    if (start_connect_attempt(c)) return;  // another address of the same name
    fail_connect(c, failed);
    return;
  }
  c.state = ConnState::kOpen;
  c.handler->on_connected(c.id, ok_status());
  if (c.state != ConnState::kOpen) return;
  update_interest(c);
  if (!c.out.empty()) flush(c);
}

void PosixTransport::fail_connect(Conn& c, Status why) {
  STRATA_ASSERT(c.state == ConnState::kConnecting);
  c.handler->on_connected(c.id, why);
  finalize(c, why);
}

// ---------------------------------------------------------------------------------------------
// Event dispatch

void PosixTransport::on_io(uint64_t token, uint32_t events) {
  if ((token & kListenerTokenBit) != 0) {
    on_accept_ready(token);
    return;
  }
  Conn* c = find(ConnId(token));
  // Events for a connection finalized earlier in this batch are stale.
  if (c == nullptr || c->state == ConnState::kDead || c->fd < 0) return;
  if (c->state == ConnState::kConnecting) {
    on_connect_ready(*c);
    return;
  }
  if ((events & EPOLLERR) != 0) {
    finalize(*c, net_error("connection to", c->peer, socket_error(c->fd)));
    return;
  }
  if ((events & (EPOLLIN | EPOLLHUP)) != 0) {
    if ((c->interest & EPOLLIN) != 0) {
      on_readable(*c);
    } else if ((events & EPOLLHUP) != 0) {
      // Not reading, so a hang-up would be reported forever; the peer is gone anyway.
      finalize(*c, Status::closed("peer " + c->peer.to_string() + " hung up"));
      return;
    }
  }
  if ((events & EPOLLOUT) != 0 && c->fd >= 0 && !c->out.empty()) flush(*c);
}

void PosixTransport::update_interest(Conn& c) {
  if (c.fd < 0 || c.state == ConnState::kDead) return;
  uint32_t want = 0;
  if (c.state == ConnState::kConnecting) {
    want = EPOLLOUT;
  } else {
    if (c.state == ConnState::kOpen && c.reading && !c.peer_eof) want |= EPOLLIN;
    if (!c.out.empty()) want |= EPOLLOUT;
  }
  if (want == c.interest) return;
  if (Status s = rt_.rewatch_fd(c.fd, want, c.id.value()); !s) {
    finalize(c, s);
    return;
  }
  c.interest = want;
}

// ---------------------------------------------------------------------------------------------
// Inbound

void PosixTransport::on_readable(Conn& c) {
  for (int i = 0; i < kReadsPerEventMax; ++i) {
    if (c.state != ConnState::kOpen || !c.reading || c.peer_eof) break;
    bool more = read_once(c);
    deliver(c);
    if (!more) break;
  }
}

// Reads once from the socket. Returns whether another read may find more.
bool PosixTransport::read_once(Conn& c) {
  size_t have = c.body.size();
  bool direct = c.in_body && c.body_need - have >= kReadChunkBytes;
  uint8_t* dst = scratch_.data();
  size_t want = scratch_.size();
  if (direct) {
    want = std::min(c.body_need - have, kDirectReadBytesMax);
    c.body.resize(have + want);  // geometric capacity growth keeps a large frame linear
    dst = c.body.data() + have;
  }
  ssize_t n = retry_eintr([&] { return ::read(c.fd, dst, want); });
  int err = errno;
  if (direct) c.body.resize(have + size_t(std::max<ssize_t>(n, 0)));
  if (n < 0) {
    if (err == EAGAIN || err == EWOULDBLOCK) return false;
    finalize(c, net_error("read from", c.peer, err));
    return false;
  }
  if (n == 0) {
    c.peer_eof = true;
    update_interest(c);
    return false;
  }
  if (direct) {
    if (c.body.size() == c.body_need) {
      c.ready.push_back(std::move(c.body));
      c.body = Bytes();
      c.in_body = false;
      c.prefix_have = 0;
    }
    return true;
  }
  if (Status s = parse(c, dst, size_t(n)); !s) {
    warn(s.message() + "; closing the connection");
    finalize(c, s);
    return false;
  }
  return true;
}

// Splits received bytes into frames. Untrusted input: a bad size is a Status, never an assert.
Status PosixTransport::parse(Conn& c, const uint8_t* data, size_t n) {
  size_t i = 0;
  while (i < n || (c.in_body && c.body.size() == c.body_need)) {
    if (!c.in_body) {
      size_t take = std::min(4 - c.prefix_have, n - i);
      std::memcpy(c.prefix + c.prefix_have, data + i, take);
      c.prefix_have += take;
      i += take;
      if (c.prefix_have < 4) break;
      int32_t size = int32_t(load_be32(c.prefix));
      if (size < 0 || size > limits::kFrameBytesMax) {
        return Status::corruption("frame size " + std::to_string(size) + " from " +
                                  c.peer.to_string() + " outside [0, " +
                                  std::to_string(limits::kFrameBytesMax) + "]");
      }
      c.in_body = true;
      c.body_need = size_t(size);
      c.body = Bytes();
      c.body.reserve(std::min(c.body_need, kReadChunkBytes));
      continue;
    }
    size_t take = std::min(c.body_need - c.body.size(), n - i);
    c.body.insert(c.body.end(), data + i, data + i + take);
    i += take;
    if (c.body.size() < c.body_need) break;
    c.ready.push_back(std::move(c.body));
    c.body = Bytes();
    c.in_body = false;
    c.prefix_have = 0;
  }
  STRATA_ASSERT(i == n);
  return ok_status();
}

// Hands queued frames to the handler while it wants them; the handler may close the
// connection or pause reading from inside on_frame, which ends the loop.
void PosixTransport::deliver(Conn& c) {
  while (c.state == ConnState::kOpen && c.reading && !c.ready.empty()) {
    Bytes frame = std::move(c.ready.front());
    c.ready.pop_front();
    c.handler->on_frame(c.id, std::move(frame));
  }
  if (c.state == ConnState::kOpen && c.peer_eof && c.ready.empty()) {
    bool mid_frame = c.in_body || c.prefix_have > 0;
    begin_close(c, Status::closed("peer " + c.peer.to_string() + " closed the connection" +
                                  (mid_frame ? " mid-frame" : "")));
  }
}

void PosixTransport::resume(ConnId id) {
  Conn* c = find(id);
  if (c != nullptr && c->state == ConnState::kOpen) deliver(*c);
}

void PosixTransport::set_reading(ConnId conn, bool enabled) {
  Conn* c = find(conn);
  if (c == nullptr || c->state == ConnState::kDead || c->reading == enabled) return;
  c->reading = enabled;
  update_interest(*c);
  // Frames already buffered (or a pending end of stream) would otherwise wait for bytes that
  // may never come; deliver them from the loop, not from inside this call.
  if (enabled && (!c->ready.empty() || c->peer_eof)) rt_.defer([this, conn] { resume(conn); });
}

// ---------------------------------------------------------------------------------------------
// Outbound

Status PosixTransport::send(ConnId conn, Bytes frame) {
  Conn* c = find(conn);
  if (c == nullptr || (c->state != ConnState::kOpen && c->state != ConnState::kConnecting)) {
    return Status::closed("connection " + std::to_string(conn.value()) + " is closed");
  }
  if (frame.size() > size_t(limits::kFrameBytesMax)) {
    return Status::invalid_argument("frame of " + std::to_string(frame.size()) + " bytes");
  }
  bool was_empty = c->out.empty();
  Conn::OutFrame f;
  store_be32(f.prefix, uint32_t(frame.size()));
  f.payload = std::move(frame);
  c->queued += f.total();
  c->out.push_back(std::move(f));
  if (c->state == ConnState::kOpen && was_empty) {
    // Write at once: most sends fit in the socket buffer, saving an epoll round trip.
    STRATA_ASSERT(!c->drain_waited);
    flush(*c);
  }
  if (c->state == ConnState::kDead) {
    return Status::closed("connection " + std::to_string(conn.value()) + " failed on write");
  }
  return ok_status();
}

size_t PosixTransport::queued_bytes(ConnId conn) const {
  Conn* c = find(conn);
  return c == nullptr ? 0 : c->queued;
}

void PosixTransport::flush(Conn& c) {
  STRATA_ASSERT(c.fd >= 0 && c.state != ConnState::kConnecting);
  while (!c.out.empty()) {
    iovec iov[kWritevFramesMax * 2];
    size_t n_iov = 0;
    for (size_t k = 0; k < c.out.size() && k < kWritevFramesMax; ++k) {
      Conn::OutFrame& f = c.out[k];
      if (f.written < 4) iov[n_iov++] = {f.prefix + f.written, 4 - f.written};
      size_t body_done = f.written > 4 ? f.written - 4 : 0;
      if (body_done < f.payload.size()) {
        iov[n_iov++] = {f.payload.data() + body_done, f.payload.size() - body_done};
      }
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = n_iov;
    // sendmsg rather than writev only for MSG_NOSIGNAL: a vanished peer must be an error
    // status, not a SIGPIPE that kills the broker.
    ssize_t n = retry_eintr([&] { return ::sendmsg(c.fd, &msg, MSG_NOSIGNAL); });
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c.drain_waited = true;
        update_interest(c);
        return;
      }
      finalize(c, net_error("write to", c.peer, errno));
      return;
    }
    size_t left = size_t(n);
    c.queued -= left;
    while (left > 0) {
      Conn::OutFrame& f = c.out.front();
      size_t take = std::min(left, f.total() - f.written);
      f.written += take;
      left -= take;
      if (f.written == f.total()) c.out.pop_front();
    }
  }
  STRATA_ASSERT(c.queued == 0);
  update_interest(c);
  after_drain(c);
}

void PosixTransport::after_drain(Conn& c) {
  if (c.state == ConnState::kClosing) {
    finalize(c, c.close_why);
    return;
  }
  if (c.drain_waited) {
    c.drain_waited = false;
    c.handler->on_drained(c.id);
  }
}

// ---------------------------------------------------------------------------------------------
// Closing

void PosixTransport::close(ConnId conn) {
  Conn* c = find(conn);
  if (c != nullptr) begin_close(*c, ok_status());
}

void PosixTransport::release(ConnId conn) {
  Conn* c = find(conn);
  if (c == nullptr) return;
  c->handler = &detached_connection_handler();  // no callback reaches the departing owner
  begin_close(*c, ok_status());
}

void PosixTransport::begin_close(Conn& c, Status why) {
  if (c.state == ConnState::kDead || c.state == ConnState::kClosing) return;
  if (c.state == ConnState::kConnecting || c.out.empty() || c.fd < 0) {
    finalize(c, std::move(why));
    return;
  }
  c.state = ConnState::kClosing;
  c.close_why = std::move(why);
  c.ready.clear();
  update_interest(c);
  ConnId id = c.id;
  c.has_linger = true;
  c.linger = rt_.schedule(kCloseLingerMax, [this, id] {
    Conn* c = find(id);
    if (c == nullptr || c->state != ConnState::kClosing) return;
    c->has_linger = false;
    warn("peer " + c->peer.to_string() + " did not take queued output; dropping it");
    finalize(*c, Status::timed_out("close of " + c->peer.to_string() + " timed out"));
  });
}

void PosixTransport::finalize(Conn& c, Status why) {
  if (c.state == ConnState::kDead) return;
  c.state = ConnState::kDead;
  if (c.has_linger) rt_.cancel(c.linger);
  c.has_linger = false;
  if (c.fd >= 0) {
    rt_.unwatch_fd(c.fd);
    ::close(c.fd);
    c.fd = -1;
  }
  c.ready.clear();
  c.out.clear();
  c.queued = 0;
  c.body = Bytes();
  ConnId id = c.id;
  // The record goes away before on_closed runs, so the handler sees the id as dead.
  rt_.defer([this, id, why = std::move(why)] {
    auto it = conns_.find(id.value());
    STRATA_ASSERT(it != conns_.end(), "on_closed twice");
    std::unique_ptr<Conn> dead = std::move(it->second);
    conns_.erase(it);
    STRATA_ASSERT(dead->handler != nullptr);
    dead->handler->on_closed(id, why);
  });
}

}  // namespace strata
