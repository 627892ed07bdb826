// Polls: a worker asks for its queue's next task. A blocking poll waits in the matcher on
// its own thread; an async one (a server's) leaves a callback and holds no thread. Both
// take a task the same way (TakeWorkflowTask, TakeActivityTask): tasks in the matcher are
// references that may be stale, so each is checked against its run before it is leased.
#include <atomic>

#include "engine/core/engine_impl.h"
#include "engine/core/validation.h"

namespace keel::core {

namespace {

// The poll's queue: validated names, the namespace and queue defaults applied.
template <typename Req>
Result<std::pair<std::string, std::string>> PollTarget(const Req& request, const std::string& ns) {
  KEEL_RETURN_IF_ERROR(ValidateName(request.namespace_(), "namespace", false));
  KEEL_RETURN_IF_ERROR(ValidateName(request.task_queue(), "task_queue", false));
  KEEL_RETURN_IF_ERROR(ValidateName(request.identity(), "identity"));
  return std::make_pair(ns, request.task_queue().empty() ? std::string("default") : request.task_queue());
}

}  // namespace

std::optional<Result<v1::PollWorkflowTaskQueueResponse>> EngineImpl::TakeWorkflowTask(
    TaskRef& ref, const std::string& ns, const std::string& queue, const std::string& identity) {
  if (ref.prepared) return std::move(*ref.prepared);  // leased to this poll as it was committed
  if (ref.ref < 0) {                                  // a query (queries.cc)
    auto query = DispatchQuery(ref.exec_id, static_cast<uint64_t>(-ref.ref));
    if (query.ok()) return query;
    return std::nullopt;
  }
  RunLock lock;
  auto locked = LockRun(ref.exec_id, lock);
  if (!locked.ok()) return std::nullopt;  // the run is gone
  RunState& run = **locked;
  if (!WorkflowTaskDue(run)) {
    NotifyActivity();
    return std::nullopt;  // stale: this task was completed, or is running elsewhere
  }
  auto resp = LeaseWorkflowTask(run, ns, identity);
  if (!resp.ok()) matcher_.Add(ns, queue, store::TaskKind::kWorkflow, ref);
  return resp;
}

std::optional<Result<v1::PollActivityTaskQueueResponse>> EngineImpl::TakeActivityTask(
    TaskRef& ref, const std::string& ns, const std::string& queue, const std::string& identity) {
  RunLock lock;
  auto locked = LockRun(ref.exec_id, lock);
  if (!locked.ok()) return std::nullopt;
  RunState& run = **locked;
  auto it = run.state.activities().find(ref.ref);
  if (!run.Running() || it == run.state.activities().end() || it->second.backing_off() ||
      run.activity_leases.count(ref.ref)) {
    NotifyActivity();
    return std::nullopt;  // stale
  }
  auto resp = LeaseActivityTask(run, ns, ref.ref, identity);
  if (!resp.ok()) matcher_.Add(ns, queue, store::TaskKind::kActivity, ref);
  return resp;
}

// ---- blocking polls ----

template <typename Resp, typename Req, typename Take>
Result<Resp> EngineImpl::BlockingPoll(const Req& request, store::TaskKind kind, Take take) {
  KEEL_ASSIGN_OR_RETURN(auto target, PollTarget(request, Namespace(request.namespace_())));
  const auto& [ns, queue] = target;
  const Time deadline = clock_.Now() + options_.poll_timeout;
  while (true) {
    auto ref = matcher_.Poll(ns, queue, kind, request.identity(), deadline);
    if (closing_) return Unavailable("the engine is shutting down");
    if (!ref) return Resp();
    if (auto taken = (this->*take)(*ref, ns, queue, request.identity())) return std::move(*taken);
  }
}

Result<v1::PollWorkflowTaskQueueResponse> EngineImpl::PollWorkflowTaskQueue(
    const v1::PollWorkflowTaskQueueRequest& request) {
  return BlockingPoll<v1::PollWorkflowTaskQueueResponse>(request, store::TaskKind::kWorkflow,
                                                         &EngineImpl::TakeWorkflowTask);
}

Result<v1::PollActivityTaskQueueResponse> EngineImpl::PollActivityTaskQueue(
    const v1::PollActivityTaskQueueRequest& request) {
  return BlockingPoll<v1::PollActivityTaskQueueResponse>(request, store::TaskKind::kActivity,
                                                         &EngineImpl::TakeActivityTask);
}

// ---- async polls ----

// One async poll, from its call until `done` runs.
template <typename Resp>
struct EngineImpl::AsyncPoll {
  explicit AsyncPoll(EngineImpl& e) : async(e) {}
  AsyncCallScope async;  // the engine's destructor waits for the answer
  std::string ns, queue, identity;
  store::TaskKind kind = store::TaskKind::kWorkflow;
  Time deadline;
  std::shared_ptr<PollCancel> cancel;
  std::atomic<uint64_t> wait_id{0};  // the matcher's id of the current wait, for the cancel hook
  Callback<Resp> done;
  std::optional<Result<Resp>> (EngineImpl::*take)(TaskRef&, const std::string&, const std::string&,
                                                  const std::string&) = nullptr;
};

template <typename Resp, typename Req, typename Take>
void EngineImpl::StartAsyncPoll(const Req& request, store::TaskKind kind, Duration max_wait,
                                std::shared_ptr<PollCancel> cancel, Callback<Resp> done, Take take) {
  auto target = PollTarget(request, Namespace(request.namespace_()));
  if (!target.ok()) return done(target.status());
  auto poll = std::make_shared<AsyncPoll<Resp>>(*this);
  poll->ns = std::move(target->first);
  poll->queue = std::move(target->second);
  poll->identity = request.identity();
  poll->kind = kind;
  poll->deadline = clock_.Now() + std::min(options_.poll_timeout, max_wait);
  poll->cancel = std::move(cancel);
  poll->done = std::move(done);
  poll->take = take;
  if (poll->cancel) {
    // Set once for the whole poll: it ends whichever wait is current. Weak: a finished
    // poll (and a closed engine) is left alone by a late cancel.
    std::weak_ptr<AsyncPoll<Resp>> weak = poll;
    poll->cancel->SetHook([this, weak] {
      if (auto p = weak.lock()) matcher_.CancelAsync(p->wait_id.load());
    });
  }
  ServeAsyncPoll(poll, std::nullopt);
}

template <typename Resp>
void EngineImpl::ServeAsyncPoll(const std::shared_ptr<AsyncPoll<Resp>>& poll, std::optional<TaskRef> ref) {
  while (true) {
    const bool gone = poll->cancel && poll->cancel->cancelled();
    if (!ref) {
      if (closing_) return poll->done(Unavailable("the engine is shutting down"));
      if (gone) return poll->done(Resp());
      // Not on the committing thread for a task to lease: see TaskMatcher::PollAsync.
      auto got = [this, poll](std::optional<TaskRef> task) {
        if (!task) return poll->done(closing_ ? Result<Resp>(Unavailable("the engine is shutting down")) : Resp());
        ServeAsyncPoll(poll, std::move(task));
      };
      const uint64_t id = matcher_.PollAsync(poll->ns, poll->queue, poll->kind, poll->identity, poll->deadline,
                                             std::move(got), &ref);
      if (id != 0) {
        poll->wait_id.store(id);
        // A cancel that came meanwhile may have ended the previous wait instead: end
        // this one. (Stored before looking: the cancel's hook reads the id after setting
        // the flag, so one of the two sees the other.)
        if (poll->cancel && poll->cancel->cancelled()) matcher_.CancelAsync(id);
        return;
      }
      if (!ref) return poll->done(closing_ ? Result<Resp>(Unavailable("the engine is shutting down")) : Resp());
    } else if (gone && !ref->prepared) {
      // The caller hung up after the task was handed over: leave it for another poller.
      // (A prepared task is leased already; it goes out and its lease expires.)
      matcher_.Add(poll->ns, poll->queue, poll->kind, std::move(*ref));
      return poll->done(Resp());
    }
    if (auto taken = (this->*(poll->take))(*ref, poll->ns, poll->queue, poll->identity)) {
      return poll->done(std::move(*taken));
    }
    ref.reset();  // stale: wait for the next one
  }
}

void EngineImpl::PollWorkflowTaskQueue(const v1::PollWorkflowTaskQueueRequest& request, Duration max_wait,
                                       std::shared_ptr<PollCancel> cancel,
                                       Callback<v1::PollWorkflowTaskQueueResponse> done) {
  StartAsyncPoll<v1::PollWorkflowTaskQueueResponse>(request, store::TaskKind::kWorkflow, max_wait, std::move(cancel),
                                                    std::move(done), &EngineImpl::TakeWorkflowTask);
}

void EngineImpl::PollActivityTaskQueue(const v1::PollActivityTaskQueueRequest& request, Duration max_wait,
                                       std::shared_ptr<PollCancel> cancel,
                                       Callback<v1::PollActivityTaskQueueResponse> done) {
  StartAsyncPoll<v1::PollActivityTaskQueueResponse>(request, store::TaskKind::kActivity, max_wait, std::move(cancel),
                                                    std::move(done), &EngineImpl::TakeActivityTask);
}

}  // namespace keel::core
