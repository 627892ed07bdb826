// HistoryBuilder: writes canned histories for replay tests, event by event, the way the
// engine would record them. Each builder call appends one event (WorkflowTask() appends
// the three of a completed task); ids and times follow automatically. Not thread-safe.
//
//   History h = HistoryBuilder("greet")
//       .Started({ToPayload("ann")})   // 1 WorkflowExecutionStarted
//       .WorkflowTask()                // 2-4 WorkflowTask Scheduled/Started/Completed
//       .ActivityScheduled("hello")    // 5  (activity id "1")
//       .ActivityStarted("1")          // 6
//       .ActivityCompleted("1", {ToPayload("hi ann")})  // 7
//       .WorkflowTask()                // 8-10
//       .Completed({ToPayload("hi ann")})                // 11
//       .Build();
//
// Children and external requests are named by the child's workflow id (resp. the target
// workflow id): later events find the initiated event of the most recent
// ChildWorkflowInitiated / SignalExternalInitiated / RequestCancelExternalInitiated for it.
//
//   HistoryBuilder("parent")
//       .Started()                                        // 1
//       .WorkflowTask()                                   // 2-4
//       .ChildWorkflowInitiated("square", "kid", {ToPayload(6)})  // 5
//       .ChildWorkflowStarted("kid", "run-7")             // 6  (initiated_event_id 5)
//       .ChildWorkflowCompleted("kid", {ToPayload(36)})   // 7
//       .WorkflowTask()                                   // 8-10
//       .SignalExternalInitiated("other", "news", {})     // 11
//       .ExternalSignaled("other")                        // 12 (initiated_event_id 11)
//       .Build();
#pragma once

#include <map>
#include <string>

#include "engine/clock.h"
#include "engine/history.h"
#include "engine/payload.h"

namespace keel::testing {

class HistoryBuilder {
 public:
  explicit HistoryBuilder(std::string workflow_type, std::string workflow_id = "wf-1",
                          std::string run_id = "00000000-0000-4000-8000-000000000001");

  HistoryBuilder& Started(const Payloads& input = {});
  HistoryBuilder& WorkflowTask();  // scheduled + started + completed
  HistoryBuilder& WorkflowTaskScheduled();
  HistoryBuilder& WorkflowTaskStarted();
  HistoryBuilder& WorkflowTaskCompleted();
  HistoryBuilder& WorkflowTaskFailed(const std::string& message);

  HistoryBuilder& ActivityScheduled(const std::string& type, const Payloads& input = {},
                                    std::string activity_id = "");
  HistoryBuilder& ActivityStarted(const std::string& activity_id, int attempt = 1);
  HistoryBuilder& ActivityCompleted(const std::string& activity_id, const Payloads& result = {});
  HistoryBuilder& ActivityFailed(const std::string& activity_id, const std::string& error_type,
                                 const std::string& message, bool non_retryable = false);
  HistoryBuilder& ActivityCancelRequested(const std::string& activity_id);
  HistoryBuilder& ActivityCanceled(const std::string& activity_id);

  HistoryBuilder& TimerStarted(const std::string& timer_id, Duration d);
  HistoryBuilder& TimerFired(const std::string& timer_id);
  HistoryBuilder& TimerCanceled(const std::string& timer_id);

  // Child workflows (parent close policy terminate, the parent's namespace and task queue).
  HistoryBuilder& ChildWorkflowInitiated(const std::string& workflow_type,
                                         const std::string& child_workflow_id,
                                         const Payloads& input = {});
  HistoryBuilder& ChildWorkflowStarted(const std::string& child_workflow_id,
                                       const std::string& run_id);
  HistoryBuilder& ChildWorkflowCompleted(const std::string& child_workflow_id,
                                         const Payloads& result = {});
  HistoryBuilder& ChildWorkflowFailed(const std::string& child_workflow_id,
                                      const std::string& error_type, const std::string& message);
  HistoryBuilder& ChildWorkflowCanceled(const std::string& child_workflow_id,
                                        const Payloads& details = {});
  HistoryBuilder& ChildWorkflowTimedOut(const std::string& child_workflow_id);
  HistoryBuilder& ChildWorkflowTerminated(const std::string& child_workflow_id);
  HistoryBuilder& StartChildWorkflowFailed(const std::string& child_workflow_id,
                                           const std::string& cause = "WORKFLOW_ALREADY_EXISTS");

  // Signals and cancel requests to other workflows (their current run: run id empty).
  HistoryBuilder& SignalExternalInitiated(const std::string& target_workflow_id,
                                          const std::string& signal, const Payloads& input = {});
  HistoryBuilder& ExternalSignaled(const std::string& target_workflow_id);
  HistoryBuilder& SignalExternalFailed(const std::string& target_workflow_id,
                                       const std::string& cause);
  HistoryBuilder& RequestCancelExternalInitiated(const std::string& target_workflow_id,
                                                 bool child_workflow_only = false);
  HistoryBuilder& ExternalCancelRequested(const std::string& target_workflow_id);
  HistoryBuilder& RequestCancelExternalFailed(const std::string& target_workflow_id,
                                              const std::string& cause);

  HistoryBuilder& Signaled(const std::string& name, const Payloads& input = {});
  HistoryBuilder& CancelRequested();
  HistoryBuilder& SideEffectMarker(int64_t seq, const Payload& value);
  // The marker ctx.Patched (deprecated = false) or ctx.DeprecatePatch records.
  HistoryBuilder& PatchMarker(const std::string& change_id, bool deprecated = false);
  HistoryBuilder& UpsertSearchAttributes(const std::map<std::string, nlohmann::json>& attributes);

  HistoryBuilder& Completed(const Payloads& result = {});
  HistoryBuilder& Failed(const std::string& error_type, const std::string& message);
  HistoryBuilder& Canceled();
  // Continue-as-new with the same workflow type and task queue, no timeouts.
  HistoryBuilder& ContinuedAsNew(const std::string& new_run_id, const Payloads& input = {});

  // Later events get later times.
  HistoryBuilder& AdvanceTime(Duration d);

  History Build() const { return History(proto_); }
  int64_t last_event_id() const { return proto_.events_size(); }

 private:
  v1::HistoryEvent* Add();
  int64_t ScheduledId(const std::string& activity_id) const;
  struct Child {
    int64_t initiated_event_id = 0;
    std::string workflow_type;
    std::string run_id;  // set by ChildWorkflowStarted
  };
  Child& ChildOf(const std::string& child_workflow_id);
  int64_t ExternalOf(const std::string& target_workflow_id) const;
  // Fills the fields every child close event has.
  template <typename A>
  void FillChildClose(A* a, const std::string& child_workflow_id);

  v1::History proto_;
  Time now_;
  int64_t last_wft_scheduled_ = 0;
  int64_t last_wft_started_ = 0;
  int64_t last_wft_completed_ = 0;
  int activity_seq_ = 0;
  std::map<std::string, int64_t> activities_;   // activity id -> scheduled event id
  std::map<std::string, int64_t> timers_;       // timer id -> started event id
  std::map<std::string, Child> children_;       // child workflow id -> its latest start
  std::map<std::string, int64_t> externals_;    // target workflow id -> latest initiated event id
};

}  // namespace keel::testing
