// TaskMatcher: in-memory task queues that hand committed tasks to waiting pollers with
// no polling delay. Owned by the engine; thread-safe. Holds only references (the task
// rows are the durable truth, reloaded at startup), and may hand out a task that is no
// longer valid: the engine checks each one against the run's state and skips stale ones.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "engine/clock.h"
#include "engine/store/store.h"

namespace keel::core {

struct TaskRef {
  int64_t exec_id = 0;
  int64_t ref = 0;  // activity: scheduled event id; workflow task: 0
};

class TaskMatcher {
 public:
  explicit TaskMatcher(Clock& clock) : clock_(clock) {}

  void Add(const std::string& namespace_name, const std::string& task_queue, store::TaskKind kind,
           TaskRef task);

  // Waits until a task is queued, `deadline` passes, this identity's polls are cancelled
  // or the matcher shuts down. nullopt for all but the first.
  std::optional<TaskRef> Poll(const std::string& namespace_name, const std::string& task_queue,
                              store::TaskKind kind, const std::string& identity, Time deadline);

  // Ends every poll of `identity`, now and later (a worker shutting down; identities are
  // unique per worker instance).
  void CancelPolls(const std::string& identity);
  // Ends every poll, now and later.
  void Shutdown();

  size_t Backlog(const std::string& namespace_name, const std::string& task_queue,
                 store::TaskKind kind);
  // True when no queue has both tasks and pollers waiting for them (tasks on a queue
  // nobody polls do not count: nothing will happen to them).
  bool Idle();

 private:
  using Key = std::tuple<std::string, std::string, int>;
  struct Queue {
    std::deque<TaskRef> tasks;
    std::condition_variable cv;
    int waiting = 0;
  };
  Queue& QueueFor(const Key& key);  // requires mu_

  Clock& clock_;
  std::mutex mu_;
  std::map<Key, std::unique_ptr<Queue>> queues_;
  std::set<std::string> shut_down_;
  bool shutdown_ = false;
};

}  // namespace keel::core
