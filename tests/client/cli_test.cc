// The `strata` binary end to end: a broker process on a free port, then topics, produce and
// consume as a user would run them from a shell.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "engine/runtime/posix_runtime.h"

#ifndef STRATA_CLI_BINARY
#error "STRATA_CLI_BINARY must name the strata binary"
#endif

namespace {

struct Run {
  int rc = -1;
  std::string out;
};

// Runs a shell command line; returns its exit code and stdout (stderr is passed through).
Run sh(const std::string& cmd) {
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

uint16_t free_port() {
  auto rt = strata::PosixRuntime::create({.log_level_min = strata::LogLevel::kError});
  REQUIRE(rt);
  struct Nobody : strata::ListenHandler {
    strata::ConnectionHandler* on_accept(strata::ConnId, const strata::Endpoint&) override {
      return nullptr;
    }
  } nobody;
  auto ep = (*rt)->transport().listen({"127.0.0.1", 0}, &nobody);
  REQUIRE(ep);
  (*rt)->transport().stop_listening(*ep);
  return ep->port;
}

// A `strata broker` child process, stopped with SIGTERM.
struct BrokerProcess {
  pid_t pid = -1;
  std::string dir;
  uint16_t port = 0;

  BrokerProcess() {
    port = free_port();
    dir = (std::filesystem::temp_directory_path() /
           ("strata-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(port)))
              .string();
    std::string logs = "log.dirs=" + dir;
    std::string listeners = "listeners=PLAINTEXT://127.0.0.1:" + std::to_string(port);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      execl(STRATA_CLI_BINARY, "strata", "broker", "--override", logs.c_str(), "--override",
            listeners.c_str(), "--log-level", "warn", static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~BrokerProcess() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      int status = 0;
      waitpid(pid, &status, 0);
    }
    std::filesystem::remove_all(dir);
  }
  std::string bootstrap() const { return "-b 127.0.0.1:" + std::to_string(port); }
};

const std::string kStrata = STRATA_CLI_BINARY;

}  // namespace

TEST_CASE("strata topics, produce and consume work end to end against strata broker") {
  BrokerProcess broker;
  std::string b = " " + broker.bootstrap();
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    up = sh(kStrata + " topics list --timeout-ms 500" + b + " 2>/dev/null").rc == 0;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(up);

  Run created = sh(kStrata + " topics create cli --partitions 2 --replication-factor 1" + b);
  CHECK(created.rc == 0);
  CHECK(created.out == "Created topic cli.\n");
  CHECK(sh(kStrata + " topics create cli --partitions 2" + b + " 2>/dev/null").rc == 1);

  Run described = sh(kStrata + " topics describe cli" + b);
  REQUIRE(described.rc == 0);
  auto d = lines(described.out);
  REQUIRE(d.size() == 3);
  CHECK(d[0] == "Topic: cli\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: ");
  CHECK(d[1] == "\tTopic: cli\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0");
  CHECK(d[2] == "\tTopic: cli\tPartition: 1\tLeader: 0\tReplicas: 0\tIsr: 0");
  CHECK(sh(kStrata + " topics list" + b).out == "cli\n");

  Run produced = sh("printf 'k1:a\\nk2:b\\nk3:c\\n' | " + kStrata +
                    " produce cli --key-separator : --acks all" + b);
  CHECK(produced.rc == 0);
  Run one = sh(kStrata + " produce cli --key k4 --value d --header h=1" + b);
  CHECK(one.rc == 0);

  Run consumed = sh(kStrata + " consume cli --from-beginning --count 4 --print-key" + b);
  CHECK(consumed.rc == 0);
  auto c = lines(consumed.out);
  CHECK(std::set<std::string>(c.begin(), c.end()) ==
        std::set<std::string>{"k1\ta", "k2\tb", "k3\tc", "k4\td"});

  Run json = sh(kStrata + " consume cli --from-beginning --timeout-ms 1000 --format json" + b);
  CHECK(json.rc == 0);
  auto j = lines(json.out);
  REQUIRE(j.size() == 4);
  for (const auto& l : j) CHECK(l.rfind("{\"topic\":\"cli\",\"partition\":", 0) == 0);

  CHECK(sh(kStrata + " consume cli --bogus" + b + " 2>/dev/null").rc == 2);
  CHECK(sh(kStrata + " produce --help").rc == 0);
  CHECK(sh(kStrata + " topics delete cli" + b).rc == 0);
  CHECK(sh(kStrata + " topics describe cli" + b + " 2>/dev/null").rc == 1);
}

TEST_CASE("strata broker: a bad value stops it naming key and value; unknown keys warn") {
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("strata-cfg-" + std::to_string(::getpid())))
                        .string();
  std::filesystem::create_directories(dir);
  std::string cfg = dir + "/server.properties";
  {
    FILE* f = std::fopen(cfg.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("# test\nlog.dirs=" , f);
    std::fputs((dir + "/data\nnum.partitions=lots\n").c_str(), f);
    std::fclose(f);
  }
  std::string bin = STRATA_CLI_BINARY;
  Run bad = sh(bin + " broker --config " + cfg + " 2>&1");
  CHECK(bad.rc == 2);
  CHECK(bad.out.find(cfg + ":3: invalid value 'lots' for num.partitions") != std::string::npos);

  // Unknown key: a warning naming it, then start-up goes on (and here fails on an unusable
  // log dir, which also must exit non-zero with the reason).
  Run unknown = sh(bin + " broker --config " + cfg +
                   " --override num.partitions=2 --override foo.bar=1"
                   " --override log.dirs=/dev/null/nowhere 2>&1");
  CHECK(unknown.out.find("unknown key 'foo.bar' ignored") != std::string::npos);
  CHECK(unknown.out.find("failed to start") != std::string::npos);
  CHECK(unknown.rc == 1);
  std::filesystem::remove_all(dir);
}
