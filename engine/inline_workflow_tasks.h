// InlineWorkflowTasks: lets an embedded engine run a workflow task in the thread of the
// transition that schedules it (a start, a signal, an activity's outcome, a timer), and
// commit the transition and the task's completion as one transaction: one fsync
// instead of two, and no hand-off to a polling thread. A Worker on an embedded Engine
// registers itself; nothing changes in the history (the task's scheduled, started and
// completed events are written as if a poller had taken it at once).
#pragma once

#include <string>

#include "keel/v1/workflow_service.pb.h"

namespace keel {

class InlineWorkflowTasks {
 public:
  virtual ~InlineWorkflowTasks() = default;

  // Runs `task` (what a poll would have returned) and fills `completion` (commands,
  // identity, eager activity). Returns false when it cannot run the task here and now
  // (the run's state is not cached, the worker is stopping); the task is then handed
  // out by a poll as usual. Called with the run locked: it must not call the engine.
  virtual bool Run(const v1::PollWorkflowTaskQueueResponse& task,
                   v1::RespondWorkflowTaskCompletedRequest* completion) = 0;
  // After a Run that returned true: whether the transaction committed, and the eager
  // activity's task leased to this worker (when the completion asked for one and it
  // committed; else null). Called on the same thread, with the run still locked.
  virtual void Done(const std::string& run_id, bool committed,
                    v1::PollActivityTaskQueueResponse* eager_activity) = 0;
};

}  // namespace keel
