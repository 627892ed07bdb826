// EngineImpl: the implementation behind keel::Engine. Split by concern:
//   engine_impl.cc          open/recovery, the run cache, commits, tokens, waiting
//   start_workflow.cc       start and signal-with-start
//   client_requests.cc      signal, cancel, terminate, describe, list, history, result
//   polls.cc                polls of both kinds, blocking and async, and taking a task
//   workflow_tasks.cc       lease/complete/fail workflow tasks
//   commands.cc             applying the commands of a completed workflow task
//   activity_tasks.cc       lease/heartbeat/complete/fail/cancel activity tasks, retries
//   timers.cc               what each durable timer and volatile deadline does when due
//   cross_run.cc            effects on other runs: child start, parent notify, external signals
//   queries.cc              queries: dispatched to workers, never written to history
// Locking: cache_mu_ guards the run maps; each RunState has its own mutex; a run lock is
// never taken while holding another run's lock or cache_mu_ (except to try_lock for eviction).
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>

#include "engine/core/close_waits.h"
#include "engine/core/mutation.h"
#include "engine/core/run_state.h"
#include "engine/core/task_matcher.h"
#include "engine/core/timer_service.h"
#include "engine/engine.h"
#include "engine/store/store.h"

namespace keel::core {

class EngineImpl final : public Engine {
 public:
  EngineImpl(EngineOptions options, std::unique_ptr<store::Store> store);
  ~EngineImpl() override;

  Status Recover();

  Clock& clock() override { return clock_; }
  std::optional<Time> NextTimerTime() override { return timers_->NextFireTime(); }
  bool TimersIdle() override { return timers_->Idle(); }
  bool Quiescent() override;
  void SetActivityListener(std::function<void()> fn) override;
  void BeginShutdown() override;
  void AddInlineWorkflowTasks(const std::string& namespace_name, const std::string& task_queue,
                              InlineWorkflowTasks* tasks) override;
  void RemoveInlineWorkflowTasks(InlineWorkflowTasks* tasks) override;

  // ---- Frontend: clients ----
  Result<v1::StartWorkflowExecutionResponse> StartWorkflowExecution(
      const v1::StartWorkflowExecutionRequest& request) override;
  Result<v1::StartWorkflowExecutionResponse> StartWorkflowExecution(
      const v1::StartWorkflowExecutionRequest& request, Duration max_wait) override;
  void StartWorkflowExecution(const v1::StartWorkflowExecutionRequest& request, Duration max_wait,
                              Callback<v1::StartWorkflowExecutionResponse> done) override;
  void GetWorkflowExecutionResult(const v1::GetWorkflowExecutionResultRequest& request, Duration max_wait,
                                  Callback<v1::GetWorkflowExecutionResultResponse> done) override;
  Result<v1::SignalWorkflowExecutionResponse> SignalWorkflowExecution(
      const v1::SignalWorkflowExecutionRequest& request) override;
  Result<v1::SignalWithStartWorkflowExecutionResponse> SignalWithStartWorkflowExecution(
      const v1::SignalWithStartWorkflowExecutionRequest& request) override;
  Result<v1::RequestCancelWorkflowExecutionResponse> RequestCancelWorkflowExecution(
      const v1::RequestCancelWorkflowExecutionRequest& request) override;
  Result<v1::TerminateWorkflowExecutionResponse> TerminateWorkflowExecution(
      const v1::TerminateWorkflowExecutionRequest& request) override;
  Result<v1::DescribeWorkflowExecutionResponse> DescribeWorkflowExecution(
      const v1::DescribeWorkflowExecutionRequest& request) override;
  Result<v1::ListWorkflowExecutionsResponse> ListWorkflowExecutions(
      const v1::ListWorkflowExecutionsRequest& request) override;
  Result<v1::GetWorkflowExecutionHistoryResponse> GetWorkflowExecutionHistory(
      const v1::GetWorkflowExecutionHistoryRequest& request) override;
  Result<v1::GetWorkflowExecutionHistoryResponse> GetWorkflowExecutionHistory(
      const v1::GetWorkflowExecutionHistoryRequest& request, Duration max_wait) override;
  Result<v1::GetWorkflowExecutionResultResponse> GetWorkflowExecutionResult(
      const v1::GetWorkflowExecutionResultRequest& request) override;
  Result<v1::GetWorkflowExecutionResultResponse> GetWorkflowExecutionResult(
      const v1::GetWorkflowExecutionResultRequest& request, Duration max_wait) override;
  Result<v1::QueryWorkflowResponse> QueryWorkflow(const v1::QueryWorkflowRequest& request) override;

  // ---- Frontend: workers ----
  Result<v1::PollWorkflowTaskQueueResponse> PollWorkflowTaskQueue(
      const v1::PollWorkflowTaskQueueRequest& request) override;
  void PollWorkflowTaskQueue(const v1::PollWorkflowTaskQueueRequest& request, Duration max_wait,
                             std::shared_ptr<PollCancel> cancel,
                             Callback<v1::PollWorkflowTaskQueueResponse> done) override;
  Result<v1::RespondWorkflowTaskCompletedResponse> RespondWorkflowTaskCompleted(
      const v1::RespondWorkflowTaskCompletedRequest& request) override;
  void RespondWorkflowTaskCompleted(const v1::RespondWorkflowTaskCompletedRequest& request,
                                    Callback<v1::RespondWorkflowTaskCompletedResponse> done) override;
  Result<v1::RespondWorkflowTaskFailedResponse> RespondWorkflowTaskFailed(
      const v1::RespondWorkflowTaskFailedRequest& request) override;
  Result<v1::RespondQueryTaskCompletedResponse> RespondQueryTaskCompleted(
      const v1::RespondQueryTaskCompletedRequest& request) override;
  Result<v1::PollActivityTaskQueueResponse> PollActivityTaskQueue(
      const v1::PollActivityTaskQueueRequest& request) override;
  void PollActivityTaskQueue(const v1::PollActivityTaskQueueRequest& request, Duration max_wait,
                             std::shared_ptr<PollCancel> cancel,
                             Callback<v1::PollActivityTaskQueueResponse> done) override;
  Result<v1::RecordActivityTaskHeartbeatResponse> RecordActivityTaskHeartbeat(
      const v1::RecordActivityTaskHeartbeatRequest& request) override;
  Result<v1::RespondActivityTaskCompletedResponse> RespondActivityTaskCompleted(
      const v1::RespondActivityTaskCompletedRequest& request) override;
  void RespondActivityTaskCompleted(const v1::RespondActivityTaskCompletedRequest& request,
                                    Callback<v1::RespondActivityTaskCompletedResponse> done) override;
  Result<v1::RespondActivityTaskFailedResponse> RespondActivityTaskFailed(
      const v1::RespondActivityTaskFailedRequest& request) override;
  Result<v1::RespondActivityTaskCanceledResponse> RespondActivityTaskCanceled(
      const v1::RespondActivityTaskCanceledRequest& request) override;
  Result<v1::ShutdownWorkerResponse> ShutdownWorker(const v1::ShutdownWorkerRequest& request) override;

 private:
  using RunPtr = std::shared_ptr<RunState>;

  // ---- run cache (engine_impl.cc) ----
  // The run, loaded and locked; NotFound when it does not exist.
  Result<RunPtr> LockRun(int64_t exec_id, RunLock& lock);
  // Resolves a WorkflowExecution (run id, or the newest run of the workflow id).
  Result<RunPtr> LockExecution(const std::string& namespace_name, const v1::WorkflowExecution& ex,
                               RunLock& lock);
  void MaybeEvict();

  // ---- commits (engine_impl.cc) ----
  // Commits `m` and, when durable, installs its state into `run` and tells the matcher,
  // the timer service and any waiters. `run` must be locked by the caller.
  Status Commit(RunState& run, Mutation& m);
  // Commit, running the workflow task `m` schedules inline within it when a registered
  // InlineWorkflowTasks can (inline_tasks.cc). Only for transitions whose caller does
  // not look at the workflow task afterwards.
  Status CommitWithInlineTask(RunState& run, Mutation& m);
  // Commits two runs' transitions atomically (continue-as-new: the old run closes and the
  // new one starts in one store transaction). Both runs must be locked.
  Status CommitBoth(RunState& a, Mutation& ma, RunState& b, Mutation& mb);
  Status CommitRuns(std::span<std::pair<RunState*, Mutation*>> runs);
  // CommitRuns in two halves: the store transition of the runs' mutations, and, once it
  // is committed (or failed), installing their states and telling everyone.
  store::Transition BuildTransition(std::span<std::pair<RunState*, Mutation*>> runs);
  void AfterCommit(std::span<std::pair<RunState*, Mutation*>> runs, const Status& st);
  // How a call commits: kSync in the calling thread (the plain API); kAsync through the
  // store's CommitAsync, the call finishing on the thread that wrote the commit (the
  // Callback API a server uses, engine.h).
  enum class CommitMode { kSync, kAsync };
  // Commits `m` for the locked `run` (handing its workflow task out during the commit
  // when `hand_out`, as CommitHandingOut), then calls `then` with the outcome, the run
  // still locked and its state installed. kSync: before returning. kAsync: later, on the
  // store's thread; `run`, `m` and what `then` holds must live until then.
  void CommitThen(CommitMode mode, RunState& run, Mutation& m, bool hand_out, std::function<void(Status)> then);
  // The completions behind both APIs (activity_tasks.cc, workflow_tasks.cc).
  void CompleteActivityTask(const v1::RespondActivityTaskCompletedRequest& request, CommitMode mode,
                            Callback<v1::RespondActivityTaskCompletedResponse> done);
  void CompleteWorkflowTaskCall(const v1::RespondWorkflowTaskCompletedRequest& request, CommitMode mode,
                                Callback<v1::RespondWorkflowTaskCompletedResponse> done);
  // The Callback API's mode: asynchronous, unless inline workflow tasks may run (their
  // workflow code runs inside the transition, on the caller's thread).
  CommitMode CallbackMode() const { return has_inline_ ? CommitMode::kSync : CommitMode::kAsync; }
  // The plain API over a Callback-style call made in CommitMode::kSync, which answers
  // before it returns.
  template <typename Resp, typename Fn>
  static Result<Resp> Synchronously(Fn&& call) {
    std::optional<Result<Resp>> out;
    call([&out](Result<Resp> result) { out.emplace(std::move(result)); });
    return std::move(*out);
  }
  // Calls in flight that may finish on another thread; the destructor waits for them.
  struct AsyncCallScope {
    explicit AsyncCallScope(EngineImpl& e);
    ~AsyncCallScope();
    EngineImpl& engine;
  };
  // Time skipping: tell the listener something happened (it checks Quiescent()).
  void NotifyActivity();
  // Long polls: Watch() before reading the run, then WaitChanged() until a commit to the
  // run bumps its version past `version` (true; `version` is updated), or the deadline
  // passes or the engine closes (false). A watch with every_change=false only waits for
  // the run to close (WaitClosed): its waiter is not woken by the commits before that.
  uint64_t Watch(int64_t exec_id, bool every_change = true);
  bool WaitChanged(int64_t exec_id, uint64_t& version, Time deadline);
  bool WaitClosed(int64_t exec_id, Time deadline);
  void Unwatch(int64_t exec_id, bool every_change = true);
  void NotifyChanged(const RunState& run, const v1::HistoryBatch& committed);
  // Keeps the run's cached recent events and activity inputs in step with a commit.
  void UpdateCaches(RunState& run, const v1::HistoryBatch& batch);

  // ---- tokens ----
  std::string NewToken(const v1::TaskToken& token) const;
  Result<v1::TaskToken> ParseToken(const std::string& bytes, v1::TaskToken::Kind kind) const;
  uint64_t NewLeaseId() { return lease_epoch_ ^ next_lease_.fetch_add(1); }

  // ---- shared helpers ----
  std::string Namespace(const std::string& ns) const { return ns.empty() ? "default" : ns; }
  Status CheckPayloads(const v1::Payloads& p, const char* what) const;
  Result<std::vector<v1::HistoryEvent>> ReadEvents(int64_t exec_id, int64_t from, int64_t to);

  // ---- start_workflow.cc ----
  struct StartOutcome {
    std::string run_id;
    bool started = false;
  };
  Result<StartOutcome> StartLocked(const v1::StartWorkflowExecutionRequest& request,
                                   const v1::SignalWithStartWorkflowExecutionRequest* with_signal,
                                   const v1::ParentInfo* parent);
  // StartLocked in either CommitMode (the caller's objects must live until `done`).
  // `committed`, if given, runs once a new run is committed, with the run still locked.
  void StartRunCall(const v1::StartWorkflowExecutionRequest& request,
                    const v1::SignalWithStartWorkflowExecutionRequest* with_signal, const v1::ParentInfo* parent,
                    CommitMode mode, std::function<void(Result<StartOutcome>)> done,
                    std::function<void(const RunState&)> committed = {});
  // A start and, when asked, its wait for the result (sync: in this thread; async: on
  // close_waits_).
  void StartCall(const v1::StartWorkflowExecutionRequest& request, Duration max_wait, CommitMode mode,
                 Callback<v1::StartWorkflowExecutionResponse> done);
  // GetWorkflowExecutionResult's wait without a thread: looks now, and if the run (or the
  // one it continued as) still runs, looks again when it closes or at `deadline`.
  void AwaitResult(v1::GetWorkflowExecutionResultRequest request, Time deadline,
                   Callback<v1::GetWorkflowExecutionResultResponse> done);
  // Registers `done` for the close of `run` (running, locked by the caller): it gets the
  // result when the run closes (following a continue-as-new when `request` asks), or the
  // running run at `deadline`.
  void WaitForClose(const RunState& run, v1::GetWorkflowExecutionResultRequest request, Time deadline,
                    Callback<v1::GetWorkflowExecutionResultResponse> done);
  // What a result read gives for a run closed with `close_event`.
  static v1::GetWorkflowExecutionResultResponse ClosedRunResult(const std::string& run_id,
                                                                v1::WorkflowExecutionStatus status,
                                                                const v1::HistoryEvent& close_event);
  // The first transition of a new run (started event, search attributes, timeouts), its
  // RunState already cached (see start_workflow.cc). The caller schedules its first
  // workflow task, commits, and calls DropNewRun if the commit fails.
  struct NewRun {
    std::shared_ptr<RunState> run;
    std::unique_ptr<Mutation> mutation;
  };
  NewRun StartNewRun(const std::string& ns, const std::string& workflow_id, const std::string& run_id,
                     v1::WorkflowExecutionStartedEventAttributes started, Time now);
  void DropNewRun(RunState& run);
  RunMutex& WorkflowIdLock(const std::string& ns, const std::string& workflow_id);

  // ---- workflow_tasks.cc / commands.cc ----
  // Ends the in-flight or pending workflow task attempt with a failure and schedules a retry.
  void FailWorkflowTask(RunState& run, Mutation& m, v1::WorkflowTaskFailedCause cause,
                        const v1::Failure& failure, bool write_events);
  // What a ContinueAsNew command asks of the next run (unset when there was none).
  struct ContinueAsNewPlan {
    std::optional<v1::WorkflowExecutionContinuedAsNewEventAttributes> continued;
    google::protobuf::Map<std::string, v1::Payload> memo;               // empty = carry over
    google::protobuf::Map<std::string, v1::Payload> search_attributes;  // empty = carry over
  };
  // The completion's events (started, completed) and its commands, applied to `m`.
  Status CompleteWorkflowTask(RunState& run, Mutation& m, const WorkflowTaskLease& lease,
                              const v1::RespondWorkflowTaskCompletedRequest& request, bool& closed,
                              ContinueAsNewPlan* plan);
  Status ApplyCommands(RunState& run, Mutation& m,
                       const google::protobuf::RepeatedPtrField<v1::Command>& commands,
                       int64_t completed_event_id, bool& closed, ContinueAsNewPlan* plan);
  void ReleaseWorkflowTaskLease(RunState& run);
  // The scheduled event id of the activity a completion asks to run eagerly
  // (eager_activity_command), once its commands are applied to `m`; 0 when none.
  int64_t EagerActivityId(const RunState& run, const Mutation& m,
                          const v1::RespondWorkflowTaskCompletedRequest& request) const;
  // Polls (polls.cc). Take*Task leases the task `ref` names to the poller, or nullopt when
  // it is stale (the poll waits on); a lease that fails is an answer, and the task goes
  // back to the matcher. No run may be locked by the caller.
  std::optional<Result<v1::PollWorkflowTaskQueueResponse>> TakeWorkflowTask(TaskRef& ref, const std::string& ns,
                                                                           const std::string& queue,
                                                                           const std::string& identity);
  std::optional<Result<v1::PollActivityTaskQueueResponse>> TakeActivityTask(TaskRef& ref, const std::string& ns,
                                                                           const std::string& queue,
                                                                           const std::string& identity);
  template <typename Resp, typename Req, typename Take>
  Result<Resp> BlockingPoll(const Req& request, store::TaskKind kind, Take take);
  template <typename Resp>
  struct AsyncPoll;
  template <typename Resp, typename Req, typename Take>
  void StartAsyncPoll(const Req& request, store::TaskKind kind, Duration max_wait, std::shared_ptr<PollCancel> cancel,
                      Callback<Resp> done, Take take);
  // Waits for the next task (`ref` empty) or takes `ref`, until the poll is answered.
  template <typename Resp>
  void ServeAsyncPoll(const std::shared_ptr<AsyncPoll<Resp>>& poll, std::optional<TaskRef> ref);
  // True when the run's workflow task waits for a worker (scheduled, not backing off,
  // not leased). The run must be locked.
  bool WorkflowTaskDue(const RunState& run) const;
  // Leases the due workflow task to `identity` and builds what the worker gets (polls and
  // eager dispatch). Flushes events buffered by an earlier attempt first.
  Result<v1::PollWorkflowTaskQueueResponse> LeaseWorkflowTask(RunState& run, const std::string& ns,
                                                              const std::string& identity);
  // What a worker gets for the workflow task of the run whose state is `s` (committed,
  // or about to be) under `lease`: the events after the last started one (the committed
  // ones from the run's cache, read when missing, then `pending`'s, a transition's not yet
  // committed), the task's started event, and a task token when `ns` is given.
  Result<v1::PollWorkflowTaskQueueResponse> WorkflowTaskFor(RunState& run, const v1::ExecutionState& s,
                                                            const v1::HistoryBatch* pending,
                                                            const WorkflowTaskLease& lease, const std::string& ns);
  // Notes the lease in the run and arms its workflow task timeout.
  void RecordWorkflowTaskLease(RunState& run, const WorkflowTaskLease& lease, const v1::ExecutionState& s);
  // Commits the closing run `m` together with the first transition of its next run.
  Status ContinueAsNew(RunState& run, Mutation& m, const ContinueAsNewPlan& plan, Time now);

  // ---- inline_tasks.cc ----
  // Inline workflow tasks: (namespace, task queue) -> who may run them. A caller counts
  // itself in `users` while it uses an entry, so Remove can wait for it.
  struct InlineEntry {
    std::string namespace_name;
    std::string task_queue;
    InlineWorkflowTasks* tasks = nullptr;
    int users = 0;
    bool removed = false;
  };
  // Runs the workflow task `m` schedules inside `m` when an InlineWorkflowTasks takes it;
  // returns that one (to be told the commit's outcome) and the eager activity's id.
  struct InlineOutcome {
    InlineWorkflowTasks* tasks = nullptr;  // who ran it; null when no one did
    int64_t eager_id = 0;                  // the activity it asked to run itself
    std::string identity;
  };
  InlineOutcome RunInline(RunState& run, Mutation& m, const std::vector<std::shared_ptr<InlineEntry>>& candidates);
  // Completing the workflow task a transition schedules inside that transition (inline
  // tasks, and a worker's WorkflowTaskOnResult). CanCompleteInside: the task `m`
  // schedules (now, if an event asked for one) could be handed out at once. InsideLease:
  // its lease, started at `started`. CompleteInside: applies `completion`; false (and
  // `m` as it was) when it cannot be applied. EventsAfter: `m`'s events after an id.
  bool CanCompleteInside(const RunState& run, Mutation& m);
  // Hands the workflow task `m` schedules to a poller waiting for one now, before `m`
  // commits: the worker runs it while the commit is under way, and its completion
  // cannot overtake the commit (it needs the run's lock, held until then). Running a
  // workflow task has no effect outside the run: if the commit fails, the lease is
  // dropped (ReleaseWorkflowTaskLease) and the worker's completion is refused. Activity
  // tasks are never handed out before their commit. True when a poller took it.
  bool HandOutBeforeCommit(RunState& run, Mutation& m);
  // Commit, handing the workflow task `m` schedules out during it (HandOutBeforeCommit).
  Status CommitHandingOut(RunState& run, Mutation& m);
  WorkflowTaskLease InsideLease(const Mutation& m, Time started, const std::string& identity);
  bool CompleteInside(RunState& run, Mutation& m, const WorkflowTaskLease& lease,
                      const v1::RespondWorkflowTaskCompletedRequest& completion, int64_t* eager_id);
  static void EventsAfter(const Mutation& m, int64_t after,
                          google::protobuf::RepeatedPtrField<v1::HistoryEvent>* out);

  // ---- activity_tasks.cc ----
  void ScheduleActivityAttempt(Mutation& m, const v1::ActivityState& a);
  // An attempt failed or timed out: retry or record the final outcome.
  void ActivityAttemptFailed(RunState& run, Mutation& m, int64_t scheduled_event_id,
                             const v1::Failure& failure, const std::string& identity);
  void RecordActivityClosed(RunState& run, Mutation& m, int64_t scheduled_event_id);
  void ReleaseActivityLease(RunState& run, int64_t scheduled_event_id);
  // Leases activity `id` (pending, not leased) to `identity`: polls and eager dispatch.
  Result<v1::PollActivityTaskQueueResponse> LeaseActivityTask(RunState& run, const std::string& ns, int64_t id,
                                                              const std::string& identity);
  // Eager workflow task of an activity outcome (request_workflow_task): checked before
  // anything is done; before the commit, keeps the run's next workflow task from the
  // matcher (true when the caller may take it); after the commit, leases it to the
  // caller if one is due (else the matcher gets it back).
  Status CheckEagerRequest(bool requested, const std::string& identity) const;
  bool KeepWorkflowTaskForCaller(RunState& run, Mutation& m, int64_t id, bool requested);
  // `out` gives where to put it (a proto's mutable_ accessor: called only when there is one).
  void HandWorkflowTaskToCaller(RunState& run, const std::string& ns, const std::string& identity,
                                std::function<v1::PollWorkflowTaskQueueResponse*()> out);
  // The eager activity `id` a completion kept for its caller (Mutation::HandToCaller),
  // leased into `*out()`; if it cannot be leased, it is queued for pollers instead.
  void HandActivityToCaller(RunState& run, const std::string& ns, int64_t id, const std::string& identity,
                            std::function<v1::PollActivityTaskQueueResponse*()> out);
  // A worker's WorkflowTaskOnResult: well-formed (checked before anything is done), and
  // fitting the run as it is (else the result is recorded alone).
  Status CheckWorkflowTaskOnResult(const v1::WorkflowTaskOnResult& w, const std::string& identity) const;
  bool OnResultFits(const RunState& run, int64_t id, const v1::WorkflowTaskOnResult& w, Time now) const;
  // The run of the activity attempt `token_bytes` names, locked, if that attempt is the
  // current one; also one that ran across a restart and is held (AdoptRecovered).
  Result<RunPtr> LockActivityTask(const std::string& token_bytes, v1::TaskToken& token,
                                  const std::string& identity, RunLock& lock);
  // An attempt leased before the restart, whose task is held (EngineOptions::
  // recovered_activity_hold), is the current attempt again: leased to `identity` from now.
  bool AdoptRecovered(RunState& run, const v1::TaskToken& token, const std::string& identity);
  // The hold of a recovered activity task is over: it is handed out, unless adopted (or
  // canceled, when the workflow asked to cancel it meanwhile).
  void ReleaseRecovered(int64_t exec_id, int64_t id);
  // Whether the task is held: an attempt of it may be running on a worker.
  bool Held(int64_t exec_id, int64_t id);
  // Puts the running attempt's heartbeat details not yet written into `m`'s state (they
  // go with the attempt's failure or timeout).
  void TakeUnsavedDetails(RunState& run, Mutation& m, int64_t id);
  // On a clean close: writes the heartbeat details still kept in memory.
  void SaveUnsavedDetails();
  // On a clean close: records which activity attempts run on workers (leased, or held
  // since this open), so that the next open holds only their tasks.
  void RecordCleanClose();
  // At open: those activity tasks, by (exec id, scheduled event id), as the last clean
  // close recorded them; nullopt after a crash: every pending activity task may have an
  // attempt running. The record is deleted.
  Result<std::optional<std::set<std::pair<int64_t, int64_t>>>> TakeCleanClose();

  // ---- queries.cc ----
  struct PendingQuery {
    uint64_t id = 0;
    int64_t exec_id = 0;
    std::string namespace_name;
    std::string task_queue;
    v1::WorkflowQuery query;
    bool dispatched = false;
    bool done = false;
    Status status;
    v1::Payloads result;
    std::condition_variable cv;
  };
  Result<v1::PollWorkflowTaskQueueResponse> DispatchQuery(int64_t exec_id, uint64_t query_id);

  // ---- cross_run.cc ----
  void OnCrossRunTimer(store::TimerKind kind, int64_t exec_id, int64_t ref);
  void StartChild(int64_t parent_exec_id, int64_t initiated_id);
  void NotifyParent(int64_t child_exec_id);
  void ApplyParentClosePolicy(int64_t parent_exec_id, int64_t initiated_id);
  void DeliverExternalRequest(int64_t source_exec_id, int64_t initiated_id);
  void RemoveTimerRow(const store::TimerKey& key);

  // ---- timers.cc ----
  void OnTimer(const TimerEntryKey& key, Time fire_time);
  void OnDurableTimer(RunState& run, Mutation& m, store::TimerKind kind, int64_t ref);
  void OnDeadline(RunState& run, DeadlineKind kind, int64_t ref);

  EngineOptions options_;
  Clock& clock_;
  Random& random_;
  std::unique_ptr<store::Store> store_;
  TaskMatcher matcher_;
  std::unique_ptr<TimerService> timers_;

  std::mutex cache_mu_;
  std::unordered_map<int64_t, RunPtr> runs_;
  std::unordered_map<std::string, int64_t> run_ids_;  // of cached runs
  std::atomic<int64_t> next_exec_id_{1};
  std::atomic<int64_t> next_task_seq_{1};
  uint64_t lease_epoch_ = 0;  // the high 32 bits of this process's lease ids
  std::atomic<uint64_t> next_lease_{1};
  // Activity tasks held after a restart, by (exec id, scheduled event id): their
  // namespace and task queue (to hand them out when the hold ends).
  std::mutex recovered_mu_;
  Time recovered_until_;  // when the hold of recovered_ ends (set by Recover)
  bool opened_ = false;  // Recover succeeded: the close is recorded (RecordCleanClose)
  std::map<std::pair<int64_t, int64_t>, std::pair<std::string, std::string>> recovered_;
  // Held from a start's look at the id's current run to its commit (a RunMutex: an
  // asynchronous start releases it on the store's thread). Striped by id: with 64
  // stripes, about one start in ten waited in keeld during W1 (for another id's commit,
  // blocking a gRPC thread); 1,024 cost 32 KiB.
  std::array<RunMutex, 1024> workflow_id_locks_;

  // Long polls on a run's history or result wait here; a commit of a watched run bumps
  // its version.
  struct WatchState {
    int watchers = 0;
    int change_watchers = 0;  // those woken by every commit (the others only by the close)
    uint64_t version = 0;
    bool closed = false;
    std::condition_variable cv;  // one per run: a commit wakes only that run's waiters
  };
  std::mutex watch_mu_;
  std::unordered_map<int64_t, WatchState> watches_;  // nodes are stable: waiters hold references
  std::atomic<bool> closing_{false};

  std::mutex queries_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<PendingQuery>> queries_;
  std::atomic<uint64_t> next_query_id_{1};

  // Time skipping (engine.h: Quiescent, SetActivityListener).
  std::atomic<int> commits_in_flight_{0};
  std::atomic<int> leases_{0};  // workflow and activity tasks handed to workers
  // Not quiescent while a transition runs, from its workflow code (inline) to handing
  // out what it leases to the caller (eager tasks); says so when it ends.
  struct BusyScope {
    explicit BusyScope(EngineImpl& e) : engine(e) { ++engine.commits_in_flight_; }
    ~BusyScope() {
      --engine.commits_in_flight_;
      engine.NotifyActivity();
    }
    EngineImpl& engine;
  };
  std::mutex listener_mu_;
  std::function<void()> listener_;

  std::unique_ptr<CloseWaits> close_waits_;  // the Callback API's result waits

  std::mutex async_mu_;
  std::condition_variable async_cv_;
  int async_calls_ = 0;  // guarded by async_mu_

  std::mutex inline_mu_;
  std::condition_variable inline_cv_;
  std::vector<std::shared_ptr<InlineEntry>> inline_tasks_;
  std::atomic<bool> has_inline_{false};
};

// Appends the in-flight task's WorkflowTaskScheduled (when transient) and
// WorkflowTaskStarted; returns the started event's id (workflow_tasks.cc).
int64_t AppendStartedEvents(Mutation& m, const WorkflowTaskLease& lease);

}  // namespace keel::core
