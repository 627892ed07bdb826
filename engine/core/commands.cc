// Applying the commands of a completed workflow task, in order. Each command writes the
// event that records it and the tasks/timers it needs. A command that cannot be applied
// (unknown timer, duplicate activity id, bad timeouts) makes the whole completion fail
// with BAD_COMMAND: nothing of it is written.
#include <algorithm>

#include "engine/core/engine_impl.h"
#include "engine/core/retry.h"
#include "engine/core/validation.h"
#include "engine/history/convert.h"
#include "engine/history/event_util.h"

namespace keel::core {

namespace {

}  // namespace

void EngineImpl::ScheduleActivityAttempt(Mutation& m, const v1::ActivityState& a) {
  m.AddTask(store::TaskKind::kActivity, a.scheduled_event_id(), a.task_queue());
  Duration s2s = FromProtoDuration(a.schedule_to_start_timeout());
  if (s2s > Duration::zero()) {
    m.AddTimer(store::TimerKind::kActivityScheduleToStart, a.scheduled_event_id(), m.now() + s2s);
  }
}

Status EngineImpl::ApplyCommands(RunState& run, Mutation& m,
                                 const google::protobuf::RepeatedPtrField<v1::Command>& commands,
                                 int64_t completed_event_id, bool& closed, ContinueAsNewPlan* plan) {
  closed = false;
  std::optional<v1::WorkflowExecutionContinuedAsNewEventAttributes>& continued = plan->continued;
  auto* continued_memo = &plan->memo;
  auto* continued_search_attributes = &plan->search_attributes;
  const Time now = m.now();
  std::vector<std::pair<int64_t, int64_t>> canceled_now;  // scheduled id, cancel request id
  for (const v1::Command& c : commands) {
    if (closed) {
      return InvalidArgument("command " + std::string(CommandTypeName(c)) +
                             " follows the command that ended the workflow");
    }
    switch (c.attributes_case()) {
      case v1::Command::kScheduleActivityTask: {
        const auto& cmd = c.schedule_activity_task();
        KEEL_RETURN_IF_ERROR(ValidateName(cmd.activity_type(), "activity_type"));
        KEEL_RETURN_IF_ERROR(ValidateName(cmd.activity_id(), "activity_id"));
        KEEL_RETURN_IF_ERROR(ValidateName(cmd.task_queue(), "activity task_queue", false));
        KEEL_RETURN_IF_ERROR(CheckPayloads(cmd.input(), "activity input"));
        for (const auto* d : {&cmd.schedule_to_close_timeout(), &cmd.schedule_to_start_timeout(),
                              &cmd.start_to_close_timeout(), &cmd.heartbeat_timeout()}) {
          KEEL_RETURN_IF_ERROR(ValidateDuration(*d, "activity timeouts"));
        }
        KEEL_RETURN_IF_ERROR(ValidateRetryPolicy(cmd.retry_policy(), "activity retry_policy"));
        for (const auto& [id, existing] : m.state().activities()) {
          if (existing.activity_id() == cmd.activity_id()) {
            return InvalidArgument("activity id '" + cmd.activity_id() + "' is already in use by a pending activity");
          }
        }
        Duration s2c = FromProtoDuration(cmd.schedule_to_close_timeout());
        Duration s2c_or_start = FromProtoDuration(cmd.start_to_close_timeout());
        if (s2c_or_start <= Duration::zero()) s2c_or_start = s2c;
        if (s2c_or_start <= Duration::zero()) {
          return InvalidArgument("activity '" + cmd.activity_type() +
                                 "' needs a start-to-close or a schedule-to-close timeout");
        }
        auto* e = m.Append();
        auto* a = e->mutable_activity_task_scheduled();
        a->set_activity_id(cmd.activity_id());
        a->set_activity_type(cmd.activity_type());
        a->set_task_queue(cmd.task_queue().empty() ? m.state().task_queue() : cmd.task_queue());
        *a->mutable_input() = cmd.input();
        *a->mutable_schedule_to_close_timeout() = cmd.schedule_to_close_timeout();
        *a->mutable_schedule_to_start_timeout() = cmd.schedule_to_start_timeout();
        *a->mutable_start_to_close_timeout() = ToProtoDuration(s2c_or_start);
        *a->mutable_heartbeat_timeout() = cmd.heartbeat_timeout();
        a->set_workflow_task_completed_event_id(completed_event_id);
        *a->mutable_retry_policy() = WithRetryDefaults(cmd.retry_policy());

        v1::ActivityState st;
        st.set_scheduled_event_id(e->event_id());
        st.set_activity_id(a->activity_id());
        st.set_activity_type(a->activity_type());
        st.set_task_queue(a->task_queue());
        *st.mutable_scheduled_time() = ToProtoTime(now);
        *st.mutable_current_attempt_scheduled_time() = ToProtoTime(now);
        st.set_attempt(1);
        *st.mutable_schedule_to_close_timeout() = a->schedule_to_close_timeout();
        *st.mutable_schedule_to_start_timeout() = a->schedule_to_start_timeout();
        *st.mutable_start_to_close_timeout() = a->start_to_close_timeout();
        *st.mutable_heartbeat_timeout() = a->heartbeat_timeout();
        *st.mutable_retry_policy() = a->retry_policy();
        ScheduleActivityAttempt(m, st);
        if (s2c > Duration::zero()) {
          m.AddTimer(store::TimerKind::kActivityScheduleToClose, e->event_id(), now + s2c);
        }
        (*m.state().mutable_activities())[e->event_id()] = std::move(st);
        break;
      }
      case v1::Command::kRequestCancelActivityTask: {
        int64_t id = c.request_cancel_activity_task().scheduled_event_id();
        auto it = m.state().mutable_activities()->find(id);
        if (it == m.state().mutable_activities()->end()) {
          // Its outcome may have arrived while this task ran (buffered, not yet seen by the
          // code): record the request; the outcome follows it.
          const auto& buffered = m.state().buffered_events();
          bool outcome_buffered = std::any_of(buffered.begin(), buffered.end(), [id](const v1::HistoryEvent& b) {
            return (b.has_activity_task_completed() && b.activity_task_completed().scheduled_event_id() == id) ||
                   (b.has_activity_task_failed() && b.activity_task_failed().scheduled_event_id() == id) ||
                   (b.has_activity_task_timed_out() && b.activity_task_timed_out().scheduled_event_id() == id) ||
                   (b.has_activity_task_canceled() && b.activity_task_canceled().scheduled_event_id() == id);
          });
          if (!outcome_buffered) {
            return InvalidArgument("RequestCancelActivityTask names no pending activity (scheduled event " +
                                   std::to_string(id) + ")");
          }
          auto* e = m.Append()->mutable_activity_task_cancel_requested();
          e->set_scheduled_event_id(id);
          e->set_workflow_task_completed_event_id(completed_event_id);
          break;
        }
        auto* e = m.Append();
        e->mutable_activity_task_cancel_requested()->set_scheduled_event_id(id);
        e->mutable_activity_task_cancel_requested()->set_workflow_task_completed_event_id(completed_event_id);
        if (run.activity_leases.count(id) || Held(run.exec_id, id)) {
          // Running (or maybe, held after a restart): the worker learns of it through its
          // next heartbeat; a held one nobody takes back is canceled when the hold ends.
          it->second.set_cancel_requested(true);
          it->second.set_cancel_requested_event_id(e->event_id());
        } else {
          // Not running: canceled at once, recorded after this task's command events
          // (those must stay together for replay).
          canceled_now.emplace_back(id, e->event_id());
        }
        break;
      }
      case v1::Command::kStartTimer: {
        const auto& cmd = c.start_timer();
        KEEL_RETURN_IF_ERROR(ValidateName(cmd.timer_id(), "timer_id"));
        KEEL_RETURN_IF_ERROR(ValidateDuration(cmd.start_to_fire_timeout(), "timer duration"));
        if (m.state().timers().count(cmd.timer_id())) {
          return InvalidArgument("timer id '" + cmd.timer_id() + "' is already in use by a pending timer");
        }
        auto* e = m.Append();
        auto* a = e->mutable_timer_started();
        a->set_timer_id(cmd.timer_id());
        *a->mutable_start_to_fire_timeout() = cmd.start_to_fire_timeout();
        a->set_workflow_task_completed_event_id(completed_event_id);
        Time fire = now + FromProtoDuration(cmd.start_to_fire_timeout());
        v1::TimerState t;
        t.set_timer_id(cmd.timer_id());
        t.set_started_event_id(e->event_id());
        *t.mutable_fire_time() = ToProtoTime(fire);
        (*m.state().mutable_timers())[cmd.timer_id()] = t;
        m.AddTimer(store::TimerKind::kUserTimer, e->event_id(), fire);
        break;
      }
      case v1::Command::kCancelTimer: {
        const std::string& id = c.cancel_timer().timer_id();
        int64_t started_event_id = 0;
        auto* timers = m.state().mutable_timers();
        auto it = timers->find(id);
        if (it != timers->end()) {
          started_event_id = it->second.started_event_id();
          m.RemoveTimer(store::TimerKind::kUserTimer, started_event_id);
          timers->erase(it);
        } else {
          // It fired while this task ran: drop the buffered TimerFired, the code never saw it.
          auto* buffered = m.state().mutable_buffered_events();
          auto fired = std::find_if(buffered->begin(), buffered->end(), [&](const v1::HistoryEvent& e) {
            return e.has_timer_fired() && e.timer_fired().timer_id() == id;
          });
          if (fired == buffered->end()) {
            return InvalidArgument("CancelTimer names no pending timer ('" + id + "')");
          }
          started_event_id = fired->timer_fired().started_event_id();
          buffered->erase(fired);
        }
        auto* a = m.Append()->mutable_timer_canceled();
        a->set_timer_id(id);
        a->set_started_event_id(started_event_id);
        a->set_workflow_task_completed_event_id(completed_event_id);
        break;
      }
      case v1::Command::kRecordMarker: {
        const auto& cmd = c.record_marker();
        KEEL_RETURN_IF_ERROR(ValidateName(cmd.marker_name(), "marker_name"));
        for (const auto& [k, v] : cmd.details()) {
          KEEL_RETURN_IF_ERROR(ValidateName(k, "marker detail name"));
          KEEL_RETURN_IF_ERROR(CheckPayloads(v, "marker details"));
        }
        if (cmd.has_failure()) {
          KEEL_RETURN_IF_ERROR(ValidateFailure(cmd.failure(), options_.max_payload_bytes, "marker failure"));
        }
        auto* a = m.Append()->mutable_marker_recorded();
        a->set_marker_name(cmd.marker_name());
        *a->mutable_details() = cmd.details();
        if (cmd.has_failure()) *a->mutable_failure() = cmd.failure();
        a->set_workflow_task_completed_event_id(completed_event_id);
        break;
      }
      case v1::Command::kUpsertWorkflowSearchAttributes: {
        const auto& cmd = c.upsert_workflow_search_attributes();
        for (const auto& [k, v] : cmd.search_attributes()) {
          KEEL_RETURN_IF_ERROR(ValidateName(k, "search attribute name"));
        }
        auto* a = m.Append()->mutable_upsert_workflow_search_attributes();
        *a->mutable_search_attributes() = cmd.search_attributes();
        a->set_workflow_task_completed_event_id(completed_event_id);
        for (const auto& [k, v] : cmd.search_attributes()) m.SetSearchAttribute(k, v);
        break;
      }
      case v1::Command::kCompleteWorkflowExecution: {
        KEEL_RETURN_IF_ERROR(CheckPayloads(c.complete_workflow_execution().result(), "workflow result"));
        auto* a = m.Append()->mutable_workflow_execution_completed();
        *a->mutable_result() = c.complete_workflow_execution().result();
        a->set_workflow_task_completed_event_id(completed_event_id);
        m.Close(v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
        closed = true;
        break;
      }
      case v1::Command::kFailWorkflowExecution: {
        KEEL_RETURN_IF_ERROR(ValidateFailure(c.fail_workflow_execution().failure(), options_.max_payload_bytes,
                                             "workflow failure"));
        auto* a = m.Append()->mutable_workflow_execution_failed();
        *a->mutable_failure() = c.fail_workflow_execution().failure();
        a->set_retry_state(v1::RETRY_STATE_RETRY_POLICY_NOT_SET);
        a->set_workflow_task_completed_event_id(completed_event_id);
        m.Close(v1::WORKFLOW_EXECUTION_STATUS_FAILED);
        closed = true;
        break;
      }
      case v1::Command::kCancelWorkflowExecution: {
        auto* a = m.Append()->mutable_workflow_execution_canceled();
        *a->mutable_details() = c.cancel_workflow_execution().details();
        a->set_workflow_task_completed_event_id(completed_event_id);
        m.Close(v1::WORKFLOW_EXECUTION_STATUS_CANCELED);
        closed = true;
        break;
      }
      case v1::Command::kContinueAsNewWorkflowExecution: {
        const auto& cmd = c.continue_as_new_workflow_execution();
        KEEL_RETURN_IF_ERROR(ValidateName(cmd.workflow_type(), "continue-as-new workflow_type", false));
        KEEL_RETURN_IF_ERROR(ValidateName(cmd.task_queue(), "continue-as-new task_queue", false));
        KEEL_RETURN_IF_ERROR(CheckPayloads(cmd.input(), "continue-as-new input"));
        KEEL_RETURN_IF_ERROR(
            ValidateMemoAndSearchAttributes(cmd.memo(), cmd.search_attributes(), options_.max_payload_bytes));
        KEEL_RETURN_IF_ERROR(ValidateDuration(cmd.workflow_run_timeout(), "continue-as-new workflow_run_timeout"));
        KEEL_RETURN_IF_ERROR(ValidateDuration(cmd.workflow_task_timeout(), "continue-as-new workflow_task_timeout"));
        const std::string new_run_id = random_.Uuid();
        auto* a = m.Append()->mutable_workflow_execution_continued_as_new();
        a->set_new_execution_run_id(new_run_id);
        a->set_workflow_type(cmd.workflow_type().empty() ? m.state().workflow_type() : cmd.workflow_type());
        a->set_task_queue(cmd.task_queue().empty() ? m.state().task_queue() : cmd.task_queue());
        *a->mutable_input() = cmd.input();
        *a->mutable_workflow_run_timeout() = cmd.workflow_run_timeout();
        *a->mutable_workflow_task_timeout() = cmd.workflow_task_timeout();
        a->set_workflow_task_completed_event_id(completed_event_id);
        m.state().set_new_execution_run_id(new_run_id);
        continued = *a;
        if (!cmd.memo().empty()) *continued_memo = cmd.memo();
        if (!cmd.search_attributes().empty()) *continued_search_attributes = cmd.search_attributes();
        m.Close(v1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW);
        closed = true;
        break;
      }
      case v1::Command::kStartChildWorkflowExecution: {
        const auto& cmd = c.start_child_workflow_execution();
        KEEL_RETURN_IF_ERROR(ValidateName(cmd.namespace_(), "child namespace", false));
        KEEL_RETURN_IF_ERROR(ValidateName(cmd.workflow_id(), "child workflow_id"));
        KEEL_RETURN_IF_ERROR(ValidateName(cmd.workflow_type(), "child workflow_type"));
        KEEL_RETURN_IF_ERROR(ValidateName(cmd.task_queue(), "child task_queue", false));
        KEEL_RETURN_IF_ERROR(CheckPayloads(cmd.input(), "child input"));
        KEEL_RETURN_IF_ERROR(
            ValidateMemoAndSearchAttributes(cmd.memo(), cmd.search_attributes(), options_.max_payload_bytes));
        for (const auto& [id, child] : m.state().children()) {
          if (child.initiated().workflow_id() == cmd.workflow_id()) {
            return InvalidArgument("child workflow id '" + cmd.workflow_id() + "' is already in use by a pending child");
          }
        }
        auto* e = m.Append();
        auto* a = e->mutable_start_child_workflow_execution_initiated();
        a->set_namespace_(cmd.namespace_().empty() ? m.state().namespace_() : cmd.namespace_());
        a->set_workflow_id(cmd.workflow_id());
        a->set_workflow_type(cmd.workflow_type());
        a->set_task_queue(cmd.task_queue().empty() ? m.state().task_queue() : cmd.task_queue());
        *a->mutable_input() = cmd.input();
        *a->mutable_workflow_execution_timeout() = cmd.workflow_execution_timeout();
        *a->mutable_workflow_run_timeout() = cmd.workflow_run_timeout();
        *a->mutable_workflow_task_timeout() = cmd.workflow_task_timeout();
        a->set_parent_close_policy(cmd.parent_close_policy());
        a->set_workflow_task_completed_event_id(completed_event_id);
        a->set_workflow_id_reuse_policy(cmd.workflow_id_reuse_policy());
        if (cmd.has_retry_policy()) *a->mutable_retry_policy() = cmd.retry_policy();
        *a->mutable_memo() = cmd.memo();
        *a->mutable_search_attributes() = cmd.search_attributes();
        v1::ChildState child;
        *child.mutable_initiated() = *a;
        (*m.state().mutable_children())[e->event_id()] = std::move(child);
        m.AddTimer(store::TimerKind::kChildStart, e->event_id(), now);  // see cross_run.cc
        break;
      }
      case v1::Command::kSignalExternalWorkflowExecution:
      case v1::Command::kRequestCancelExternalWorkflowExecution: {
        const bool signal = c.has_signal_external_workflow_execution();
        const auto& target = signal ? c.signal_external_workflow_execution().execution()
                                    : c.request_cancel_external_workflow_execution().execution();
        const std::string& ns = signal ? c.signal_external_workflow_execution().namespace_()
                                       : c.request_cancel_external_workflow_execution().namespace_();
        KEEL_RETURN_IF_ERROR(ValidateName(target.workflow_id(), "target workflow_id"));
        KEEL_RETURN_IF_ERROR(ValidateName(target.run_id(), "target run_id", false));
        v1::ExternalRequestState r;
        r.set_namespace_(ns.empty() ? m.state().namespace_() : ns);
        *r.mutable_execution() = target;
        auto* e = m.Append();
        if (signal) {
          const auto& cmd = c.signal_external_workflow_execution();
          KEEL_RETURN_IF_ERROR(ValidateName(cmd.signal_name(), "signal_name"));
          KEEL_RETURN_IF_ERROR(CheckPayloads(cmd.input(), "signal input"));
          auto* a = e->mutable_signal_external_workflow_execution_initiated();
          a->set_workflow_task_completed_event_id(completed_event_id);
          a->set_namespace_(r.namespace_());
          *a->mutable_workflow_execution() = target;
          a->set_signal_name(cmd.signal_name());
          *a->mutable_input() = cmd.input();
          a->set_child_workflow_only(cmd.child_workflow_only());
          r.set_kind(v1::ExternalRequestState::KIND_SIGNAL);
          r.set_signal_name(cmd.signal_name());
          *r.mutable_input() = cmd.input();
          r.set_child_workflow_only(cmd.child_workflow_only());
        } else {
          const auto& cmd = c.request_cancel_external_workflow_execution();
          auto* a = e->mutable_request_cancel_external_workflow_execution_initiated();
          a->set_workflow_task_completed_event_id(completed_event_id);
          a->set_namespace_(r.namespace_());
          *a->mutable_workflow_execution() = target;
          a->set_child_workflow_only(cmd.child_workflow_only());
          a->set_reason(cmd.reason());
          r.set_kind(v1::ExternalRequestState::KIND_CANCEL);
          r.set_child_workflow_only(cmd.child_workflow_only());
        }
        (*m.state().mutable_external_requests())[e->event_id()] = std::move(r);
        m.AddTimer(store::TimerKind::kExternalRequest, e->event_id(), now);  // see cross_run.cc
        break;
      }
      case v1::Command::ATTRIBUTES_NOT_SET:
        return InvalidArgument("a command without attributes (unknown command kind?)");
    }
  }
  if (!closed) {
    for (auto [id, request_event] : canceled_now) {
      auto* cx = m.Append()->mutable_activity_task_canceled();
      cx->set_scheduled_event_id(id);
      cx->set_latest_cancel_requested_event_id(request_event);
      RecordActivityClosed(run, m, id);
    }
  }
  return Status::Ok();
}

}  // namespace keel::core
