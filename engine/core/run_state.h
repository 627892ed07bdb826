// RunState: the engine's in-memory view of one run: its persisted mutable state plus the
// volatile leases of tasks handed to workers (never persisted: after a restart every
// task is simply handed out again). Guarded by its own mutex; the engine holds at most
// one RunState lock at a time.
#pragma once

#include <semaphore.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "keel/v1/execution_state.pb.h"

namespace keel::core {

struct WorkflowTaskLease {
  uint64_t lease_id = 0;
  Time started_time;
  int64_t started_event_id = 0;    // the WorkflowTaskStarted id shown to the worker
  int64_t scheduled_event_id = 0;  // the WorkflowTaskScheduled id (synthesized when transient)
  std::string identity;
  std::string request_id;
};

struct ActivityLease {
  uint64_t lease_id = 0;
  Time started_time;
  Time deadline;                 // start-to-close
  std::optional<Time> heartbeat_deadline;
  std::string identity;
  // Heartbeat details not yet written (EngineOptions::heartbeat_save_interval), and when
  // details were last written for this attempt.
  std::optional<v1::Payloads> unsaved_details;
  Time unsaved_time;
  std::optional<Time> details_saved;
};

// A run's lock. A POSIX semaphore rather than a std::mutex, because a call that commits
// asynchronously (a server's) locks its run on the thread that received it and releases
// it on the store's writer thread, once the commit is done; a mutex must be unlocked by
// the thread that locked it.
class RunMutex {
 public:
  RunMutex() { sem_init(&sem_, 0, 1); }
  ~RunMutex() { sem_destroy(&sem_); }
  RunMutex(const RunMutex&) = delete;
  RunMutex& operator=(const RunMutex&) = delete;
  void lock() {
    while (sem_wait(&sem_) != 0 && errno == EINTR) {
    }
  }
  bool try_lock() { return sem_trywait(&sem_) == 0; }
  void unlock() { sem_post(&sem_); }

 private:
  sem_t sem_;
};
using RunLock = std::unique_lock<RunMutex>;

struct RunState {
  RunMutex mu;
  int64_t exec_id = 0;
  bool loaded = false;
  v1::ExecutionState state;
  std::optional<WorkflowTaskLease> workflow_task_lease;
  std::map<int64_t, ActivityLease> activity_leases;  // by scheduled event id
  std::string last_workflow_task_note;               // why the task is stuck, for describe

  // Caches of committed history, so dispatching a task needs no store read. Both are
  // rebuilt from the store when missing (after a restart or eviction).
  // The events after previous_started_event_id, when recent_events_valid.
  std::vector<v1::HistoryEvent> recent_events;
  bool recent_events_valid = false;
  std::map<int64_t, v1::Payloads> activity_inputs;  // pending activities' inputs

  bool Running() const { return state.status() == v1::WORKFLOW_EXECUTION_STATUS_RUNNING; }
  bool WorkflowTaskInFlight() const { return workflow_task_lease.has_value(); }
};

}  // namespace keel::core
