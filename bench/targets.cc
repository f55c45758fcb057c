#include "bench/targets.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace strata::bench {
namespace {

constexpr auto kReadyTimeout = std::chrono::seconds(20);
constexpr auto kStopTimeout = std::chrono::seconds(30);

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Asks the kernel for an unused port. Another process could take it before the broker
// binds; the broker then fails to start and the error says so.
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

bool accepts_connections(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a = loopback(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// Pins task `tid` (0: the calling thread) to `cpu`.
std::string pin_task(pid_t tid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(tid, sizeof set, &set) != 0) {
    return "cannot pin to CPU " + std::to_string(cpu) + ": " + std::strerror(errno);
  }
  return "";
}

// The id of this process's thread named `comm`, or -1.
pid_t find_thread(const std::string& comm) {
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(task.path() / "comm");
    std::string name;
    if (std::getline(in, name) && name == comm) {
      return pid_t(std::stol(task.path().filename().string()));
    }
  }
  return -1;
}

}  // namespace

std::string pin_current_thread(int cpu) { return pin_task(0, cpu); }

std::unique_ptr<StrataProcess> StrataProcess::start(const std::string& binary,
                                                    const std::string& dir, int cpu,
                                                    std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  int port = free_port();
  if (ec || port <= 0) {
    *error = "cannot prepare " + dir + " or find a free port";
    return nullptr;
  }
  std::string log_path = dir + "/broker.log";
  std::vector<std::string> args = {binary, "broker",
                                   "--override", "log.dirs=" + dir + "/data",
                                   "--override", "listeners=PLAINTEXT://127.0.0.1:" +
                                                     std::to_string(port)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return nullptr;
  }
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    if (cpu >= 0 && !pin_task(0, cpu).empty()) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::unique_ptr<StrataProcess> p(new StrataProcess(pid, port, log_path));
  *error = p->wait_ready();
  if (!error->empty()) return nullptr;  // the destructor kills it
  return p;
}

std::string StrataProcess::wait_ready() {
  auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return "strata broker exited during start-up (status " + std::to_string(status) +
             "); " + log_path_ + " ends with:\n" + log_tail();
    }
    if (accepts_connections(port_)) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "strata broker did not listen on port " + std::to_string(port_) + " within 20 s";
}

std::string StrataProcess::log_tail() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

std::string StrataProcess::stop() {
  if (pid_ <= 0) return "";
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      pid_ = -1;
      return "strata broker ignored SIGTERM for 30 s; killed";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  return "strata broker stopped with status " + std::to_string(status) + "; see " + log_path_;
}

namespace {

// Sums the on-CPU nanoseconds (first field of schedstat) of the tasks under `task_dir`
// whose name is `comm`, or of all of them when `comm` is empty.
double tasks_cpu_seconds(const std::string& task_dir, const std::string& comm) {
  std::error_code ec;
  double total_ns = 0;
  bool any = false;
  for (const auto& task : std::filesystem::directory_iterator(task_dir, ec)) {
    if (!comm.empty()) {
      std::ifstream name_in(task.path() / "comm");
      std::string name;
      if (!std::getline(name_in, name) || name != comm) continue;
    }
    std::ifstream in(task.path() / "schedstat");
    double on_cpu_ns = 0;
    if (in >> on_cpu_ns) {
      total_ns += on_cpu_ns;
      any = true;
    }
  }
  return ec || !any ? -1 : total_ns / 1e9;
}

}  // namespace

double StrataProcess::cpu_seconds() const {
  if (pid_ <= 0) return -1;
  return tasks_cpu_seconds("/proc/" + std::to_string(pid_) + "/task", "");
}

StrataProcess::~StrataProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::unique_ptr<MockCluster> MockCluster::start(const std::string& topic, int partitions,
                                                int cpu, std::string* error) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    *error = std::string("mock cluster handle: ") + err;
    return nullptr;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, 1);
  if (mc == nullptr) {
    rd_kafka_destroy(rk);
    *error = "rd_kafka_mock_cluster_new failed";
    return nullptr;
  }
  std::unique_ptr<MockCluster> m(new MockCluster(rk, mc));
  rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topic.c_str(), partitions, 1);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    *error = "mock topic " + topic + ": " + rd_kafka_err2str(e);
    return nullptr;
  }
  if (cpu >= 0) {
    // The thread inherited the creator's CPU mask; move it on its own.
    pid_t tid = find_thread("rdk:mock");
    *error = tid < 0 ? "no rdk:mock thread to pin" : pin_task(tid, cpu);
    if (!error->empty()) return nullptr;
  }
  return m;
}

double MockCluster::cpu_seconds() const {
  return tasks_cpu_seconds("/proc/self/task", "rdk:mock");
}

MockCluster::~MockCluster() {
  rd_kafka_mock_cluster_destroy(cluster_);
  rd_kafka_destroy(rk_);
}

}  // namespace strata::bench
