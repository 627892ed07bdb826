// Activity attempts that run across a restart (EngineOptions::recovered_activity_hold).
// Leases live in memory, so a restarted engine does not know which of the activity tasks
// it finds pending were running on workers that outlived it (keeld restarted, its
// workers did not). It holds them for a while: an attempt's heartbeat or result within
// the hold takes its task back (AdoptRecovered), and the attempt goes on; when the hold
// ends, a task nobody took back is handed out (ReleaseRecovered), and the old attempt
// may still take it back until a worker's poll takes it. A clean close records
// which attempts were running (RecordCleanClose), so that the next open holds only their
// tasks; after a crash it holds every pending activity task.
#include "engine/core/engine_impl.h"
#include "engine/history/convert.h"
#include "engine/log.h"

namespace keel::core {

void EngineImpl::RecordCleanClose() {
  store::CleanClose close;
  close.close_time_us = ToMicros(clock_.Now());
  std::vector<RunPtr> runs;
  {
    std::lock_guard<std::mutex> g(cache_mu_);
    for (const auto& [exec_id, run] : runs_) {
      if (run) runs.push_back(run);
    }
  }
  for (const auto& run : runs) {
    RunLock lock(run->mu);
    for (const auto& [id, lease] : run->activity_leases) {
      close.running.push_back({run->exec_id, store::TaskKind::kActivity, id});
    }
  }
  {
    std::lock_guard<std::mutex> g(recovered_mu_);
    for (const auto& [key, where] : recovered_) {
      close.running.push_back({key.first, store::TaskKind::kActivity, key.second});
    }
  }
  Status st = store_->RecordCleanClose(close);
  if (!st.ok()) {
    Log().warn("engine: the clean close could not be recorded ({}); the next open holds every "
               "pending activity task", st.ToString());
  }
}

Result<std::optional<std::set<std::pair<int64_t, int64_t>>>> EngineImpl::TakeCleanClose() {
  auto record = store_->TakeCleanClose();
  if (!record.ok()) return record.status().WithContext("taking the record of the last clean close");
  using Running = std::set<std::pair<int64_t, int64_t>>;
  if (!record->has_value()) return std::optional<Running>();
  Running running;
  for (const store::TaskKey& key : (*record)->running) running.insert({key.exec_id, key.ref});
  return std::optional<Running>(std::move(running));
}

bool EngineImpl::Held(int64_t exec_id, int64_t id) {
  std::lock_guard<std::mutex> g(recovered_mu_);
  return recovered_.count({exec_id, id}) > 0;
}

void EngineImpl::ReleaseRecovered(int64_t exec_id, int64_t id) {
  std::pair<std::string, std::string> where;
  {
    std::lock_guard<std::mutex> g(recovered_mu_);
    auto it = recovered_.find({exec_id, id});
    if (it == recovered_.end()) return;  // adopted
    where = std::move(it->second);
    recovered_.erase(it);
  }
  {
    // The workflow asked to cancel it during the hold, and no worker took it back: it
    // is canceled now rather than handed out.
    RunLock lock;
    auto run = LockRun(exec_id, lock);
    if (run.ok() && (*run)->Running() && !(*run)->activity_leases.count(id)) {
      auto a = (*run)->state.activities().find(id);
      if (a != (*run)->state.activities().end() && a->second.cancel_requested()) {
        Mutation m(**run, clock_.Now());
        auto* canceled = m.AddForWorkflow()->mutable_activity_task_canceled();
        canceled->set_scheduled_event_id(id);
        canceled->set_latest_cancel_requested_event_id(a->second.cancel_requested_event_id());
        RecordActivityClosed(**run, m, id);
        Status st = CommitHandingOut(**run, m);
        if (st.ok()) return;
        Log().error("workflow {}: canceling activity {} after the restart's hold failed ({}); it is handed out",
                    (*run)->state.workflow_id(), id, st.ToString());
      }
    }
  }
  matcher_.Add(where.first, where.second, store::TaskKind::kActivity, {exec_id, id});
}

bool EngineImpl::AdoptRecovered(RunState& run, const v1::TaskToken& token, const std::string& identity) {
  const int64_t id = token.scheduled_event_id();
  auto a = run.state.activities().find(id);
  // Only an attempt leased before the restart (another epoch). A held task is never
  // leased by this process, so the epoch check is a safeguard.
  if (!run.Running() || a == run.state.activities().end() || a->second.backing_off() ||
      a->second.attempt() != token.attempt() || (token.lease_id() & 0xffffffff00000000ULL) == lease_epoch_) {
    return false;
  }
  // Also once the hold has ended, as long as no worker took the task since (the caller
  // found no lease): the attempt is still the current one, and taking it back spares
  // running it again. A poll that then finds the task leased passes it by.
  bool held;
  {
    std::lock_guard<std::mutex> g(recovered_mu_);
    held = recovered_.erase({run.exec_id, id}) > 0;
  }
  if (held) timers_->ClearDeadline(DeadlineKind::kRecoveredActivity, run.exec_id, id);
  const Time now = clock_.Now();
  ActivityLease lease;
  lease.lease_id = token.lease_id();
  lease.started_time = now;  // (when it really started was not recorded)
  lease.deadline = now + FromProtoDuration(a->second.start_to_close_timeout());
  Duration hb = FromProtoDuration(a->second.heartbeat_timeout());
  if (hb > Duration::zero()) lease.heartbeat_deadline = now + hb;
  lease.identity = identity;
  timers_->SetDeadline(DeadlineKind::kActivityLease, run.exec_id, id, lease.deadline);
  if (lease.heartbeat_deadline) {
    timers_->SetDeadline(DeadlineKind::kActivityHeartbeat, run.exec_id, id, *lease.heartbeat_deadline);
  }
  run.activity_leases[id] = std::move(lease);
  ++leases_;
  Log().info("workflow {} (run {}): activity {} attempt {} ran across the restart on worker '{}' and goes on",
             run.state.workflow_id(), run.state.run_id(), a->second.activity_type(), token.attempt(),
             ForLog(identity, 200));
  return true;
}

}  // namespace keel::core
