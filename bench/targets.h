// The two brokers strata_bench measures: a `strata broker` child process writing to a fresh
// data directory, and librdkafka's in-process mock cluster (rdkafka_mock.h) on its own
// librdkafka handle, so that the benchmark's producer and consumer are ordinary clients of
// either one. Both are owned by the run that measures them and torn down at its end.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace strata::bench {

// Optional CPU placement for a 2-core machine: the benchmark's client threads on one CPU and
// the broker under test on another. Left to the scheduler, librdkafka's consumer threads
// sometimes land on different CPUs and the hand-off of every message between them makes
// consume figures bimodal (1 M or 4 M records/s from run to run); pinning removes that.
// Returns "" or the error.
std::string pin_current_thread(int cpu);

class StrataProcess {
 public:
  // Starts `binary broker` on a free 127.0.0.1 port with log.dirs=<dir>/data and its
  // output in <dir>/broker.log, and waits until the port accepts connections.
  // `cpu` >= 0 pins the broker process to that CPU.
  static std::unique_ptr<StrataProcess> start(const std::string& binary, const std::string& dir,
                                              int cpu, std::string* error);
  ~StrataProcess();  // SIGKILL if stop() was not called

  // SIGTERM (the broker's clean stop) and wait; SIGKILL after 30 s.
  std::string stop();

  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }
  // CPU time the broker's threads have used so far (from /proc/PID/task/*/schedstat, in
  // nanoseconds, finer than the 10 ms ticks of /proc/PID/stat); -1 when unavailable.
  double cpu_seconds() const;
  pid_t pid() const { return pid_; }

 private:
  StrataProcess(pid_t pid, int port, std::string log_path)
      : pid_(pid), port_(port), log_path_(std::move(log_path)) {}
  std::string wait_ready();
  std::string log_tail() const;

  pid_t pid_;
  int port_;
  std::string log_path_;
};

class MockCluster {
 public:
  // One mock broker and `topic` with `partitions` partitions (replication factor 1).
  // `cpu` >= 0 pins the mock's serving thread to that CPU.
  static std::unique_ptr<MockCluster> start(const std::string& topic, int partitions, int cpu,
                                            std::string* error);
  ~MockCluster();

  std::string bootstrap() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  // CPU time of the mock's own thread ("rdk:mock", which serves every request), summed from
  // /proc/self/task/*/schedstat; -1 when unavailable. One mock cluster exists at a time.
  double cpu_seconds() const;

 private:
  MockCluster(rd_kafka_t* rk, rd_kafka_mock_cluster_t* cluster) : rk_(rk), cluster_(cluster) {}

  rd_kafka_t* rk_;  // hosts the cluster's thread; used for nothing else
  rd_kafka_mock_cluster_t* cluster_;
};

}  // namespace strata::bench
