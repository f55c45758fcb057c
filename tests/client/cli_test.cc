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

  // `overrides`: extra server.properties lines (key=value).
  explicit BrokerProcess(std::vector<std::string> overrides = {}) {
    port = free_port();
    dir = (std::filesystem::temp_directory_path() /
           ("strata-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(port)))
              .string();
    std::string logs = "log.dirs=" + dir;
    std::string listeners = "listeners=PLAINTEXT://127.0.0.1:" + std::to_string(port);
    overrides.insert(overrides.begin(), {logs, listeners});
    std::vector<std::string> args = {"strata", "broker", "--log-level", "warn"};
    for (const auto& o : overrides) {
      args.push_back("--override");
      args.push_back(o);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      execv(STRATA_CLI_BINARY, argv.data());
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
  bool wait_up() const {
    for (int i = 0; i < 100; ++i) {
      std::string probe = kStrataBin + " topics list --timeout-ms 500 " + bootstrap();
      if (sh(probe + " 2>/dev/null").rc == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  static inline const std::string kStrataBin = STRATA_CLI_BINARY;
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

  Run altered = sh(kStrata + " topics alter cli --config retention.ms=60000 --config "
                   "segment.bytes=1048576" + b);
  CHECK(altered.rc == 0);
  CHECK(altered.out == "Altered configs of topic cli.\n");
  CHECK(sh(kStrata + " topics alter cli --delete-config segment.bytes --partitions 3" + b).out ==
        "Altered configs of topic cli.\nAltered partitions of topic cli.\n");
  CHECK(lines(sh(kStrata + " topics describe cli" + b).out).at(0) ==
        "Topic: cli\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=60000");
  Run bad_value = sh(kStrata + " topics alter cli --config retention.ms=soon" + b + " 2>&1");
  CHECK(bad_value.rc == 1);
  CHECK(bad_value.out.find("retention.ms") != std::string::npos);
  CHECK(sh(kStrata + " topics alter cli" + b + " 2>/dev/null").rc == 2);

  Run produced = sh("printf 'k1:a\\nk2:b\\nk3:c\\n' | " + kStrata +
                    " produce cli --key-separator : --acks all" + b);
  CHECK(produced.rc == 0);
  Run one = sh(kStrata + " produce cli --key k4 --value d --header h=1" + b);
  CHECK(one.rc == 0);
  Run idempotent = sh(kStrata + " produce cli --key k5 --value e --idempotence" + b);
  CHECK(idempotent.rc == 0);
  Run refused = sh(kStrata + " produce cli --value f --idempotence --acks 1" + b + " 2>&1");
  CHECK(refused.rc == 2);
  CHECK(refused.out.find("--idempotence needs --acks all") != std::string::npos);

  Run consumed = sh(kStrata + " consume cli --from-beginning --count 5 --print-key" + b);
  CHECK(consumed.rc == 0);
  auto c = lines(consumed.out);
  CHECK(std::set<std::string>(c.begin(), c.end()) ==
        std::set<std::string>{"k1\ta", "k2\tb", "k3\tc", "k4\td", "k5\te"});

  Run json = sh(kStrata + " consume cli --from-beginning --timeout-ms 1000 --format json" + b);
  CHECK(json.rc == 0);
  auto j = lines(json.out);
  REQUIRE(j.size() == 5);
  for (const auto& l : j) CHECK(l.rfind("{\"topic\":\"cli\",\"partition\":", 0) == 0);

  CHECK(sh(kStrata + " consume cli --bogus" + b + " 2>/dev/null").rc == 2);
  CHECK(sh(kStrata + " produce --help").rc == 0);
  CHECK(sh(kStrata + " topics delete cli" + b).rc == 0);
  CHECK(sh(kStrata + " topics describe cli" + b + " 2>/dev/null").rc == 1);
}

TEST_CASE("strata broker: a bad value stops it naming key and value, unknown keys warn") {
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

namespace {

// Whitespace-separated cells of one line of a text table.
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string c; in >> c;) out.push_back(c);
  return out;
}

// Sum of a numeric column over the rows of a `groups describe` table.
int64_t column_sum(const std::string& table, size_t column) {
  auto ls = lines(table);
  int64_t sum = 0;
  for (size_t i = 1; i < ls.size(); ++i) {
    auto c = cells(ls[i]);
    if (c.size() > column && c[column] != "-") sum += std::stoll(c[column]);
  }
  return sum;
}

}  // namespace

TEST_CASE("strata consume --group commits, and strata groups list, describe, reset-offsets, delete") {
  BrokerProcess broker({"group.initial.rebalance.delay.ms=0", "offsets.topic.num.partitions=2"});
  std::string b = " " + broker.bootstrap();
  REQUIRE(broker.wait_up());
  REQUIRE(sh(kStrata + " topics create gc --partitions 2" + b).rc == 0);
  REQUIRE(sh("printf 'a\\nb\\n' | " + kStrata + " produce gc --partition 0" + b).rc == 0);
  REQUIRE(sh("printf 'c\\nd\\n' | " + kStrata + " produce gc --partition 1" + b).rc == 0);

  Run first = sh(kStrata + " consume gc --group cg --from-beginning --count 4" + b);
  CHECK(first.rc == 0);
  auto got = lines(first.out);
  CHECK(std::set<std::string>(got.begin(), got.end()) ==
        std::set<std::string>{"a", "b", "c", "d"});
  CHECK(sh(kStrata + " consume gc --group cg --partition 0" + b + " 2>/dev/null").rc == 2);

  CHECK(sh(kStrata + " groups list" + b).out == "cg\n");
  Run described = sh(kStrata + " groups describe --group cg" + b + " 2>/dev/null");
  REQUIRE(described.rc == 0);
  auto d = lines(described.out);
  REQUIRE(d.size() == 3);
  CHECK(cells(d[0]) == std::vector<std::string>{"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET",
                                                "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
                                                "CLIENT-ID"});
  CHECK(column_sum(described.out, 3) == 4);  // committed on exit: everything printed
  CHECK(column_sum(described.out, 4) == 4);
  CHECK(column_sum(described.out, 5) == 0);
  CHECK(cells(d[1])[6] == "-");  // no active member
  Run json = sh(kStrata + " groups describe --group cg --format json" + b + " 2>/dev/null");
  CHECK(json.out.rfind("[{\"group\":\"cg\",\"topic\":\"gc\",\"partition\":0,", 0) == 0);
  Run state = sh(kStrata + " groups describe --group cg --state" + b);
  REQUIRE(lines(state.out).size() == 2);
  auto st = cells(lines(state.out)[1]);
  CHECK(st.front() == "cg");
  CHECK(st[st.size() - 2] == "Empty");
  CHECK(st.back() == "0");

  // Nothing new: a second run of the group prints nothing.
  Run again = sh(kStrata + " consume gc --group cg --timeout-ms 1000" + b + " 2>/dev/null");
  CHECK(again.rc == 0);
  CHECK(again.out.empty());

  Run plan = sh(kStrata + " groups reset-offsets --group cg --topic gc --to-earliest" + b +
                " 2>/dev/null");
  CHECK(plan.rc == 0);
  CHECK(column_sum(plan.out, 3) == 0);
  CHECK(column_sum(sh(kStrata + " groups describe --group cg" + b + " 2>/dev/null").out, 3) == 4);
  CHECK(sh(kStrata + " groups reset-offsets --group cg --topic gc:0,1 --shift-by=-1 --execute" +
           b).rc == 0);
  Run replay = sh(kStrata + " consume gc --group cg --timeout-ms 1000" + b + " 2>/dev/null");
  CHECK(lines(replay.out).size() == 2);  // one record per partition again

  Run deleted = sh(kStrata + " groups delete --group cg" + b);
  CHECK(deleted.rc == 0);
  CHECK(deleted.out == "Deletion of requested consumer groups ('cg') was successful.\n");
  CHECK(sh(kStrata + " groups list" + b).out.empty());
  CHECK(sh(kStrata + " groups describe --group cg" + b + " 2>/dev/null").rc == 1);
  CHECK(sh(kStrata + " groups frobnicate" + b + " 2>/dev/null").rc == 2);
}
