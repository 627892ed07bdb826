// Inline workflow tasks (inline_workflow_tasks.h): the workflow task a transition
// schedules runs inside it, on the caller's thread, and the task's completion commits
// in the same transaction. Only a task that could be handed out at once qualifies: the
// first attempt, nothing buffered, no other attempt in flight. Whatever goes wrong
// (nobody can run it, the commands cannot be applied) leaves the transition as it was
// and the task is handed out by a poll as usual. When no runner takes it, the task goes
// to a poller waiting now, before the commit (HandOutBeforeCommit).
#include <algorithm>

#include "engine/core/engine_impl.h"
#include "engine/history/convert.h"

namespace keel::core {

void EngineImpl::AddInlineWorkflowTasks(const std::string& namespace_name, const std::string& task_queue,
                                        InlineWorkflowTasks* tasks) {
  auto entry = std::make_shared<InlineEntry>();
  entry->namespace_name = Namespace(namespace_name);
  entry->task_queue = task_queue.empty() ? "default" : task_queue;
  entry->tasks = tasks;
  std::lock_guard<std::mutex> g(inline_mu_);
  inline_tasks_.push_back(std::move(entry));
  has_inline_ = true;
}

void EngineImpl::RemoveInlineWorkflowTasks(InlineWorkflowTasks* tasks) {
  std::unique_lock<std::mutex> lock(inline_mu_);
  for (auto& e : inline_tasks_) {
    if (e->tasks == tasks) e->removed = true;
  }
  inline_cv_.wait(lock, [&] {
    return std::none_of(inline_tasks_.begin(), inline_tasks_.end(),
                        [&](const auto& e) { return e->tasks == tasks && e->users > 0; });
  });
  std::erase_if(inline_tasks_, [&](const auto& e) { return e->tasks == tasks; });
  has_inline_ = !inline_tasks_.empty();
}

Status EngineImpl::CommitWithInlineTask(RunState& run, Mutation& m) {
  std::vector<std::shared_ptr<InlineEntry>> candidates;
  if (has_inline_) {
    std::lock_guard<std::mutex> g(inline_mu_);
    for (const auto& e : inline_tasks_) {
      if (e->removed || e->namespace_name != m.state().namespace_() || e->task_queue != m.state().task_queue()) continue;
      ++e->users;
      candidates.push_back(e);
    }
  }
  std::optional<BusyScope> busy;  // workflow code runs, then an eager activity is leased
  if (!candidates.empty()) busy.emplace(*this);
  InlineOutcome ran = candidates.empty() ? InlineOutcome{} : RunInline(run, m, candidates);
  const std::string run_id = m.state().run_id();  // Commit moves the state out of `m`
  Status st = ran.tasks ? Commit(run, m) : CommitHandingOut(run, m);
  if (ran.tasks) {
    std::optional<v1::PollActivityTaskQueueResponse> eager;
    if (st.ok() && ran.eager_id > 0) {
      HandActivityToCaller(run, run.state.namespace_(), ran.eager_id, ran.identity, [&] { return &eager.emplace(); });
    }
    ran.tasks->Done(run_id, st.ok(), eager ? &*eager : nullptr);
  }
  if (!candidates.empty()) {
    std::lock_guard<std::mutex> g(inline_mu_);
    for (auto& e : candidates) --e->users;
    inline_cv_.notify_all();
  }
  return st;
}

bool EngineImpl::CanCompleteInside(const RunState& run, Mutation& m) {
  m.ScheduleWorkflowTaskIfNeeded();
  const v1::ExecutionState& s = m.state();
  if (s.status() != v1::WORKFLOW_EXECUTION_STATUS_RUNNING || run.workflow_task_lease || !s.has_workflow_task()) {
    return false;
  }
  const auto& wt = s.workflow_task();
  return !wt.backing_off() && wt.scheduled_event_id() != 0 && wt.attempt() == 1 && s.buffered_events_size() == 0;
}

WorkflowTaskLease EngineImpl::InsideLease(const Mutation& m, Time started, const std::string& identity) {
  WorkflowTaskLease lease;
  lease.lease_id = NewLeaseId();
  lease.started_time = std::max(started, FromProtoTime(m.state().start_time()));
  lease.scheduled_event_id = m.state().workflow_task().scheduled_event_id();
  lease.started_event_id = m.state().next_event_id();
  lease.identity = identity;
  return lease;
}

bool EngineImpl::CompleteInside(RunState& run, Mutation& m, const WorkflowTaskLease& lease,
                                const v1::RespondWorkflowTaskCompletedRequest& completion, int64_t* eager_id) {
  const int eager = completion.eager_activity_command();
  bool valid = eager >= 0 && eager <= completion.commands_size() &&
               (eager == 0 || completion.commands(eager - 1).has_schedule_activity_task()) &&
               std::none_of(completion.commands().begin(), completion.commands().end(),
                            [](const v1::Command& c) { return c.has_continue_as_new_workflow_execution(); });
  // Continue-as-new commits two runs, and bad commands fail the task: both take the
  // usual path, where a poller runs the task again.
  if (!valid) return false;
  Mutation::Checkpoint before = m.Save();  // to undo a completion that cannot be applied
  bool closed = false;
  ContinueAsNewPlan plan;
  m.set_workflow_task_in_flight(true);  // events the commands cause are buffered, as for a poller's task
  if (!CompleteWorkflowTask(run, m, lease, completion, closed, &plan).ok()) {
    m.Restore(std::move(before));
    return false;
  }
  if (!closed && m.FlushBuffered() > 0) m.ScheduleWorkflowTask();
  m.set_workflow_task_in_flight(false);
  *eager_id = closed ? 0 : EagerActivityId(run, m, completion);
  if (*eager_id > 0) m.HandToCaller(store::TaskKind::kActivity, *eager_id);
  return true;
}

bool EngineImpl::HandOutBeforeCommit(RunState& run, Mutation& m) {
  // Not a task the caller keeps for itself (an activity's worker asked for it).
  if (m.HandedToCaller({run.exec_id, store::TaskKind::kWorkflow, 0}) || !CanCompleteInside(run, m)) return false;
  const v1::ExecutionState& s = m.state();
  auto poller = matcher_.Reserve(s.namespace_(), s.task_queue(), store::TaskKind::kWorkflow);
  if (!poller) return false;
  WorkflowTaskLease lease = InsideLease(m, m.now(), poller->identity());
  auto task = WorkflowTaskFor(run, s, &m.events(), lease, s.namespace_());
  if (!task.ok()) return false;  // the reservation returns the poller to the queue
  RecordWorkflowTaskLease(run, lease, s);
  m.HandToCaller(store::TaskKind::kWorkflow, 0);
  TaskRef ref{run.exec_id, 0, std::make_shared<v1::PollWorkflowTaskQueueResponse>(std::move(task).value())};
  matcher_.Deliver(std::move(*poller), std::move(ref));
  return true;
}

Status EngineImpl::CommitHandingOut(RunState& run, Mutation& m) {
  Status out;
  CommitThen(CommitMode::kSync, run, m, /*hand_out=*/true, [&out](Status st) { out = std::move(st); });
  return out;
}

void EngineImpl::EventsAfter(const Mutation& m, int64_t after, google::protobuf::RepeatedPtrField<v1::HistoryEvent>* out) {
  for (const auto& e : m.events().events()) {
    if (e.event_id() > after) *out->Add() = e;
  }
}

EngineImpl::InlineOutcome EngineImpl::RunInline(RunState& run, Mutation& m,
                                                const std::vector<std::shared_ptr<InlineEntry>>& candidates) {
  if (!CanCompleteInside(run, m)) return {};
  const v1::ExecutionState& s = m.state();
  WorkflowTaskLease lease = InsideLease(m, m.now(), "");
  auto task = WorkflowTaskFor(run, s, &m.events(), lease, "");
  if (!task.ok()) return {};

  for (const auto& entry : candidates) {
    v1::RespondWorkflowTaskCompletedRequest completion;
    if (!entry->tasks->Run(*task, &completion)) continue;
    lease.identity = completion.identity();
    InlineOutcome out;
    if (!CompleteInside(run, m, lease, completion, &out.eager_id)) {
      entry->tasks->Done(s.run_id(), false, nullptr);
      return {};
    }
    out.tasks = entry->tasks;
    out.identity = completion.identity();
    return out;
  }
  return {};
}

}  // namespace keel::core
