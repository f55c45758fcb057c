#include "engine/runtime/posix_process.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "engine/base/assert.h"
#include "engine/base/bytes.h"

namespace strata {
namespace {

// A worker's pipe carries one frame per finished task:
//   task index   u64 big-endian
//   length       u64 big-endian
//   result       `length` bytes
constexpr size_t kFrameHeaderBytes = 16;

struct Worker {
  pid_t pid = -1;
  int fd = -1;       // read end of the worker's pipe
  Bytes in;          // bytes received, not yet a whole frame
  size_t next = 0;   // the next task this worker will report
};

bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t k = ::write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= size_t(k);
  }
  return true;
}

[[noreturn]] void run_worker(const ProcessTasks& tasks, size_t first, int fd) {
  for (size_t t = first; t < tasks.count; t += size_t(tasks.jobs)) {
    std::string result = tasks.work(t);
    Bytes frame;
    ByteWriter w(frame);
    w.i64(int64_t(t));
    w.i64(int64_t(result.size()));
    w.raw(result);
    if (!write_all(fd, frame.data(), frame.size())) ::_exit(3);
  }
  ::close(fd);
  ::_exit(0);
}

Result<Worker> start(const ProcessTasks& tasks, size_t first) {
  int fds[2];
  if (::pipe(fds) != 0) return Status::io_error(std::string("pipe: ") + std::strerror(errno));
  std::fflush(nullptr);  // nothing buffered is written twice
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return Status::io_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    run_worker(tasks, first, fds[1]);
  }
  ::close(fds[1]);
  return Worker{pid, fds[0], {}, first};
}

// Hands every whole frame received from `w` to done().
void deliver(const ProcessTasks& tasks, Worker& w) {
  size_t at = 0;
  while (w.in.size() - at >= kFrameHeaderBytes) {
    ByteReader r(ByteSpan(w.in).subspan(at));
    auto task = uint64_t(r.i64());
    auto len = uint64_t(r.i64());
    if (w.in.size() - at - kFrameHeaderBytes < len) break;
    STRATA_ASSERT(task == w.next, "a worker reports its tasks in order");
    const uint8_t* p = w.in.data() + at + kFrameHeaderBytes;
    tasks.done(size_t(task), std::string(p, p + len));
    w.next += size_t(tasks.jobs);
    at += kFrameHeaderBytes + size_t(len);
  }
  w.in.erase(w.in.begin(), w.in.begin() + std::ptrdiff_t(at));
}

// After the worker closed its pipe: reaps it and fails the tasks it did not report.
void finish(const ProcessTasks& tasks, Worker& w) {
  ::close(w.fd);
  int status = 0;
  while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                        : "exit status " + std::to_string(WEXITSTATUS(status));
  for (size_t t = w.next; t < tasks.count; t += size_t(tasks.jobs)) {
    tasks.done(t, Status::io_error("the process running task " + std::to_string(t) +
                                   " ended early: " + how));
  }
}

}  // namespace

Status run_in_processes(const ProcessTasks& tasks) {
  STRATA_ASSERT(tasks.jobs >= 1 && tasks.jobs <= kProcessJobsMax);
  STRATA_ASSERT(tasks.work && tasks.done);
  std::vector<Worker> workers;
  Status failed = ok_status();
  for (size_t w = 0; w < size_t(tasks.jobs) && w < tasks.count; ++w) {
    auto started = start(tasks, w);
    if (!started) {
      failed = started.status();
      break;
    }
    workers.push_back(std::move(*started));
  }
  while (!workers.empty()) {
    std::vector<pollfd> fds;
    for (const Worker& w : workers) fds.push_back(pollfd{w.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return Status::io_error(std::string("poll: ") + std::strerror(errno));
    }
    for (size_t i = workers.size(); i-- > 0;) {
      if (fds[i].revents == 0) continue;
      Worker& w = workers[i];
      uint8_t buf[65536];
      ssize_t n = ::read(w.fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) {
        w.in.insert(w.in.end(), buf, buf + n);
        deliver(tasks, w);
        continue;
      }
      finish(tasks, w);  // end of file (or a read error): the worker is done
      workers.erase(workers.begin() + std::ptrdiff_t(i));
    }
  }
  return failed;
}

}  // namespace strata
