// RunDriver: runs one workflow run's code against its history. It feeds events to the
// code in the batches the original run saw (everything up to each WorkflowTaskStarted),
// runs the code until it blocks (see scheduler.h for the order), and matches the
// commands the code produces, in order, against the command events recorded after each
// WorkflowTaskCompleted. Live, the commands of the last (unrecorded) task are returned
// to the engine; replaying, a mismatch is a NonDeterminismError naming the event.
//
// run_driver.cc holds events, activations and matching; run_driver_operations.cc the
// operations workflow code starts through WorkflowContext.
// Used by the Worker (one driver per cached run) and by the Replayer. Single-threaded.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <google/protobuf/repeated_ptr_field.h>

#include "engine/registry.h"
#include "engine/runtime/scheduler.h"
#include "engine/status.h"
#include "engine/workflow.h"
#include "keel/v1/command.pb.h"
#include "keel/v1/history.pb.h"

namespace keel::internal {

class CommandMachine;
class ActivityMachine;
class TimerMachine;
class SignalWaitMachine;
class ChildWorkflowMachine;
class ExternalRequestMachine;

// Thrown by an operation started from a query handler; RunDriver::Query answers it with
// kFailedPrecondition.
struct QueryOperationRejected : std::logic_error {
  using std::logic_error::logic_error;
};

class RunDriver {
 public:
  using Events = google::protobuf::RepeatedPtrField<v1::HistoryEvent>;

  RunDriver(const Registry& registry, WorkflowInfo info);
  ~RunDriver();
  RunDriver(const RunDriver&) = delete;
  RunDriver& operator=(const RunDriver&) = delete;

  // Applies `events`, which continue the ones applied so far (the first must be
  // last_event_id() + 1). When they end with a WorkflowTaskStarted, runs that task live
  // and returns its commands. Errors: kNondeterminism (replay mismatch), kInvalidArgument
  // (unknown workflow type, undecodable input), kInternal (workflow code threw something
  // other than a keel::Error). After an error the driver is unusable.
  Status Advance(const Events& events, std::vector<v1::Command>* commands);

  // Answers a query from the run's current state with its OnQuery handler. kInvalidArgument
  // names the registered queries when `name` is unknown.
  Result<Payloads> Query(const std::string& name, const Payloads& args);

  int64_t last_event_id() const { return last_event_id_; }
  // The WorkflowTaskStarted of the last task this driver ran.
  int64_t last_started_event_id() const { return last_started_event_id_; }
  bool finished() const { return finished_; }
  bool broken() const { return broken_; }
  // The events the engine wrote after this driver's last task (its WorkflowTaskCompleted
  // and its commands' events), when the worker learned them from the completion's
  // response: with them a worker can run the run's next task itself on an activity's
  // result (WorkflowTaskOnResult). Empty when not known.
  Events& unseen_events() { return unseen_events_; }
  // Replayer mode: even a final, unrecorded task counts as replaying (no logging).
  void set_replay_only(bool v) { replay_only_ = v; }
  // Set when Advance failed because the workflow type is not registered.
  bool unknown_workflow_type() const { return unknown_type_; }
  // The event a NonDeterminismError named (0 when none).
  int64_t divergence_event_id() const { return divergence_event_id_; }

  // ---- for WorkflowContext and the machines ----
  WorkflowContext& context() { return context_; }
  WorkflowContext& disconnected_context() { return disconnected_context_; }
  const WorkflowInfo& info() const { return info_; }
  Scheduler& scheduler() { return scheduler_; }
  Time now() const { return now_; }
  bool replaying() const { return replaying_; }
  bool cancel_requested() const { return cancel_requested_; }
  uint64_t NextRandom();

  void AddCommand(v1::Command command, std::shared_ptr<CommandMachine> owner);
  // Removes `owner`'s command of the current task (cancelled before it was sent).
  void DropCommand(const CommandMachine* owner);
  void RegisterActivity(int64_t scheduled_event_id, std::shared_ptr<ActivityMachine> m);
  void RegisterChild(int64_t initiated_event_id, std::shared_ptr<ChildWorkflowMachine> m);
  void RegisterExternal(int64_t initiated_event_id, std::shared_ptr<ExternalRequestMachine> m);

  // Operations (run_driver_operations.cc). `detached` operations ignore the workflow's
  // cancellation (WorkflowContext::Disconnected).
  void StartActivity(const std::string& type, const ActivityOptions& options, Payloads input,
                     std::shared_ptr<PayloadSink> sink, bool detached);
  std::shared_ptr<FutureState<void>> StartTimer(Duration d, bool detached);
  void StartChild(const std::string& type, const ChildWorkflowOptions& options, Payloads input,
                  std::shared_ptr<PayloadSink> sink, bool detached);
  std::shared_ptr<FutureState<void>> SignalExternal(const std::string& workflow_id, const std::string& run_id,
                                                    const std::string& name, Payloads input, bool detached);
  std::shared_ptr<FutureState<void>> RequestCancelExternal(const std::string& workflow_id,
                                                           const std::string& run_id, bool child_only,
                                                           bool detached);
  void WaitSignal(const std::string& name, std::shared_ptr<PayloadSink> sink, bool detached);
  void OnSignal(const std::string& name, std::function<void(const Payloads&)> handler);
  void OnQuery(const std::string& name, std::function<Payloads(const Payloads&)> handler);
  void RemoveSignalWaiter(const std::string& name, const SignalWaitMachine* m);
  std::shared_ptr<FutureState<bool>> WaitUntil(std::function<bool()> condition,
                                               std::optional<Duration> timeout, bool detached);
  Payloads SideEffect(const std::function<Payloads()>& fn);
  bool Patched(const std::string& change_id, bool deprecated);
  void UpsertSearchAttributes(const std::map<std::string, nlohmann::json>& attributes);

 private:
  Events unseen_events_;
  struct PendingCommand {
    v1::Command command;
    std::shared_ptr<CommandMachine> owner;
  };
  struct Condition {
    std::function<bool()> check;
    std::shared_ptr<FutureState<bool>> result;
    std::shared_ptr<FutureState<void>> timer;
  };

  void ApplyEvent(const v1::HistoryEvent& e);
  void MatchCommandEvent(const v1::HistoryEvent& e);
  void CheckNoUnmatchedCommands(const v1::HistoryEvent& e, bool at_end = false);
  void Activate(bool replaying);
  void CollectRecordedMarkers(const Events& events, int from);
  bool CheckConditions();
  void FinishIfDone();
  void CancelEverything();
  void DeliverSignal(const std::string& name, const Payloads& input);
  // Query handlers only read state: an operation started from one would change the run
  // (sequence numbers, waiters, random state) in a way a replay never sees.
  void RejectInQuery(const char* operation) const;
  // Keeps `state` for Abandon() on destruction and, unless detached, for cancellation.
  void Track(std::shared_ptr<FutureStateBase> state, bool detached);

  const Registry& registry_;
  WorkflowInfo info_;
  WorkflowContext context_;
  WorkflowContext disconnected_context_;
  Scheduler scheduler_;
  Task<Payloads> root_;
  Payloads input_;
  bool root_started_ = false;

  int64_t last_event_id_ = 0;
  int64_t last_started_event_id_ = 0;
  Time now_;
  bool replaying_ = false;
  bool task_recorded_ = false;  // the current task's commands are in the history
  bool finished_ = false;
  bool broken_ = false;
  bool unknown_type_ = false;
  int64_t divergence_event_id_ = 0;
  bool cancel_requested_ = false;
  uint64_t random_state_ = 0;
  const std::string* running_query_ = nullptr;  // set while a query handler runs

  int64_t activity_seq_ = 0;
  int64_t timer_seq_ = 0;
  int64_t side_effect_seq_ = 0;
  int64_t child_seq_ = 0;

  std::deque<PendingCommand> commands_;  // produced, not yet matched with their events
  // How many of commands_ (from the front) belong to a finished task and must be matched
  // by the command events that follow its WorkflowTaskCompleted.
  size_t awaiting_match_ = 0;
  bool replay_only_ = false;
  std::map<int64_t, std::shared_ptr<ActivityMachine>> activities_;  // by scheduled event id
  std::map<std::string, std::shared_ptr<TimerMachine>> timers_;     // by timer id
  std::map<std::string, std::shared_ptr<TimerMachine>> cancelled_timers_;  // cancel not yet recorded
  std::map<int64_t, std::shared_ptr<ChildWorkflowMachine>> children_;       // by initiated event id
  std::map<int64_t, std::shared_ptr<ExternalRequestMachine>> externals_;    // by initiated event id
  std::map<std::string, std::deque<Payloads>> signal_buffer_;
  std::map<std::string, std::deque<std::shared_ptr<SignalWaitMachine>>> signal_waiters_;
  std::map<std::string, std::function<void(const Payloads&)>> signal_handlers_;
  std::map<std::string, std::function<Payloads(const Payloads&)>> query_handlers_;
  std::vector<Condition> conditions_;
  std::map<int64_t, Payloads> recorded_side_effects_;  // of the task being replayed
  std::set<std::string> recorded_patches_;             // of the task being replayed
  std::map<std::string, bool> patches_;                // decided Patched() answers
  std::vector<std::weak_ptr<FutureStateBase>> pending_;      // abandoned when the driver goes
  std::vector<std::weak_ptr<FutureStateBase>> cancellable_;  // cancelled with the workflow
};

}  // namespace keel::internal
