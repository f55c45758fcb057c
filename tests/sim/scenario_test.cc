// Scenario files: parse errors name file:line:field, and every shipped scenario passes its
// own expectations and replays exactly from its seed.
#include <catch2/catch.hpp>

#include <filesystem>
#include <algorithm>
#include <functional>
#include <fstream>
#include <random>
#include <sstream>

#include "sim/runner.h"
#include "sim/scenario.h"

using namespace strata;
using namespace strata::sim;

namespace {

std::string error_of(const std::string& text) {
  auto r = parse_scenario(text, "bad.yaml");
  REQUIRE_FALSE(r.is_ok());
  return r.status().message();
}

}  // namespace

TEST_CASE("scenario parse errors name the file, line and field") {
  CHECK(error_of("name: x\nworkload:\n  producers:\n    - {id: p1, topic: t, rate: fast}\n")
            .find("bad.yaml:4: workload.producers[0].rate: expected \"<number>/s\"") !=
        std::string::npos);
  CHECK(error_of("name: x\nduraton: 5s\n").find("bad.yaml:2: duraton: unknown field") !=
        std::string::npos);
  CHECK(error_of("name: x\nfaults:\n  - {at: 1s, action: explode}\n")
            .find("bad.yaml:3: faults[0].action: unknown action") != std::string::npos);
  CHECK(error_of("name: x\nfaults:\n  - at: 1x\n    action: heal\n")
            .find("bad.yaml:3: faults[0].at: expected a duration") != std::string::npos);
  CHECK(error_of("name: x\nfaults:\n  - {at: 1s, action: pause, target: broker-9}\n")
            .find("faults[0].target: unknown node \"broker-9\"") != std::string::npos);
  CHECK(error_of("name: x\nexpect:\n  lost_writes: 0\n")
            .find("bad.yaml:3: expect.lost_writes: unknown measure") != std::string::npos);
  CHECK(error_of("name: [x\n").find("bad.yaml:") == 0);
  CHECK(error_of("# only a comment\n").find("bad.yaml:1: (document): empty") == 0);
  CHECK(error_of("").find("bad.yaml:1: (document): empty") == 0);
  // yaml-cpp gives up at a fixed depth; the error says so instead of its "bad file".
  std::string deep = "name: x\ncluster:\n";
  for (int i = 0; i < 1000; ++i) deep += std::string(size_t(i) + 2, ' ') + "a:\n";
  std::string e = error_of(deep);
  CHECK(e.find("bad.yaml:") == 0);
  CHECK(e.find("(syntax): nested more than") != std::string::npos);
  CHECK(error_of("name: x\ncluster:\n  brokers: 12\n")
            .find("bad.yaml:3: cluster.brokers:") != std::string::npos);
  CHECK(error_of("name: x\ncluster:\n  brokers: 3\nfaults:\n"
                 "  - {at: 1s, action: crash_broker, target: broker-3}\n")
            .find("bad.yaml:5: faults[0].target:") != std::string::npos);
}

TEST_CASE("scenario fields parse with units") {
  auto s = parse_scenario(
      "name: x\nduration: 1.5s\nworkload:\n  producers:\n"
      "    - {id: p1, topic: t, rate: 250/s, acks: all, linger: 10ms}\n"
      "faults:\n  - {at: 500us, action: crash_broker, mode: process, duration: 1m}\n"
      "expect: {ack_latency_p99: \"<50ms\", lost_write: 0}\n",
      "ok.yaml");
  REQUIRE(s.is_ok());
  CHECK(s->duration == std::chrono::milliseconds(1500));
  CHECK(s->producers[0].rate_per_s == 250);
  CHECK(s->producers[0].config.acks == -1);
  CHECK(s->producers[0].config.linger_ms == 10);
  CHECK(s->faults[0].at == std::chrono::microseconds(500));
  CHECK_FALSE(s->faults[0].machine);
  CHECK(*s->faults[0].duration == std::chrono::minutes(1));
  CHECK(s->expectations[0].op == "<");
  CHECK(s->expectations[0].value == 50);
}

TEST_CASE("group members and client faults parse, with precise errors") {
  auto s = parse_scenario(
      "name: x\nworkload:\n  producers:\n    - {id: p1, topic: t}\n  consumers:\n"
      "    - {id: c1, topic: t, group: g, commit: batch, max_poll_interval: 4s,\n"
      "       session_timeout: 6s, heartbeat_interval: 500ms, poll_interval: 200ms,\n"
      "       assignment_strategy: cooperative-sticky, group_instance_id: i1}\n"
      "    - {id: c2, topic: t}\n"
      "faults:\n  - {at: 1s, action: stall, target: c1, duration: 5s}\n"
      "  - {at: 2s, action: crash_client, target: p1, duration: 1s}\n"
      "expect: {double_owner: 0, redelivered: \">0\", max_unowned_ms: \"<7000\"}\n",
      "ok.yaml");
  REQUIRE(s.is_ok());
  const ConsumerSpec& c = s->consumers[0];
  CHECK(c.is_group_member());
  CHECK_FALSE(s->consumers[1].is_group_member());
  CHECK(c.commit == CommitMode::kBatch);
  CHECK(c.group_config.group_id == "g");
  CHECK_FALSE(c.group_config.enable_auto_commit);
  CHECK(c.group_config.max_poll_interval_ms == 4000);
  CHECK(c.group_config.session_timeout_ms == 6000);
  CHECK(c.group_config.heartbeat_interval_ms == 500);
  CHECK(c.group_config.assignment_strategy == "cooperative-sticky");
  CHECK(*c.group_config.group_instance_id == "i1");
  CHECK(c.poll_interval == std::chrono::milliseconds(200));
  CHECK(s->faults[0].action == FaultAction::kStall);
  CHECK(s->faults[1].action == FaultAction::kCrashClient);

  std::string head = "name: x\nworkload:\n  consumers:\n";
  CHECK(error_of(head + "    - {id: c1, topic: t, commit: batch}\n")
            .find("bad.yaml:4: workload.consumers[0].commit: only for group members") !=
        std::string::npos);
  CHECK(error_of(head + "    - {id: c1, topic: t, group: g, partitions: [0]}\n")
            .find("workload.consumers[0].partitions: a group member gets its partitions") !=
        std::string::npos);
  CHECK(error_of(head + "    - {id: c1, topic: t, group: g, assignment_strategy: sticky}\n")
            .find("bad.yaml:4: workload.consumers[0]: partition.assignment.strategy: "
                  "unknown assignor") !=
        std::string::npos);
  CHECK(error_of(head + "    - {id: c1, topic: t, group: g, commit: sometimes}\n")
            .find("commit: expected auto|batch|none") != std::string::npos);
  CHECK(error_of(head + "    - {id: c1, topic: t}\nfaults:\n"
                        "  - {at: 1s, action: stall, target: c1, duration: 1s}\n")
            .find("bad.yaml:6: faults[0].target: stall needs a consumer with a group") !=
        std::string::npos);
  CHECK(error_of(head + "    - {id: c1, topic: t, group: g}\nfaults:\n"
                        "  - {at: 1s, action: stall, target: c1}\n")
            .find("faults[0].duration: required") != std::string::npos);
  CHECK(error_of(head + "    - {id: c1, topic: t}\nfaults:\n"
                        "  - {at: 1s, action: crash_client, target: broker-0}\n")
            .find("faults[0].target: crash_client needs a producer or consumer") !=
        std::string::npos);
  CHECK(error_of(head + "    - {id: c1, topic: t}\nfaults:\n  - {at: 1s, action: crash_client}\n")
            .find("faults[0].target: required") != std::string::npos);
}

namespace {

// Every shipped scenario whose file name `pick` accepts passes its expectations, replays
// from its seed, and gives another trace with another seed. Split into several test cases
// so that each stays well inside the test timeout under ASan.
size_t check_shipped(const std::function<bool(const std::string&)>& pick) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(STRATA_SOURCE_DIR "/scenarios")) {
    if (e.path().extension() == ".yaml" && pick(e.path().filename().string())) {
      files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  RunOptions opts;
  opts.keep_trace = false;
  opts.keep_metrics = false;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream text;
    text << in.rdbuf();
    auto s = parse_scenario(text.str(), f);
    INFO(f);
    REQUIRE(s.is_ok());
    auto a = run_scenario(*s, s->seed, opts);
    REQUIRE(a.is_ok());
    for (const auto& e : a->record.expectations) {
      INFO(e.name << ": " << e.detail << " (seed " << s->seed << ")");
      CHECK(e.passed);
    }
    auto b = run_scenario(*s, s->seed, opts);
    REQUIRE(b.is_ok());
    CHECK(a->record.trace_hash == b->record.trace_hash);
    auto c = run_scenario(*s, s->seed + 1, opts);
    REQUIRE(c.is_ok());
    CHECK(a->record.trace_hash != c->record.trace_hash);
  }
  return files.size();
}

bool is_group(const std::string& name) { return name.rfind("group-", 0) == 0; }
bool is_nemesis(const std::string& name) { return name.find("nemesis") != std::string::npos; }
bool is_join(const std::string& name) { return name.rfind("group-join-", 0) == 0; }

}  // namespace

TEST_CASE("every shipped broker scenario passes its expectations and replays from its seed") {
  CHECK(check_shipped([](const std::string& n) { return !is_group(n); }) >= 8);
}

TEST_CASE("every shipped group scenario passes its expectations and replays from its seed") {
  CHECK(check_shipped([](const std::string& n) {
          return is_group(n) && !is_nemesis(n) && !is_join(n);
        }) >= 4);
}

TEST_CASE("the shipped group join scenarios pass their expectations and replay") {
  CHECK(check_shipped(is_join) == 2);
}

TEST_CASE("the shipped group nemesis scenario passes its expectations and replays") {
  CHECK(check_shipped([](const std::string& n) { return is_group(n) && is_nemesis(n); }) == 1);
}

// Regression: seed 57 of the group nemesis pauses a cooperative member until the group has
// removed it. Its JoinGroup then came back UNKNOWN_MEMBER_ID and it kept its partitions,
// resumed from its own stale position and committed below the new owner's commit.
// Seed 914: a batch-committing member committed, in a later generation, the offset it had
// processed in a partition it had lost, below the new owner's commit.
TEST_CASE("group nemesis seeds 57 and 914: lost partitions stay lost") {
  std::ifstream in(STRATA_SOURCE_DIR "/scenarios/group-nemesis.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto s = parse_scenario(text.str(), "scenarios/group-nemesis.yaml");
  REQUIRE(s.is_ok());
  RunOptions opts;
  opts.keep_trace = false;
  opts.keep_metrics = false;
  for (uint64_t seed : {57, 914}) {
    INFO("seed " << seed);
    auto r = run_scenario(*s, seed, opts);
    REQUIRE(r.is_ok());
    CHECK(r->check->count(AnomalyKind::kCommitBackwards) == 0);
    CHECK(r->check->count(AnomalyKind::kDoubleOwner) == 0);
    CHECK(r->check->count(AnomalyKind::kCommitUndelivered) == 0);
    CHECK(r->record.passed);
  }
}

namespace {

// The shipped scenarios, as (file name, text).
std::vector<std::pair<std::string, std::string>> shipped_texts() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : std::filesystem::directory_iterator(STRATA_SOURCE_DIR "/scenarios")) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream in(e.path());
    std::stringstream text;
    text << in.rdbuf();
    out.emplace_back(e.path().filename().string(), text.str());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// One random edit of the kind a person makes: a line dropped or doubled, a value replaced by
// another field's kind of value, a character changed, or the file cut short.
std::string mutate(const std::string& text, std::mt19937_64& rng) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  if (lines.empty()) return text;
  auto pick = [&](size_t n) { return size_t(rng() % n); };
  static const char* const kValues[] = {"-1", "0", "1e99", "x", "\"\"", "[]", "{}", "5",
                                        "10s", "0.5", "broker-0", "~", "99999999999999999999",
                                        "1/s", "all", "-5ms", "[1, 2"};
  size_t i = pick(lines.size());
  switch (pick(5)) {
    case 0: lines.erase(lines.begin() + std::ptrdiff_t(i)); break;
    case 1: lines.insert(lines.begin() + std::ptrdiff_t(i), lines[i]); break;
    case 2: {  // the value after a "key: " on this line
      std::string& l = lines[i];
      size_t colon = l.find(": ");
      if (colon == std::string::npos) break;
      size_t end = l.find_first_of(",}", colon + 2);
      l.replace(colon + 2, end == std::string::npos ? std::string::npos : end - colon - 2,
                kValues[pick(std::size(kValues))]);
      break;
    }
    case 3:
      if (!lines[i].empty()) lines[i][pick(lines[i].size())] = " :-{}[],#\"a1"[pick(12)];
      break;
    default: lines.resize(i); break;
  }
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("edited scenarios: every error names the file and a line within it") {
  std::mt19937_64 rng(20261202);
  size_t errors = 0, parsed = 0;
  for (const auto& [name, text] : shipped_texts()) {
    size_t line_count = size_t(std::count(text.begin(), text.end(), '\n')) + 1;
    for (int n = 0; n < 150; ++n) {
      std::string edited = mutate(text, rng);
      if (n % 3 == 2) edited = mutate(edited, rng);  // some files get two edits
      auto r = parse_scenario(edited, name);
      if (r.is_ok()) {
        ++parsed;
        continue;
      }
      ++errors;
      const std::string& m = r.status().message();
      INFO(name << " edited:\n" << edited << "\nerror: " << m);
      REQUIRE(m.rfind(name + ":", 0) == 0);
      size_t digits = m.find_first_not_of("0123456789", name.size() + 1);
      REQUIRE(digits > name.size() + 1);
      REQUIRE(digits != std::string::npos);
      // "file:line: field: what", where a syntax error's field is "(syntax)".
      CHECK(m.compare(digits, 2, ": ") == 0);
      size_t line = std::stoul(m.substr(name.size() + 1));
      CHECK(line >= 1);
      CHECK(line <= line_count + 1);
      CHECK(m.find(": ", digits + 2) != std::string::npos);
    }
  }
  // Most edits break something and some leave a valid file; both kinds must occur.
  CHECK(errors > 1000);
  CHECK(parsed > 100);
}
