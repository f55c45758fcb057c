// The Runtime: the only way engine code touches the world.
//
// Clocks, timers, randomness, files, network and logging all go through this interface, so the
// same broker and client code runs on real sockets and disks (engine/runtime/posix_*) and inside
// the deterministic simulator (sim/), which implements Runtime with virtual time.
//
// Threading: a Runtime is single-threaded. Every callback (timer, frame, accept) runs on the
// runtime's loop, one at a time, so engine state needs no locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/bytes.h"
#include "engine/base/ids.h"
#include "engine/base/status.h"

namespace strata {

using Duration = std::chrono::nanoseconds;
using std::chrono::milliseconds;

// Monotonic time since an arbitrary, runtime-defined origin.
struct MonoTime {
  int64_t ns = 0;
  auto operator<=>(const MonoTime&) const = default;
  MonoTime operator+(Duration d) const { return {ns + d.count()}; }
  Duration operator-(MonoTime o) const { return Duration(ns - o.ns); }
  int64_t ms() const { return ns / 1'000'000; }
};

// ---------------------------------------------------------------------------------------------
// Files

enum class OpenMode {
  kReadOnly,        // must exist
  kReadWrite,       // must exist
  kCreate,          // read-write, created if missing, existing content kept
  kCreateTruncate,  // read-write, created if missing, truncated to zero
};

// An open file. Appends go to the end; reads are positional. Durability only after sync().
class File {
 public:
  virtual ~File() = default;
  // Reads up to out.size() bytes at `offset`; returns the count (short at end of file).
  virtual Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) = 0;
  virtual Status append(ByteSpan data) = 0;
  // Overwrites bytes inside the file or extends it; used for small headers and indexes.
  virtual Status write_at(uint64_t offset, ByteSpan data) = 0;
  virtual Status sync() = 0;
  virtual Status truncate(uint64_t size) = 0;
  virtual uint64_t size() const = 0;
  virtual const std::string& path() const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
  virtual bool exists(const std::string& path) = 0;
  // Creates the directory and any missing parents.
  virtual Status create_dirs(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory, sorted.
  virtual Result<std::vector<std::string>> list_dir(const std::string& path) = 0;
  virtual bool is_dir(const std::string& path) = 0;
  // Atomically replaces `to` with `from`.
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status remove(const std::string& path) = 0;
  // Removes a directory tree.
  virtual Status remove_all(const std::string& path) = 0;
  // Makes directory entries (creations, renames, removals) durable.
  virtual Status sync_dir(const std::string& path) = 0;
  virtual Result<uint64_t> file_size(const std::string& path) = 0;
};

// Reads a whole file (configuration, scenario, meta.properties) into a string.
Result<std::string> read_file_text(FileSystem& fs, const std::string& path);
// Replaces the file at `path` (in directory `dir`) with `data`: writes `path`.tmp, renames it
// over `path`. kDurable syncs the file before and `dir` after the rename, so a crash leaves
// the old or the new file; kUnsynced is for files whose readers check their content anyway.
enum class Durability { kDurable, kUnsynced };
Status replace_file(FileSystem& fs, const std::string& dir, const std::string& path,
                    ByteSpan data, Durability durability = Durability::kDurable);

// ---------------------------------------------------------------------------------------------
// Transport: framed connections. A frame is one Kafka request or response without its 4-byte
// size prefix; the transport adds and strips that prefix.

struct Endpoint {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const { return host + ":" + std::to_string(port); }
  auto operator<=>(const Endpoint&) const = default;
};

// Receives the events of one connection. Must stay alive until on_closed has run, or until
// Transport::release() has been called for the connection.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // An outbound connect() finished (ok) or failed (error; on_closed follows).
  virtual void on_connected(ConnId conn, const Status& status) {
    (void)conn;
    (void)status;
  }
  virtual void on_frame(ConnId conn, Bytes frame) = 0;
  // The connection is gone (peer closed, error, or close() called). The id is dead afterwards.
  virtual void on_closed(ConnId conn, const Status& why) = 0;
  // Queued output fell to zero after a send that had to wait.
  virtual void on_drained(ConnId conn) { (void)conn; }
};

// A handler that ignores every event: what a released connection reports to.
ConnectionHandler& detached_connection_handler();

class ListenHandler {
 public:
  virtual ~ListenHandler() = default;
  // A client connected; return the handler for its events (never null).
  virtual ConnectionHandler* on_accept(ConnId conn, const Endpoint& peer) = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Listens on `at`; port 0 picks a free port. Returns the bound endpoint.
  virtual Result<Endpoint> listen(const Endpoint& at, ListenHandler* handler) = 0;
  virtual void stop_listening(const Endpoint& bound) = 0;
  // Starts connecting; on_connected reports the outcome.
  virtual Result<ConnId> connect(const Endpoint& to, ConnectionHandler* handler) = 0;
  // Queues one frame (without size prefix). Fails only if the connection is gone.
  virtual Status send(ConnId conn, Bytes frame) = 0;
  // Bytes queued and not yet written to the network.
  virtual size_t queued_bytes(ConnId conn) const = 0;
  // Backpressure: stop (false) or resume (true) delivering frames from this connection.
  virtual void set_reading(ConnId conn, bool enabled) = 0;
  // Closes after flushing queued frames; on_closed is called (later, from the loop).
  virtual void close(ConnId conn) = 0;
  // Closes like close(), for a handler that is going away (a broker shutting down, a client
  // being destroyed): the handler gets no further callback, not even on_closed, so it may
  // be destroyed as soon as this returns.
  virtual void release(ConnId conn) = 0;
};

// ---------------------------------------------------------------------------------------------

enum class LogLevel { kDebug, kInfo, kWarn, kError };
std::string_view log_level_name(LogLevel level);

class Runtime {
 public:
  virtual ~Runtime() = default;

  virtual MonoTime now() const = 0;
  // Wall clock for record timestamps, in Unix milliseconds (may be skewed in simulation).
  virtual int64_t wall_clock_ms() const = 0;

  // Calls `fn` once, `after` from now, from the loop. Returns an id for cancel().
  virtual TimerId schedule(Duration after, std::function<void()> fn) = 0;
  // Cancelling a timer that already fired or was cancelled is a no-op.
  virtual void cancel(TimerId id) = 0;

  // Seeded in simulation; from the OS in the POSIX runtime.
  virtual uint64_t random_u64() = 0;

  virtual FileSystem& fs() = 0;
  virtual Transport& transport() = 0;

  virtual void log(LogLevel level, std::string_view component, std::string_view message) = 0;

  // Helpers.
  uint64_t random_below(uint64_t n) {
    STRATA_ASSERT(n > 0);
    return random_u64() % n;
  }
  // Fills `out` with random bytes (ids: incarnations, topic ids).
  void random_bytes(std::span<uint8_t> out) {
    for (size_t i = 0; i < out.size(); i += 8) {
      uint64_t v = random_u64();
      for (size_t j = 0; j < 8 && i + j < out.size(); ++j) out[i + j] = uint8_t(v >> (8 * j));
    }
  }
  void info(std::string_view component, std::string_view m) { log(LogLevel::kInfo, component, m); }
  void warn(std::string_view component, std::string_view m) { log(LogLevel::kWarn, component, m); }
  void error(std::string_view component, std::string_view m) {
    log(LogLevel::kError, component, m);
  }
  void debug(std::string_view component, std::string_view m) {
    log(LogLevel::kDebug, component, m);
  }
};

}  // namespace strata
