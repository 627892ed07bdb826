#include "engine/core/engine_impl.h"

#include <iterator>
#include <span>

#include "engine/core/validation.h"
#include "engine/history/convert.h"
#include "engine/history/event_util.h"
#include "engine/log.h"
#include "engine/store/sqlite_store.h"

namespace keel {

Result<std::unique_ptr<Engine>> Engine::Open(EngineOptions options) {
  store::SqliteStoreOptions so;
  so.path = options.db_path;
  so.group_commit = options.group_commit;
  switch (options.durability) {
    case Durability::kFull: so.synchronous = store::Synchronous::kFull; break;
    case Durability::kNormal: so.synchronous = store::Synchronous::kNormal; break;
    case Durability::kOff: so.synchronous = store::Synchronous::kOff; break;
  }
  auto st = store::SqliteStore::Open(so);
  if (!st.ok()) return st.status();
  return Open(std::move(options), std::move(st).value());
}

Result<std::unique_ptr<Engine>> Engine::Open(EngineOptions options,
                                             std::unique_ptr<store::Store> store) {
  auto engine = std::make_unique<core::EngineImpl>(std::move(options), std::move(store));
  KEEL_RETURN_IF_ERROR(engine->Recover());
  return std::unique_ptr<Engine>(std::move(engine));
}

namespace core {

EngineImpl::EngineImpl(EngineOptions options, std::unique_ptr<store::Store> store)
    : options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : Clock::System()),
      random_(options_.random ? *options_.random : Random::System()),
      store_(std::move(store)),
      matcher_(clock_) {
  TimerService::Options to;
  to.fire_threads = std::max(1, options_.timer_threads);
  to.on_activity = [this] { NotifyActivity(); };
  timers_ = std::make_unique<TimerService>(
      clock_, *store_, [this](const TimerEntryKey& key, Time when) { OnTimer(key, when); }, to);
  close_waits_ = std::make_unique<CloseWaits>(clock_);
}

EngineImpl::~EngineImpl() {
  BeginShutdown();
  {
    // Asynchronous calls finish once their commits are written, which the store still
    // does; they use the matcher and the timers, so wait for them first.
    std::unique_lock<std::mutex> lock(async_mu_);
    async_cv_.wait(lock, [&] { return async_calls_ == 0; });
  }
  timers_->Stop();
  SaveUnsavedDetails();
  if (opened_) RecordCleanClose();
  // Joins its thread (BeginShutdown answered its waiters); not reset(), which would
  // leave the pointer null while a last callback may still call Add.
  close_waits_->Stop();
}

EngineImpl::AsyncCallScope::AsyncCallScope(EngineImpl& e) : engine(e) {
  std::lock_guard<std::mutex> g(engine.async_mu_);
  ++engine.async_calls_;
}

EngineImpl::AsyncCallScope::~AsyncCallScope() {
  // Notified under the lock: once the destructor sees zero, nothing here touches the engine.
  std::lock_guard<std::mutex> g(engine.async_mu_);
  if (--engine.async_calls_ == 0) engine.async_cv_.notify_all();
}

void EngineImpl::BeginShutdown() {
  closing_ = true;
  matcher_.Shutdown();
  close_waits_->Shutdown();
  {
    std::lock_guard<std::mutex> g(watch_mu_);
    for (auto& [id, w] : watches_) w.cv.notify_all();
  }
  std::lock_guard<std::mutex> g(queries_mu_);
  for (auto& [id, q] : queries_) q->cv.notify_all();
}

Status EngineImpl::Recover() {
  lease_epoch_ = random_.Next() & 0xffffffff00000000ULL;
  KEEL_ASSIGN_OR_RETURN(int64_t max_exec, store_->MaxExecId());
  next_exec_id_ = max_exec + 1;
  KEEL_ASSIGN_OR_RETURN(int64_t max_seq, store_->MaxTaskSeq());
  next_task_seq_ = max_seq + 1;
  KEEL_ASSIGN_OR_RETURN(auto tasks, store_->LoadTasks());
  // Taken even when nothing is held, so that no record outlives this open. A store that
  // cannot read or delete it cannot commit either: the open fails.
  KEEL_ASSIGN_OR_RETURN(const auto running, TakeCleanClose());
  const bool hold = options_.recovered_activity_hold > Duration::zero();
  size_t held = 0;
  for (const auto& t : tasks) {
    if (hold && t.key.kind == store::TaskKind::kActivity &&
        (!running || running->count({t.key.exec_id, t.key.ref}))) {
      recovered_[{t.key.exec_id, t.key.ref}] = {t.namespace_name, t.task_queue};
      ++held;
      continue;
    }
    matcher_.Add(t.namespace_name, t.task_queue, t.key.kind, {t.key.exec_id, t.key.ref});
  }
  if (!tasks.empty()) {
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(options_.recovered_activity_hold).count();
    std::string note;
    if (held > 0 && running) {
      note = fmt::format(" ({} activity tasks held for {} s: their attempts ran on workers at the last close)",
                         held, seconds);
    } else if (held > 0) {
      note = fmt::format(" ({} activity tasks held for {} s: the last close was not clean, so their "
                         "attempts may still run on workers)", held, seconds);
    }
    Log().info("engine: resumed {} pending tasks{}", tasks.size(), note);
  }
  // Before the timer threads start: a due hold releases its task from one of them.
  recovered_until_ = clock_.Now() + options_.recovered_activity_hold;
  for (const auto& [key, where] : recovered_) {
    timers_->SetDeadline(DeadlineKind::kRecoveredActivity, key.first, key.second, recovered_until_);
  }
  KEEL_RETURN_IF_ERROR(timers_->Start());
  // Only an engine that opened records its close. One whose open failed records nothing:
  // a record it had not taken yet stays, and without one the next open holds every
  // pending activity task, as after a crash.
  opened_ = true;
  return Status::Ok();
}

void EngineImpl::SaveUnsavedDetails() {
  std::vector<RunPtr> runs;
  {
    std::lock_guard<std::mutex> g(cache_mu_);
    for (const auto& [exec_id, run] : runs_) {
      if (run) runs.push_back(run);
    }
  }
  for (const auto& cached : runs) {
    RunLock lock;
    auto locked = LockRun(cached->exec_id, lock);
    if (!locked.ok()) continue;
    RunState& run = **locked;
    if (!run.Running()) continue;
    Mutation m(run, clock_.Now());
    bool any = false;
    for (const auto& [id, lease] : run.activity_leases) {
      if (!lease.unsaved_details || !run.state.activities().count(id)) continue;
      TakeUnsavedDetails(run, m, id);
      any = true;
    }
    if (!any) continue;
    Status st = Commit(run, m);
    if (!st.ok()) Log().warn("engine: heartbeat details of run {} not written at close: {}", run.exec_id, st.ToString());
  }
}

// ---- run cache ----

Result<EngineImpl::RunPtr> EngineImpl::LockRun(int64_t exec_id, RunLock& lock) {
  RunPtr run;
  {
    std::lock_guard<std::mutex> g(cache_mu_);
    auto& slot = runs_[exec_id];
    if (!slot) {
      slot = std::make_shared<RunState>();
      slot->exec_id = exec_id;
    }
    run = slot;
  }
  lock = RunLock(run->mu);
  if (run->loaded) return run;
  auto row = store_->GetExecution(exec_id);
  if (!row.ok() || !row->has_value()) {
    std::lock_guard<std::mutex> g(cache_mu_);
    auto it = runs_.find(exec_id);
    if (it != runs_.end() && it->second == run) runs_.erase(it);
    lock.unlock();
    if (!row.ok()) return row.status();
    return NotFound("no run with internal id " + std::to_string(exec_id));
  }
  if (!run->state.ParseFromString((*row)->state)) {
    lock.unlock();
    return DataLoss("the stored state of run " + (*row)->run_id + " cannot be parsed");
  }
  run->loaded = true;
  {
    std::lock_guard<std::mutex> g(cache_mu_);
    run_ids_[run->state.run_id()] = exec_id;
  }
  MaybeEvict();
  return run;
}

Result<EngineImpl::RunPtr> EngineImpl::LockExecution(const std::string& namespace_name,
                                                     const v1::WorkflowExecution& ex,
                                                     RunLock& lock) {
  std::string ns = Namespace(namespace_name);
  int64_t exec_id = 0;
  if (!ex.run_id().empty()) {
    {
      std::lock_guard<std::mutex> g(cache_mu_);
      auto it = run_ids_.find(ex.run_id());
      if (it != run_ids_.end()) exec_id = it->second;
    }
    if (exec_id == 0) {
      KEEL_ASSIGN_OR_RETURN(auto row, store_->GetExecutionByRunId(ex.run_id()));
      if (!row) return NotFound("no workflow run '" + ex.run_id() + "'");
      exec_id = row->exec_id;
    }
  } else {
    if (ex.workflow_id().empty()) return InvalidArgument("workflow_id is required");
    KEEL_ASSIGN_OR_RETURN(auto row, store_->GetCurrentExecution(ns, ex.workflow_id()));
    if (!row) return NotFound("no workflow with id '" + ex.workflow_id() + "'");
    exec_id = row->exec_id;
  }
  KEEL_ASSIGN_OR_RETURN(RunPtr run, LockRun(exec_id, lock));
  if (run->state.namespace_() != ns ||
      (!ex.workflow_id().empty() && run->state.workflow_id() != ex.workflow_id())) {
    lock.unlock();
    return NotFound("no workflow run '" + ex.run_id() + "' with id '" + ex.workflow_id() + "'");
  }
  return run;
}

void EngineImpl::MaybeEvict() {
  std::lock_guard<std::mutex> g(cache_mu_);
  if (runs_.size() <= options_.max_cached_runs) return;
  // Evict down to 90% of the cap, skipping runs in use or holding leases (those exist
  // only in memory).
  size_t target = options_.max_cached_runs - options_.max_cached_runs / 10;
  for (auto it = runs_.begin(); it != runs_.end() && runs_.size() > target;) {
    RunState& r = *it->second;
    if (it->second.use_count() == 1 && r.mu.try_lock()) {
      bool idle = r.loaded && !r.workflow_task_lease && r.activity_leases.empty();
      std::string run_id = r.state.run_id();
      r.mu.unlock();
      if (idle) {
        run_ids_.erase(run_id);
        it = runs_.erase(it);
        continue;
      }
    }
    ++it;
  }
}

// ---- commits ----

Status EngineImpl::Commit(RunState& run, Mutation& m) {
  std::pair<RunState*, Mutation*> one[] = {{&run, &m}};
  return CommitRuns(one);
}

Status EngineImpl::CommitBoth(RunState& a, Mutation& ma, RunState& b, Mutation& mb) {
  std::pair<RunState*, Mutation*> both[] = {{&a, &ma}, {&b, &mb}};
  return CommitRuns(both);
}

Status EngineImpl::CommitRuns(std::span<std::pair<RunState*, Mutation*>> runs) {
  Status st = store_->Commit(BuildTransition(runs));
  AfterCommit(runs, st);
  return st;
}

store::Transition EngineImpl::BuildTransition(std::span<std::pair<RunState*, Mutation*>> runs) {
  store::Transition t;
  for (auto& [run, m] : runs) {
    store::Transition part = m->Build(next_task_seq_);
    auto move_all = [](auto& to, auto& from) { std::move(from.begin(), from.end(), std::back_inserter(to)); };
    move_all(t.executions, part.executions);
    move_all(t.history, part.history);
    move_all(t.remove_tasks, part.remove_tasks);
    move_all(t.add_tasks, part.add_tasks);
    move_all(t.remove_timers, part.remove_timers);
    move_all(t.add_timers, part.add_timers);
    move_all(t.search_attributes, part.search_attributes);
  }
  ++commits_in_flight_;
  return t;
}

void EngineImpl::AfterCommit(std::span<std::pair<RunState*, Mutation*>> runs, const Status& st) {
  if (!st.ok()) {
    --commits_in_flight_;
    Log().error("engine: commit for run {} failed: {}", runs[0].second->state().run_id(), st.ToString());
    NotifyActivity();
    return;
  }
  for (auto& [run, m] : runs) {
    int64_t before = run->state.next_event_id();
    run->state = m->TakeState();
    run->loaded = true;
    UpdateCaches(*run, m->events());
    for (const auto& task : m->added_tasks()) {
      if (m->HandedToCaller(task.key)) continue;
      matcher_.Add(task.namespace_name, task.task_queue, task.key.kind, {task.key.exec_id, task.key.ref});
    }
    timers_->OnCommitted(m->added_timers(), m->removed_timers());
    int64_t after = run->state.next_event_id();
    if (before <= options_.history_warn_events && after > options_.history_warn_events) {
      Log().warn(
          "workflow {} (run {}) has more than {} history events; long-running workflows should "
          "continue-as-new to keep replay fast",
          run->state.workflow_id(), run->state.run_id(), options_.history_warn_events);
    }
    NotifyChanged(*run, m->events());
    // A run that closed voids its activities' attempts still out on workers.
    while (!run->Running() && !run->activity_leases.empty()) {
      ReleaseActivityLease(*run, run->activity_leases.begin()->first);
    }
  }
  --commits_in_flight_;
  NotifyActivity();
}

void EngineImpl::CommitThen(CommitMode mode, RunState& run, Mutation& m, bool hand_out,
                            std::function<void(Status)> then) {
  std::string note;
  bool handed_out = false;
  if (hand_out) {
    note = run.last_workflow_task_note;  // a lease clears it; a failed commit must not
    handed_out = HandOutBeforeCommit(run, m);
  }
  auto finish = [this, &run, &m, handed_out, note = std::move(note), then = std::move(then)](Status st) mutable {
    std::pair<RunState*, Mutation*> one[] = {{&run, &m}};
    AfterCommit(one, st);
    if (!st.ok() && handed_out) {
      ReleaseWorkflowTaskLease(run);
      run.last_workflow_task_note = std::move(note);
    }
    then(std::move(st));
  };
  std::pair<RunState*, Mutation*> one[] = {{&run, &m}};
  store::Transition t = BuildTransition(one);
  if (mode == CommitMode::kSync) {
    finish(store_->Commit(std::move(t)));
  } else {
    store_->CommitAsync(std::move(t), std::move(finish));
  }
}

void EngineImpl::UpdateCaches(RunState& run, const v1::HistoryBatch& batch) {
  for (const auto& e : batch.events()) {
    if (e.has_activity_task_scheduled()) run.activity_inputs[e.event_id()] = e.activity_task_scheduled().input();
  }
  std::erase_if(run.activity_inputs, [&](const auto& kv) { return !run.state.activities().count(kv.first); });
  if (!run.recent_events_valid) return;
  const int64_t from = run.state.previous_started_event_id();
  std::erase_if(run.recent_events, [from](const v1::HistoryEvent& e) { return e.event_id() <= from; });
  for (const auto& e : batch.events()) {
    if (e.event_id() > from) run.recent_events.push_back(e);
  }
}

uint64_t EngineImpl::Watch(int64_t exec_id, bool every_change) {
  std::lock_guard<std::mutex> g(watch_mu_);
  auto& w = watches_[exec_id];
  ++w.watchers;
  if (every_change) ++w.change_watchers;
  return w.version;
}

bool EngineImpl::WaitChanged(int64_t exec_id, uint64_t& version, Time deadline) {
  std::unique_lock<std::mutex> lock(watch_mu_);
  WatchState& w = watches_[exec_id];  // exists: the caller called Watch
  bool changed = clock_.WaitUntil(lock, w.cv, deadline, [&] {
    return closing_.load() || w.version != version;
  });
  version = w.version;
  return changed && !closing_.load();
}

bool EngineImpl::WaitClosed(int64_t exec_id, Time deadline) {
  std::unique_lock<std::mutex> lock(watch_mu_);
  WatchState& w = watches_[exec_id];  // exists: the caller called Watch
  bool closed = clock_.WaitUntil(lock, w.cv, deadline, [&] { return closing_.load() || w.closed; });
  return closed && !closing_.load();
}

void EngineImpl::Unwatch(int64_t exec_id, bool every_change) {
  std::lock_guard<std::mutex> g(watch_mu_);
  auto it = watches_.find(exec_id);
  if (it == watches_.end()) return;
  if (every_change) --it->second.change_watchers;
  if (--it->second.watchers <= 0) watches_.erase(it);
}

void EngineImpl::NotifyChanged(const RunState& run, const v1::HistoryBatch& committed) {
  const int64_t exec_id = run.exec_id;
  const bool closed = !run.Running();
  if (closed) {
    // The close event is the last one this commit wrote (a continue-as-new is followed on
    // the waits' thread instead).
    close_waits_->Closed(exec_id, [&]() -> std::optional<v1::GetWorkflowExecutionResultResponse> {
      const int n = committed.events_size();
      if (n == 0 || !IsCloseEvent(committed.events(n - 1)) ||
          run.state.status() == v1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW) {
        return std::nullopt;
      }
      return ClosedRunResult(run.state.run_id(), run.state.status(), committed.events(n - 1));
    });
  }
  std::lock_guard<std::mutex> g(watch_mu_);
  auto it = watches_.find(exec_id);
  if (it == watches_.end()) return;
  WatchState& w = it->second;
  ++w.version;
  w.closed = w.closed || closed;
  // Under the lock: the entry may go once waiters leave. Result waiters sleep through
  // the run's steps (a wake-up each would cost a context switch per step).
  if (closed || w.change_watchers > 0) w.cv.notify_all();
}

// ---- tokens and helpers ----

std::string EngineImpl::NewToken(const v1::TaskToken& token) const {
  std::string out;
  token.SerializeToString(&out);
  return out;
}

Result<v1::TaskToken> EngineImpl::ParseToken(const std::string& bytes,
                                             v1::TaskToken::Kind kind) const {
  v1::TaskToken t;
  if (bytes.empty() || !t.ParseFromString(bytes) || t.kind() != kind || t.run_id().empty()) {
    return InvalidArgument(kind == v1::TaskToken::KIND_WORKFLOW   ? "malformed workflow task token"
                           : kind == v1::TaskToken::KIND_ACTIVITY ? "malformed activity task token"
                                                                  : "malformed query task token");
  }
  return t;
}

Status EngineImpl::CheckPayloads(const v1::Payloads& p, const char* what) const {
  size_t size = p.ByteSizeLong();
  if (size > options_.max_payload_bytes) {
    return InvalidArgument(std::string(what) + " is " + std::to_string(size) +
                           " bytes, over the limit of " +
                           std::to_string(options_.max_payload_bytes) + " bytes");
  }
  return Status::Ok();
}

Result<std::vector<v1::HistoryEvent>> EngineImpl::ReadEvents(int64_t exec_id, int64_t from,
                                                             int64_t to) {
  KEEL_ASSIGN_OR_RETURN(auto batches, store_->ReadHistory(exec_id, from, to));
  std::vector<v1::HistoryEvent> out;
  v1::HistoryBatch batch;
  for (const auto& b : batches) {
    if (!batch.ParseFromString(b.events)) {
      return DataLoss("a stored history batch of run " + std::to_string(exec_id) +
                      " cannot be parsed");
    }
    for (auto& e : *batch.mutable_events()) {
      if (e.event_id() < from || (to > 0 && e.event_id() > to)) continue;
      out.push_back(std::move(e));
    }
  }
  return out;
}

bool EngineImpl::Quiescent() {
  return commits_in_flight_ == 0 && leases_ == 0 && timers_->Idle() && matcher_.Idle();
}

void EngineImpl::SetActivityListener(std::function<void()> fn) {
  std::lock_guard<std::mutex> g(listener_mu_);
  listener_ = std::move(fn);
}

void EngineImpl::NotifyActivity() {
  std::function<void()> fn;
  {
    std::lock_guard<std::mutex> g(listener_mu_);
    fn = listener_;
  }
  if (fn) fn();
}

Result<v1::ShutdownWorkerResponse> EngineImpl::ShutdownWorker(
    const v1::ShutdownWorkerRequest& request) {
  KEEL_RETURN_IF_ERROR(ValidateName(request.namespace_(), "namespace", false));
  KEEL_RETURN_IF_ERROR(ValidateName(request.identity(), "identity"));
  matcher_.CancelPolls(request.identity());
  return v1::ShutdownWorkerResponse();
}

}  // namespace core
}  // namespace keel
