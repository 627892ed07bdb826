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

  HistoryBuilder& Signaled(const std::string& name, const Payloads& input = {});
  HistoryBuilder& CancelRequested();
  HistoryBuilder& SideEffectMarker(int64_t seq, const Payload& value);

  HistoryBuilder& Completed(const Payloads& result = {});
  HistoryBuilder& Failed(const std::string& error_type, const std::string& message);
  HistoryBuilder& Canceled();

  // Later events get later times.
  HistoryBuilder& AdvanceTime(Duration d);

  History Build() const { return History(proto_); }
  int64_t last_event_id() const { return proto_.events_size(); }

 private:
  v1::HistoryEvent* Add();
  int64_t ScheduledId(const std::string& activity_id) const;

  v1::History proto_;
  Time now_;
  int64_t last_wft_scheduled_ = 0;
  int64_t last_wft_started_ = 0;
  int64_t last_wft_completed_ = 0;
  int activity_seq_ = 0;
  std::map<std::string, int64_t> activities_;   // activity id -> scheduled event id
  std::map<std::string, int64_t> timers_;       // timer id -> started event id
};

}  // namespace keel::testing
