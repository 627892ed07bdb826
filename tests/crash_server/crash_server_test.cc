// Cross-process crash test: keeld (the real binary) on one SQLite file, two worker
// processes (crash_server_worker) and this process as the client, over loopback gRPC.
// While the client starts the kWorkflowCount workflows of server_workload.h, signals
// each of them between its activities and waits for their results, the test SIGKILLs
// keeld and each worker at seeded random points (after the n-th step line the workers
// print) and starts them again at once, keeld on the same port and database. The client
// retries through keeld's downtime with the same request ids. Then it checks, on the
// last keeld and in the side-effect ledger, that every workflow completed exactly once
// with every signal it was sent, exactly once and in order, that every history holds
// exactly one completion per activity, and that every activity's side effect happened
// at least once under a known idempotency key. Re-executions (at-least-once) and client
// retries are counted and printed.
//
// Seed: random per run, printed; KEEL_CRASH_SEED=<n> reruns the same kill points (the
// interleaving of the processes still varies).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/client.h"
#include "engine/grpc_frontend.h"
#include "engine/history.h"
#include "engine/random.h"
#include "tests/crash_server/client_driver.h"
#include "tests/crash_server/event_queue.h"
#include "tests/crash_server/server_workload.h"
#include "tests/crash_server/supervised_process.h"
#include "tests/support/temp_dir.h"

namespace keel::testing::crash_server {
namespace {

// Process slots: keeld, then the workers.
constexpr int kKeeld = 0;
constexpr int kWorkers = 2;
constexpr int kSlots = 1 + kWorkers;
constexpr std::array<int, kSlots> kKillsPerSlot = {12, 10, 10};
// Kill points lie among the first 90% of the step lines: every activity prints at least
// one, so every kill point is reached.
constexpr int kTotalSteps = kWorkflowCount * kActivities;
constexpr int kLastKillPoint = kTotalSteps * 9 / 10;
// keeld starts that may fail (its port still held) before the test gives up.
constexpr int kMaxListenAttempts = 20;
// A bound on the whole run; a healthy run takes a fraction of it.
constexpr auto kRunDeadline = std::chrono::seconds(120);
constexpr char kListeningPrefix[] = "keeld listening on ";

uint64_t SeedFromEnvironment() {
  const char* s = std::getenv("KEEL_CRASH_SEED");
  if (s != nullptr && *s != '\0') return std::strtoull(s, nullptr, 10);
  return Random::System().Next();
}

struct KillPoint {
  int after_steps = 0;  // killed after the test read this many step lines
  int slot = 0;
};

// kKillsPerSlot kills of each slot at distinct random step counts in [1, kLastKillPoint].
std::vector<KillPoint> KillSchedule(Random& random) {
  std::vector<int> slots;
  for (int s = 0; s < kSlots; ++s) slots.insert(slots.end(), kKillsPerSlot[s], s);
  std::set<int> points;
  while (points.size() < slots.size()) points.insert(1 + static_cast<int>(random.Next() % kLastKillPoint));
  for (size_t i = slots.size(); i > 1; --i) std::swap(slots[i - 1], slots[random.Next() % i]);
  std::vector<KillPoint> schedule;
  for (int p : points) schedule.push_back({p, slots[schedule.size()]});
  return schedule;
}

// A port that was free a moment ago; keeld binds it for every one of its starts.
int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Tail(const std::string& text, size_t n) {
  return text.size() <= n ? text : "...\n" + text.substr(text.size() - n);
}

int JsonInt(const v1::Payloads& payloads) {
  if (payloads.payloads_size() != 1) return -1;
  return nlohmann::json::parse(payloads.payloads(0).data()).get<int>();
}

std::string JsonString(const v1::Payloads& payloads) {
  if (payloads.payloads_size() != 1) return "";
  return nlohmann::json::parse(payloads.payloads(0).data()).get<std::string>();
}

std::vector<std::string> ExpectedSignals(int i) {
  std::vector<std::string> signals;
  for (int k = 0; k < kSignals; ++k) signals.push_back(SignalPayload(i, k));
  return signals;
}

// "default/srv-007/<run id>/a2" -> (7, 2); nullopt for anything else.
std::optional<std::pair<int, int>> ParseKey(const std::string& key) {
  std::vector<std::string> parts;
  std::stringstream in(key);
  for (std::string part; std::getline(in, part, '/');) parts.push_back(part);
  if (parts.size() != 4 || parts[1].rfind("srv-", 0) != 0 || parts[3].rfind('a', 0) != 0) return std::nullopt;
  try {
    const int i = std::stoi(parts[1].substr(4));
    const int k = std::stoi(parts[3].substr(1));
    if (i < 0 || i >= kWorkflowCount || k < 0 || k >= kActivities) return std::nullopt;
    return std::make_pair(i, k);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

class CrashServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    // Kill the processes first, so the client's calls end at once.
    if (client_) client_->Stop();
    keeld_.Kill();
    for (auto& w : workers_) w->Kill();
    client_.reset();
    if (!HasFailure()) return;
    std::fprintf(stderr, "crash_server_test failed; rerun with KEEL_CRASH_SEED=%llu\n%s",
                 static_cast<unsigned long long>(seed_), kill_log_.c_str());
    std::fprintf(stderr, "keeld stderr (all runs):\n%s\n", Tail(ReadFile(keeld_.log_path()), 6000).c_str());
    std::fprintf(stderr, "worker stderr (all runs):\n%s\n", Tail(ReadFile(worker_log_), 6000).c_str());
  }

  SupervisedProcess& Slot(int slot) { return slot == kKeeld ? keeld_ : *workers_[slot - 1]; }
  static std::string SlotName(int slot) { return slot == kKeeld ? "keeld" : "worker " + std::to_string(slot); }

  void StartSlot(int slot) {
    if (slot == kKeeld) {
      keeld_up_ = false;
      keeld_.Start({KEEL_KEELD, "--db", db_path_, "--listen", address_, "--poll-timeout", "5"});
    } else {
      Slot(slot).Start({KEEL_CRASH_SERVER_WORKER, "--ledger", ledger_path_, "worker", "--server", address_});
    }
  }

  void Kill(int slot) {
    ChildProcess::Exit exit = Slot(slot).Kill();
    EXPECT_FALSE(exit.exited) << SlotName(slot) << " had ended by itself before its kill: " << exit.ToString();
    ++kills_[slot];
    char when[32];
    std::snprintf(when, sizeof(when), "%.2f s", std::chrono::duration<double>(Clock::System().Now() - begin_).count());
    kill_log_ += "  " + std::string(when) + ", after step line " + std::to_string(steps_read_) + ": killed " +
                 SlotName(slot) + "\n";
    StartSlot(slot);
  }

  void OnLine(const Event& e) {
    if (e.source == kKeeld) {
      if (e.generation == keeld_.generation() && e.text.rfind(kListeningPrefix, 0) == 0) {
        keeld_up_ = true;
        listen_failures_ = 0;
      }
      return;
    }
    if (e.text.rfind(kStepPrefix, 0) != 0) return;  // "worker ... polling ..."
    const std::string key = e.text.substr(sizeof(kStepPrefix) - 1);
    ++steps_read_;
    ++printed_[key];
    auto step = ParseKey(key);
    if (!step) {
      ADD_FAILURE() << "a worker printed a step with an unknown key: " << e.text;
      return;
    }
    // Signal k is sent once activity k has run (at least once): the workflow is then
    // finishing that activity, waiting for the signal, or (after a kill) running the
    // activity again.
    if (step->second < kSignals && signalled_.insert(*step).second) client_->Signal(step->first, step->second);
  }

  // A process of `slot` closed its stdout. Lines of processes the test killed are old news.
  void OnEnd(const Event& e) {
    SupervisedProcess& process = Slot(e.source);
    if (e.generation != process.generation() || !process.running()) return;
    ChildProcess::Exit exit = process.Reap();
    if (e.source == kKeeld && !keeld_up_ && ++listen_failures_ < kMaxListenAttempts) {
      // It did not come up: most likely the port is not free yet. Try again.
      StartSlot(kKeeld);
      return;
    }
    FAIL() << SlotName(e.source) << " ended by itself (" << exit.ToString() << ")" << e.text;
  }

  void OnResult(const Event& e) {
    EXPECT_TRUE(results_.insert(e.source).second) << "a second result for " << WorkflowId(e.source);
    EXPECT_EQ(nlohmann::json::parse(e.text).get<std::vector<std::string>>(), ExpectedSignals(e.source))
        << "the signals " << WorkflowId(e.source) << " received";
  }

  std::string Progress() const {
    return std::to_string(results_.size()) + " results, " + std::to_string(steps_read_) + " step lines, " +
           std::to_string(signalled_.size()) + " signals asked for, keeld " + (keeld_up_ ? "up" : "down");
  }

  // Checks workflow i on keeld; adds the idempotency keys of its activities.
  void VerifyWorkflow(Client& client, int i, std::set<std::string>* expected_keys) {
    const std::string id = WorkflowId(i);
    SCOPED_TRACE("workflow " + id);
    auto summaries = client.ListWorkflows({.workflow_id = id});
    ASSERT_EQ(summaries.size(), 1u) << "runs of one workflow id";
    EXPECT_EQ(summaries[0].status, WorkflowStatus::kCompleted);
    WorkflowDescription d = client.DescribeWorkflow(id);
    EXPECT_EQ(d.status, WorkflowStatus::kCompleted);
    EXPECT_EQ(d.run_id, summaries[0].run_id);
    EXPECT_TRUE(d.pending_activities.empty());
    EXPECT_FALSE(d.workflow_task.has_value());

    History h = client.GetHistory(id);
    ASSERT_EQ(h.RunId(), summaries[0].run_id);
    SCOPED_TRACE("history:\n" + h.Timeline());
    std::map<int64_t, std::string> scheduled;  // event id -> activity id
    std::set<int64_t> completed;               // scheduled event ids
    std::vector<std::string> signals;          // payloads, in event order
    std::set<std::string> signal_request_ids;
    int workflow_completions = 0, other_closes = 0, activity_failures = 0;
    for (int e = 0; e < h.size(); ++e) {
      const v1::HistoryEvent& ev = h.event(e);
      if (ev.has_activity_task_scheduled()) {
        const auto& a = ev.activity_task_scheduled();
        EXPECT_EQ(a.activity_type(), kActivityType);
        EXPECT_TRUE(scheduled.emplace(ev.event_id(), a.activity_id()).second);
        expected_keys->insert("default/" + id + "/" + h.RunId() + "/" + a.activity_id());
      } else if (ev.has_activity_task_completed()) {
        const auto& c = ev.activity_task_completed();
        EXPECT_TRUE(completed.insert(c.scheduled_event_id()).second)
            << "a second completion of the activity scheduled at event " << c.scheduled_event_id();
        auto it = scheduled.find(c.scheduled_event_id());
        auto step = it == scheduled.end() ? std::nullopt : ParseKey("default/" + id + "/r/" + it->second);
        if (!step) {
          ADD_FAILURE() << "event " << ev.event_id() << " completes unknown scheduled event " << c.scheduled_event_id();
        } else {
          EXPECT_EQ(JsonInt(c.result()), ActivityResult(i, step->second)) << "result of activity " << it->second;
        }
      } else if (ev.has_activity_task_failed() || ev.has_activity_task_timed_out() || ev.has_activity_task_canceled()) {
        ++activity_failures;
      } else if (ev.has_workflow_execution_signaled()) {
        const auto& s = ev.workflow_execution_signaled();
        EXPECT_EQ(s.signal_name(), kSignalName);
        signals.push_back(JsonString(s.input()));
        EXPECT_TRUE(signal_request_ids.insert(s.request_id()).second) << "signal request id " << s.request_id() << " twice";
      } else if (ev.has_workflow_execution_completed()) {
        ++workflow_completions;
        EXPECT_EQ(e, h.size() - 1) << "the completion is not the last event";
        const auto& result = ev.workflow_execution_completed().result();
        ASSERT_EQ(result.payloads_size(), 1);
        EXPECT_EQ(nlohmann::json::parse(result.payloads(0).data()).get<std::vector<std::string>>(), ExpectedSignals(i));
      } else if (ev.has_workflow_execution_failed() || ev.has_workflow_execution_timed_out() ||
                 ev.has_workflow_execution_canceled() || ev.has_workflow_execution_terminated() ||
                 ev.has_workflow_execution_continued_as_new()) {
        ++other_closes;
      }
    }
    EXPECT_EQ(workflow_completions, 1);
    EXPECT_EQ(other_closes, 0);
    EXPECT_EQ(scheduled.size(), static_cast<size_t>(kActivities));
    EXPECT_EQ(completed.size(), static_cast<size_t>(kActivities));
    EXPECT_EQ(activity_failures, 0);
    // Each signal exactly once, in the order sent (signal k only after activity k ran).
    EXPECT_EQ(signals, ExpectedSignals(i));
    std::set<std::string> expected_request_ids;
    for (int k = 0; k < kSignals; ++k) expected_request_ids.insert(SignalRequestId(i, k));
    EXPECT_EQ(signal_request_ids, expected_request_ids);
  }

  uint64_t seed_ = 0;
  Time begin_;
  TempDir dir_;
  const std::string db_path_ = dir_.File("keel.db");
  const std::string ledger_path_ = dir_.File("ledger.txt");
  const std::string worker_log_ = dir_.File("workers.log");
  std::string address_;
  EventQueue events_;
  SupervisedProcess keeld_{kKeeld, events_, dir_.File("keeld.log")};
  std::vector<std::unique_ptr<SupervisedProcess>> workers_;
  std::unique_ptr<ClientDriver> client_;

  bool keeld_up_ = false;
  int listen_failures_ = 0;
  std::array<int, kSlots> kills_{};
  std::string kill_log_ = "kills:\n";
  int steps_read_ = 0;
  std::map<std::string, int> printed_;        // step lines read, by key
  std::set<std::pair<int, int>> signalled_;  // (workflow, k) signals asked for
  std::set<int> results_;                    // workflows whose result the client has
};

TEST_F(CrashServerTest, KilledServerAndWorkersLoseNothingAndRecordNothingTwice) {
  seed_ = SeedFromEnvironment();
  std::printf("crash_server_test: seed %llu (KEEL_CRASH_SEED=%llu reruns these kill points)\n",
              static_cast<unsigned long long>(seed_), static_cast<unsigned long long>(seed_));
  SeededRandom random(seed_);
  const std::vector<KillPoint> schedule = KillSchedule(random);
  const int port = FreeLoopbackPort();
  ASSERT_GT(port, 0) << "no free loopback port";
  address_ = "127.0.0.1:" + std::to_string(port);
  begin_ = Clock::System().Now();

  StartSlot(kKeeld);
  for (int w = 1; w <= kWorkers; ++w) {
    workers_.push_back(std::make_unique<SupervisedProcess>(w, events_, worker_log_));
    StartSlot(w);
  }
  client_ = std::make_unique<ClientDriver>(address_, events_);
  client_->Start();

  // Kill and restart on schedule until the client has every result and every kill
  // point has passed, then until keeld is up for the checks.
  const Time deadline = begin_ + kRunDeadline;
  size_t next_kill = 0;
  while (results_.size() < static_cast<size_t>(kWorkflowCount) || next_kill < schedule.size() || !keeld_up_) {
    std::optional<Event> e = events_.Pop(deadline);
    ASSERT_TRUE(e.has_value()) << "not done after " << kRunDeadline.count() << " s: " << Progress();
    switch (e->kind) {
      case Event::Kind::kLine: OnLine(*e); break;
      case Event::Kind::kEnd: ASSERT_NO_FATAL_FAILURE(OnEnd(*e)); break;
      case Event::Kind::kResult: OnResult(*e); break;
      case Event::Kind::kError: FAIL() << "client: " << e->text;
    }
    while (next_kill < schedule.size() && steps_read_ >= schedule[next_kill].after_steps) {
      Kill(schedule[next_kill++].slot);
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::System().Now() - begin_).count();
  for (int s = 0; s < kSlots; ++s) EXPECT_GE(kills_[s], kKillsPerSlot[s]) << SlotName(s);
  EXPECT_GE(kills_[kKeeld], 10);
  client_->Stop();

  // The last keeld holds every workflow, completed once with all its signals.
  ConnectOptions options;
  options.address = address_;
  auto frontend = ConnectToServer(options);
  ASSERT_TRUE(frontend.ok()) << frontend.status().ToString();
  Client client(**frontend);
  EXPECT_EQ(client.ListWorkflows({.limit = 10 * kWorkflowCount}).size(), static_cast<size_t>(kWorkflowCount));
  std::set<std::string> expected_keys;
  for (int i = 0; i < kWorkflowCount; ++i) VerifyWorkflow(client, i, &expected_keys);
  ASSERT_EQ(expected_keys.size(), static_cast<size_t>(kTotalSteps));

  // The ledger: whole lines, known keys only, every key at least once.
  const std::string ledger = ReadFile(ledger_path_);
  ASSERT_TRUE(ledger.empty() || ledger.back() == '\n') << "the ledger ends with a torn line";
  std::map<std::string, int> executions;
  int line_count = 0;
  for (size_t offset = 0, end; offset < ledger.size(); offset = end + 1) {
    end = ledger.find('\n', offset);
    const std::string key = ledger.substr(offset, end - offset);
    ++line_count;
    EXPECT_TRUE(expected_keys.count(key)) << "ledger line " << line_count << " has unknown key '" << key << "'";
    ++executions[key];
  }
  for (const auto& key : expected_keys) {
    EXPECT_TRUE(executions.count(key)) << "the side effect of " << key << " never happened";
  }
  for (const auto& [key, n] : printed_) {
    EXPECT_GE(executions[key], n) << "printed step " << key << " is not in the ledger as often";
  }
  int max_executions = 0;
  for (const auto& [key, n] : executions) max_executions = std::max(max_executions, n);
  std::printf(
      "crash_server_test: %.1f s; kills: keeld %d, workers %d and %d; ledger: %d executions of %zu activities "
      "(%d re-executions, at most %d of one); client: %d retried calls, %d signals retried after the "
      "workflow closed\n",
      seconds, kills_[0], kills_[1], kills_[2], line_count, executions.size(), line_count - static_cast<int>(executions.size()),
      max_executions, client_->retries(), client_->signals_after_close());
}

}  // namespace
}  // namespace keel::testing::crash_server
