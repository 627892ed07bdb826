// TestEnvironment: an engine, a worker and a client in one process on a fresh SQLite
// file in a temporary directory, with a ManualClock, for tests and examples. Restart()
// closes everything and reopens it on the same file, as a crash-and-restart would.
// Time moves when the test says so (AdvanceTime), or, with time skipping, by itself:
// whenever every workflow is blocked the clock jumps to the next timer, so a workflow
// that waits 30 days completes in milliseconds. Not thread-safe: drive it from the
// test's thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <memory>
#include <string>

#include "engine/client.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "engine/registry.h"
#include "engine/worker.h"
#include "keel/v1/history.pb.h"

namespace keel::testing {

struct TestEnvironmentOptions {
  // Empty: a new temporary directory, removed with the environment.
  std::string db_path;
  bool group_commit = true;
  Durability durability = Durability::kFull;
  // Run ids and lease ids come from this seed, so histories are reproducible.
  uint64_t seed = 42;
  WorkerOptions worker;
  bool start_worker = true;
  // Jump the clock to the next timer whenever nothing else can happen.
  bool time_skipping = false;
};

class TestEnvironment {
 public:
  explicit TestEnvironment(const Registry& registry, TestEnvironmentOptions options = {});
  ~TestEnvironment();

  Engine& engine() { return *engine_; }
  Client& client() { return *client_; }
  Worker& worker() { return *worker_; }
  ManualClock& clock() { return clock_; }
  const std::string& db_path() const { return db_path_; }

  // Moves the clock; due timers fire (asynchronously: wait for their effect).
  void AdvanceTime(Duration d) { clock_.Advance(d); }
  // Turns time skipping on or off (see TestEnvironmentOptions::time_skipping).
  void SetTimeSkipping(bool on);
  // How many times time skipping moved the clock.
  int time_skips() const { return skips_.load(); }
  // Stops the worker and closes the engine, then reopens both on the same database.
  void Restart();
  // Replaces the worker with one running `registry` (a new deploy of the code).
  void Deploy(const Registry& registry);

  // Blocks until the history of `workflow_id` (current run) has an event for which
  // `match` is true, and returns it. Waits on the engine's change notifications.
  v1::HistoryEvent WaitForEvent(const std::string& workflow_id,
                                const std::function<bool(const v1::HistoryEvent&)>& match);

 private:
  void Open();
  void Close();
  void SkipLoop();

  const Registry* registry_;
  TestEnvironmentOptions options_;
  std::string temp_dir_;
  std::string db_path_;
  ManualClock clock_;
  std::unique_ptr<Random> random_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<Client> client_;

  std::mutex skip_mu_;
  std::condition_variable skip_cv_;
  uint64_t activity_ = 0;  // bumped by the engine's activity listener
  bool skipping_ = false;
  bool closed_for_restart_ = false;
  bool stop_skipper_ = false;
  std::atomic<int> skips_{0};
  std::thread skipper_;
};

}  // namespace keel::testing
