// TestEnvironment: an engine, a worker and a client in one process on a fresh SQLite
// file in a temporary directory, with a ManualClock, for tests and examples. Restart()
// closes everything and reopens it on the same file, as a crash-and-restart would.
// Time moves only when the test says so (AdvanceTime). Not thread-safe: drive it from the
// test's thread.
#pragma once

#include <functional>
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

  const Registry* registry_;
  TestEnvironmentOptions options_;
  std::string temp_dir_;
  std::string db_path_;
  ManualClock clock_;
  std::unique_ptr<Random> random_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<Client> client_;
};

}  // namespace keel::testing
