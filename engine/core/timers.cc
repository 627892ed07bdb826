// What each timer does when it is due. Durable timers fire in one transition that also
// deletes their row, so each fires once; a timer whose reason is gone (the activity
// completed, the run ended) just has its row deleted. Volatile deadlines (leases) end a
// task attempt that a worker did not finish in time.
#include "engine/core/engine_impl.h"
#include "engine/history/convert.h"
#include "engine/log.h"

namespace keel::core {

namespace {

v1::Failure Timeout(v1::TimeoutType type, const std::string& what, const v1::Payloads& details) {
  v1::Failure f;
  f.set_message(what);
  f.set_source("keel-engine");
  f.mutable_timeout_failure_info()->set_timeout_type(type);
  *f.mutable_timeout_failure_info()->mutable_last_heartbeat_details() = details;
  return f;
}

}  // namespace

void EngineImpl::OnTimer(const TimerEntryKey& key, Time fire_time) {
  if (closing_) return;
  if (key.kind == static_cast<int>(DeadlineKind::kRecoveredActivity)) return ReleaseRecovered(key.exec_id, key.ref);
  RunLock lock;
  auto run = LockRun(key.exec_id, lock);
  if (key.kind >= static_cast<int>(DeadlineKind::kWorkflowTaskLease)) {
    if (run.ok()) OnDeadline(**run, static_cast<DeadlineKind>(key.kind), key.ref);
    return;
  }
  auto kind = static_cast<store::TimerKind>(key.kind);
  if (kind == store::TimerKind::kChildStart || kind == store::TimerKind::kParentNotify ||
      kind == store::TimerKind::kParentClosePolicy || kind == store::TimerKind::kExternalRequest) {
    if (lock.owns_lock()) lock.unlock();
    return OnCrossRunTimer(kind, key.exec_id, key.ref);
  }
  if (!run.ok()) {
    if (run.status().code() != StatusCode::kNotFound) {
      Log().error("timer for run {} could not load the run: {}", key.exec_id, run.status().ToString());
      return;
    }
    store::Transition t;  // an orphan row: delete it
    t.remove_timers.push_back({key.exec_id, kind, key.ref});
    (void)store_->Commit(std::move(t));
    return;
  }
  RunState& r = **run;
  Mutation m(r, clock_.Now());
  m.RemoveTimer(kind, key.ref);
  if (r.Running()) OnDurableTimer(r, m, kind, key.ref);
  Status st = CommitHandingOut(r, m);  // not inline: slow workflow code must not hold up timers
  if (!st.ok()) {
    // Try again shortly; the row is still in the store.
    store::TimerRow row{{key.exec_id, kind, key.ref}, ToMicros(clock_.Now() + std::chrono::seconds(1))};
    timers_->OnCommitted({row}, {});
    return;
  }
  if (!r.Running()) {
    ReleaseWorkflowTaskLease(r);
    while (!r.activity_leases.empty()) ReleaseActivityLease(r, r.activity_leases.begin()->first);
  } else {
    for (auto it = r.activity_leases.begin(); it != r.activity_leases.end();) {
      int64_t id = (it++)->first;
      if (!r.state.activities().count(id)) ReleaseActivityLease(r, id);
    }
  }
}

void EngineImpl::OnDurableTimer(RunState& run, Mutation& m, store::TimerKind kind, int64_t ref) {
  auto& s = m.state();
  auto activity = s.mutable_activities()->find(ref);
  const bool has_activity = activity != s.mutable_activities()->end();
  switch (kind) {
    case store::TimerKind::kUserTimer: {
      for (auto it = s.mutable_timers()->begin(); it != s.mutable_timers()->end(); ++it) {
        if (it->second.started_event_id() != ref) continue;
        auto* a = m.AddForWorkflow()->mutable_timer_fired();
        a->set_timer_id(it->first);
        a->set_started_event_id(ref);
        s.mutable_timers()->erase(it);
        break;
      }
      return;
    }
    case store::TimerKind::kActivityRetry:
      if (has_activity && activity->second.backing_off()) {
        activity->second.set_backing_off(false);
        activity->second.clear_retry_time();
        *activity->second.mutable_current_attempt_scheduled_time() = ToProtoTime(m.now());
        ScheduleActivityAttempt(m, activity->second);
      }
      return;
    case store::TimerKind::kActivityScheduleToStart:
      if (has_activity && Held(run.exec_id, ref)) {
        // Held after a restart: it may have started. Measured again from now.
        m.AddTimer(kind, ref, m.now() + FromProtoDuration(activity->second.schedule_to_start_timeout()));
        return;
      }
      if (has_activity && !activity->second.backing_off() && !run.activity_leases.count(ref)) {
        ActivityAttemptFailed(run, m, ref,
                              Timeout(v1::TIMEOUT_TYPE_SCHEDULE_TO_START,
                                      "activity schedule-to-start timeout: no worker took it in time",
                                      activity->second.heartbeat_details()),
                              "");
      }
      return;
    case store::TimerKind::kActivityScheduleToClose:
      if (has_activity) {
        TakeUnsavedDetails(run, m, ref);
        ActivityAttemptFailed(run, m, ref,
                              Timeout(v1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, "activity schedule-to-close timeout",
                                      activity->second.heartbeat_details()),
                              "");
      }
      return;
    case store::TimerKind::kWorkflowTaskRetry:
      if (s.has_workflow_task() && s.workflow_task().backing_off()) {
        auto* wt = s.mutable_workflow_task();
        wt->set_backing_off(false);
        wt->clear_retry_time();
        *wt->mutable_scheduled_time() = ToProtoTime(m.now());
        m.AddTask(store::TaskKind::kWorkflow, 0, s.task_queue());
      }
      return;
    case store::TimerKind::kChildStart:
    case store::TimerKind::kExternalRequest:
    case store::TimerKind::kParentNotify:
    case store::TimerKind::kParentClosePolicy:
      return;  // cross_run.cc
    case store::TimerKind::kWorkflowExecutionTimeout:
    case store::TimerKind::kWorkflowRunTimeout: {
      m.FlushBuffered();
      auto* a = m.Append()->mutable_workflow_execution_timed_out();
      a->set_retry_state(v1::RETRY_STATE_TIMEOUT);
      a->set_timeout_type(kind == store::TimerKind::kWorkflowRunTimeout ? v1::TIMEOUT_TYPE_START_TO_CLOSE
                                                                        : v1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE);
      m.Close(v1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT);
      return;
    }
  }
}

void EngineImpl::OnDeadline(RunState& run, DeadlineKind kind, int64_t ref) {
  const Time now = clock_.Now();
  if (kind == DeadlineKind::kWorkflowTaskLease) {
    if (!run.workflow_task_lease || !run.Running()) return;
    Time deadline = run.workflow_task_lease->started_time + FromProtoDuration(run.state.workflow_task_timeout());
    if (deadline > now) return;
    Log().warn("workflow {} (run {}): workflow task timed out on worker {}; handing it out again",
               run.state.workflow_id(), run.state.run_id(), run.workflow_task_lease->identity);
    run.last_workflow_task_note = "the last attempt timed out on worker " + run.workflow_task_lease->identity;
    ReleaseWorkflowTaskLease(run);
    if (run.state.buffered_events_size() > 0) {
      Mutation m(run, now);
      m.FlushBuffered();
      if (!Commit(run, m).ok()) return;  // flushed on the next dispatch instead
    }
    matcher_.Add(run.state.namespace_(), run.state.task_queue(), store::TaskKind::kWorkflow, {run.exec_id, 0});
    return;
  }
  auto lease = run.activity_leases.find(ref);
  if (lease == run.activity_leases.end() || !run.state.activities().count(ref)) return;
  v1::TimeoutType type;
  if (kind == DeadlineKind::kActivityLease && lease->second.deadline <= now) {
    type = v1::TIMEOUT_TYPE_START_TO_CLOSE;
  } else if (kind == DeadlineKind::kActivityHeartbeat && lease->second.heartbeat_deadline &&
             *lease->second.heartbeat_deadline <= now) {
    type = v1::TIMEOUT_TYPE_HEARTBEAT;
  } else {
    return;  // extended meanwhile
  }
  Mutation m(run, now);
  TakeUnsavedDetails(run, m, ref);
  const auto& a = m.state().activities().at(ref);
  std::string identity = lease->second.identity;
  ActivityAttemptFailed(run, m, ref,
                        Timeout(type,
                                type == v1::TIMEOUT_TYPE_HEARTBEAT ? "activity heartbeat timeout"
                                                                   : "activity start-to-close timeout",
                                a.heartbeat_details()),
                        identity);
  if (Commit(run, m).ok()) ReleaseActivityLease(run, ref);
}

}  // namespace keel::core
