#include "engine/worker.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>

#include "engine/engine.h"
#include "engine/history/convert.h"
#include "engine/log.h"
#include "engine/random.h"
#include "engine/runtime/failure_convert.h"
#include "engine/utf8.h"
#include "engine/worker/activity_slots.h"
#include "engine/worker/run_cache.h"

namespace keel {

namespace {

// Set only while an activity thread of this worker reports an activity's outcome: a
// workflow task run inline then may take an eager activity, which lands in
// t_eager_activity for the activity loop to run next. (Not while the activity's own code
// runs: engine calls it makes must not hand this thread work it cannot do at once.)
thread_local Worker* t_eager_for = nullptr;
thread_local std::optional<v1::PollActivityTaskQueueResponse> t_eager_activity;
struct EagerScope {
  explicit EagerScope(Worker* w) { t_eager_for = w; }
  ~EagerScope() { t_eager_for = nullptr; }
};
thread_local std::unique_ptr<internal::RunDriver> t_inline_driver;
thread_local bool t_inline_cached = false;  // t_inline_driver came from the cache

std::string DefaultIdentity() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return std::to_string(getpid()) + "@" + host;
}

std::string UniqueSuffix() {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%06llx",
                static_cast<unsigned long long>(Random::System().Next() & 0xffffff));
  return buf;
}

v1::WorkflowTaskFailedCause CauseOf(const Status& st, const internal::RunDriver& driver) {
  if (st.code() == StatusCode::kNondeterminism)
    return v1::WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR;
  if (driver.unknown_workflow_type()) return v1::WORKFLOW_TASK_FAILED_CAUSE_UNKNOWN_WORKFLOW_TYPE;
  return v1::WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE;
}

}  // namespace

Worker::Worker(Frontend& frontend, const Registry& registry, WorkerOptions options)
    : frontend_(frontend),
      registry_(registry),
      options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : Clock::System()),
      identity_((options_.identity.empty() ? DefaultIdentity() : options_.identity) + "#" +
                UniqueSuffix()),
      cache_(std::make_unique<RunCache>(options_.max_cached_workflows)) {}

class Worker::InlineRunner : public InlineWorkflowTasks {
 public:
  explicit InlineRunner(Worker& worker) : worker_(worker) {}
  bool Run(const v1::PollWorkflowTaskQueueResponse& task,
           v1::RespondWorkflowTaskCompletedRequest* completion) override {
    return worker_.RunInline(task, completion);
  }
  void Done(const std::string& run_id, bool committed,
            v1::PollActivityTaskQueueResponse* eager) override {
    worker_.InlineDone(run_id, committed, eager);
  }

 private:
  Worker& worker_;
};

Worker::~Worker() { Stop(); }

void Worker::Start() {
  if (started_) return;
  bool workflows = !registry_.WorkflowTypes().empty();
  bool activities = !registry_.ActivityTypes().empty();
  if (!workflows && !activities) {
    throw std::invalid_argument("Worker: the registry has no workflows and no activities");
  }
  started_ = true;
  // Each thread makes one call at a time.
  const int64_t threads = (workflows ? std::max(1, options_.workflow_task_pollers) : int64_t{0}) +
                         (activities ? std::max(1, options_.max_concurrent_activities) : int64_t{0});
  frontend_.PrepareConcurrentCalls(static_cast<int>(std::min<int64_t>(threads, INT32_MAX)));
  if (workflows) {
    // Embedded: let the engine run this worker's workflow tasks inline.
    if (auto* engine =
            options_.inline_workflow_tasks ? dynamic_cast<Engine*>(&frontend_) : nullptr) {
      inline_runner_ = std::make_unique<InlineRunner>(*this);
      inline_engine_ = engine;
      engine->AddInlineWorkflowTasks(options_.namespace_name, options_.task_queue,
                                     inline_runner_.get());
    }
    for (int i = 0; i < std::max(1, options_.workflow_task_pollers); ++i) {
      threads_.emplace_back([this] { WorkflowLoop(); });
    }
  }
  if (activities) {
    const int threads = std::max(1, options_.max_concurrent_activities);
    int pollers = options_.activity_task_pollers;
    // Hand-overs come only from workflow tasks run on this worker's own poller threads.
    if (pollers <= 0) pollers = workflows && !inline_engine_ ? 2 : threads;
    activity_slots_ = std::make_unique<internal::ActivitySlots>(std::min(pollers, threads));
    // Before the threads start: RunActivity registers its activity only when listened for.
    reconnect_listener_ = frontend_.AddReconnectListener([this] { ReportRunningActivities(); });
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { ActivityLoop(); });
    }
  }
}

void Worker::Stop() {
  if (!started_ || stopping_.exchange(true)) {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    return;
  }
  { std::lock_guard<std::mutex> g(stop_mu_); }
  stop_cv_.notify_all();
  if (activity_slots_) activity_slots_->Stop();
  if (inline_engine_) inline_engine_->RemoveInlineWorkflowTasks(inline_runner_.get());
  v1::ShutdownWorkerRequest req;
  req.set_namespace_(options_.namespace_name);
  req.set_identity(identity_);
  (void)frontend_.ShutdownWorker(req);
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  if (reconnect_listener_ != 0) frontend_.RemoveReconnectListener(reconnect_listener_);
}

struct Worker::RunningActivity {
  std::string token;
  std::mutex mu;
  ActivityContext* ctx = nullptr;  // null once its code returned; guarded by mu
};

void Worker::ReportRunningActivities() {
  std::vector<std::shared_ptr<RunningActivity>> running;
  {
    std::lock_guard<std::mutex> g(running_mu_);
    for (const auto& r : running_) {
      std::lock_guard<std::mutex> rg(r->mu);
      if (r->ctx) running.push_back(r);  // (one whose code returned reports its outcome)
    }
  }
  if (running.empty()) return;
  // A keeld busy right after its restart may answer UNAVAILABLE or not in time: such a
  // report is sent again after a backoff (0.2 s, then doubling), up to kMaxTries times
  // and not after kRetryFor, so that it stays within keeld's default recovery hold
  // (10 s). A call that timed out took its whole call timeout, so it is seldom retried.
  constexpr int kMaxTries = 5;
  constexpr Duration kRetryFor = std::chrono::seconds(8);
  const Time give_up = clock_.Now() + kRetryFor;
  int reported = 0, gone = 0, failures = 0;
  for (int tries = 1; !running.empty(); ++tries) {
    std::vector<std::shared_ptr<RunningActivity>> again;
    for (const auto& r : running) {
      if (stopping_) break;  // Stop waits for this pass (RemoveReconnectListener)
      {
        std::lock_guard<std::mutex> g(r->mu);
        if (!r->ctx) continue;  // its code returned meanwhile: its outcome tells keeld
      }
      v1::RecordActivityTaskHeartbeatRequest req;
      req.set_task_token(r->token);
      req.set_identity(identity_);
      auto resp = frontend_.RecordActivityTaskHeartbeat(req);
      const StatusCode code = resp.status().code();
      if (code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded) {
        again.push_back(r);
        continue;
      }
      // As for the activity's own heartbeat: an attempt keeld no longer knows should stop.
      // (Any other error is left to the activity's own heartbeat or result.)
      const bool stop = resp.ok() ? resp->cancel_requested() : code == StatusCode::kNotFound;
      reported += resp.ok();
      gone += code == StatusCode::kNotFound;
      if (!stop) continue;
      std::lock_guard<std::mutex> g(r->mu);
      if (r->ctx) r->ctx->MarkCancelled();
    }
    if (again.empty() || stopping_) break;
    if (tries == kMaxTries || clock_.Now() >= give_up) {
      Log().warn("worker {}: could not report {} running activities to keeld at reconnection; "
                 "keeld hands them out again when its recovery hold ends unless their results "
                 "or heartbeats come first", identity_, again.size());
      break;
    }
    if (!Backoff(failures)) break;  // the worker stops
    running = std::move(again);
  }
  if (reported + gone == 0) return;
  const std::string gone_note =
      gone == 0 ? std::string() : fmt::format(" ({} no longer current there: marked cancelled)", gone);
  Log().info("worker {}: reported {} running activities to keeld at reconnection{}", identity_,
             reported + gone, gone_note);
}

Worker::Stats Worker::stats() const {
  Stats s;
  s.workflow_tasks = workflow_tasks_;
  s.workflow_task_failures = workflow_task_failures_;
  s.cache_hits = cache_hits_;
  s.replays = replays_;
  s.activities = activities_;
  s.activity_failures = activity_failures_;
  s.eager_workflow_tasks = eager_workflow_tasks_;
  s.eager_activities = eager_activities_;
  s.inline_workflow_tasks = inline_workflow_tasks_;
  s.workflow_tasks_on_result = workflow_tasks_on_result_;
  return s;
}

bool Worker::Backoff(int& failures) {
  ++failures;
  Duration wait = std::chrono::milliseconds(100) * (1 << std::min(failures, 8));
  wait = std::min<Duration>(wait, std::chrono::seconds(10));
  std::unique_lock<std::mutex> lock(stop_mu_);
  clock_.WaitUntil(lock, stop_cv_, clock_.Now() + wait, [&] { return stopping_.load(); });
  return !stopping_;
}

void Worker::LogPollFailure(const char* what, const Status& status) {
  const std::string text = status.ToString();
  bool news;
  {
    std::lock_guard<std::mutex> g(poll_log_mu_);
    const Time now = clock_.Now();
    if (poll_warnings_.size() > 64) poll_warnings_.clear();  // errors that name changing things
    auto [it, first] = poll_warnings_.try_emplace(text, now);
    news = first || now - it->second >= std::chrono::minutes(1);
    if (news) it->second = now;
  }
  if (news) {
    Log().warn("worker {}: polling {} tasks failed: {} (the worker keeps trying)", identity_, what, text);
  } else {
    Log().debug("worker {}: polling {} tasks failed: {}", identity_, what, text);
  }
}

// ---- workflow tasks ----

void Worker::WorkflowLoop() {
  v1::PollWorkflowTaskQueueRequest req;
  req.set_namespace_(options_.namespace_name);
  req.set_task_queue(options_.task_queue);
  req.set_identity(identity_);
  int failures = 0;
  while (!stopping_) {
    auto task = frontend_.PollWorkflowTaskQueue(req);
    if (!task.ok()) {
      if (stopping_) break;
      LogPollFailure("workflow", task.status());
      if (!Backoff(failures)) break;
      continue;
    }
    failures = 0;
    if (task->task_token().empty()) continue;
    if (task->has_query()) {
      AnswerQuery(*task);
    } else {
      ProcessWorkflowTask(*task);
    }
  }
}

std::unique_ptr<internal::RunDriver> Worker::ReplayRun(const v1::WorkflowExecution& execution,
                                                       const std::string& workflow_type,
                                                       Status* status) {
  WorkflowInfo info;
  info.namespace_name = options_.namespace_name;
  info.workflow_id = execution.workflow_id();
  info.run_id = execution.run_id();
  info.workflow_type = workflow_type;
  auto driver = std::make_unique<internal::RunDriver>(registry_, info);
  driver->set_replay_only(true);
  v1::GetWorkflowExecutionHistoryRequest req;
  req.set_namespace_(options_.namespace_name);
  *req.mutable_workflow_execution() = execution;
  internal::RunDriver::Events events;
  while (true) {
    auto page = frontend_.GetWorkflowExecutionHistory(req);
    if (!page.ok()) {
      *status = page.status();
      return nullptr;
    }
    for (auto& e : *page->mutable_history()->mutable_events()) *events.Add() = std::move(e);
    if (page->next_page_token().empty()) break;
    req.set_next_page_token(page->next_page_token());
  }
  std::vector<v1::Command> ignored;
  *status = driver->Advance(events, &ignored);
  return status->ok() ? std::move(driver) : nullptr;
}

void Worker::AnswerQuery(const v1::PollWorkflowTaskQueueResponse& task) {
  const std::string& run_id = task.workflow_execution().run_id();
  v1::RespondQueryTaskCompletedRequest resp;
  resp.set_task_token(task.task_token());
  resp.set_identity(identity_);
  // A cached run that is current answers from its state; otherwise replay the history.
  auto cached = cache_->Take(run_id);
  Result<Payloads> answer = Payloads{};
  if (cached && !cached->broken() &&
      cached->last_started_event_id() == task.previous_started_event_id()) {
    answer = cached->Query(task.query().query_type(), FromProto(task.query().query_args()));
    cache_->Put(run_id, std::move(cached));
  } else {
    if (cached) cache_->Put(run_id, std::move(cached));
    Status st;
    auto replayed = ReplayRun(task.workflow_execution(), task.workflow_type(), &st);
    answer = replayed
                 ? replayed->Query(task.query().query_type(), FromProto(task.query().query_args()))
                 : Result<Payloads>(st.WithContext("replaying the workflow to answer a query"));
  }
  if (answer.ok()) {
    *resp.mutable_query_result() = ToProto(*answer);
  } else {
    // Any text (a handler's exception): valid UTF-8 and within keeld's 4 KiB for text.
    resp.set_error_message(ToValidUtf8(answer.status().message().substr(0, 4000)));
    resp.set_unknown_query(answer.status().code() == StatusCode::kInvalidArgument);
  }
  auto st = frontend_.RespondQueryTaskCompleted(resp);
  if (!st.ok())
    Log().debug("worker {}: query answer not accepted: {}", identity_, st.status().ToString());
}

std::optional<v1::PollActivityTaskQueueResponse> Worker::ProcessWorkflowTask(
    const v1::PollWorkflowTaskQueueResponse& task, bool run_activity) {
  ++workflow_tasks_;
  const std::string& run_id = task.workflow_execution().run_id();
  auto driver = cache_->Take(run_id);
  const internal::RunDriver::Events* events = &task.events();
  internal::RunDriver::Events full;
  if (driver && !driver->broken() &&
      driver->last_started_event_id() == task.previous_started_event_id() &&
      driver->last_event_id() == task.previous_started_event_id()) {
    ++cache_hits_;
  } else {
    ++replays_;
    WorkflowInfo info;
    info.namespace_name = options_.namespace_name;
    info.workflow_id = task.workflow_execution().workflow_id();
    info.run_id = run_id;
    info.workflow_type = task.workflow_type();
    driver = std::make_unique<internal::RunDriver>(registry_, info);
    int64_t first = task.events_size() > 0 ? task.events(0).event_id() : task.started_event_id();
    if (first > 1) {
      // Everything before this task's new events, read from the engine.
      v1::GetWorkflowExecutionHistoryRequest hreq;
      hreq.set_namespace_(options_.namespace_name);
      *hreq.mutable_workflow_execution() = task.workflow_execution();
      hreq.set_first_event_id(1);
      hreq.set_last_event_id(first - 1);
      while (true) {
        auto page = frontend_.GetWorkflowExecutionHistory(hreq);
        if (!page.ok()) {
          Log().warn("worker {}: reading the history of run {} failed: {}", identity_, run_id,
                     page.status().ToString());
          return std::nullopt;  // the task times out and is handed out again
        }
        for (auto& e : *page->mutable_history()->mutable_events()) *full.Add() = std::move(e);
        if (page->next_page_token().empty()) break;
        hreq.set_next_page_token(page->next_page_token());
      }
    }
    for (const auto& e : task.events()) *full.Add() = e;
    events = &full;
  }

  std::vector<v1::Command> commands;
  Status st = driver->Advance(*events, &commands);
  if (!st.ok()) {
    ++workflow_task_failures_;
    Log().warn("worker {}: workflow task of {} (run {}) failed: {}", identity_,
               task.workflow_execution().workflow_id(), run_id, st.ToString());
    v1::RespondWorkflowTaskFailedRequest req;
    req.set_task_token(task.task_token());
    req.set_cause(CauseOf(st, *driver));
    req.mutable_failure()->set_message(ToValidUtf8(st.message()));  // may quote workflow code's exception
    req.mutable_failure()->set_source("keel-cpp");
    req.mutable_failure()->mutable_application_failure_info()->set_type(
        std::string(StatusCodeName(st.code())));
    req.set_identity(identity_);
    auto resp = frontend_.RespondWorkflowTaskFailed(req);
    if (!resp.ok()) {
      Log().warn("worker {}: reporting the failed workflow task failed: {}", identity_,
                 resp.status().ToString());
    }
    return std::nullopt;
  }
  v1::RespondWorkflowTaskCompletedRequest req;
  req.set_task_token(task.task_token());
  // The activity this task schedules, if any, is run by this (activity) thread next, or
  // handed over to a waiting activity thread reserved for it.
  const int eager = stopping_ ? 0 : EagerActivityCommand(commands);
  internal::ActivitySlots::Reservation hand_over(
      run_activity || eager == 0 ? nullptr : activity_slots_.get());
  if (run_activity || hand_over.reserved()) req.set_eager_activity_command(eager);
  req.set_return_new_events(!inline_engine_);  // for RunOnResult
  for (auto& c : commands) *req.add_commands() = std::move(c);
  req.set_identity(identity_);
  auto resp = frontend_.RespondWorkflowTaskCompleted(req);
  if (!resp.ok()) {
    // The engine did not take this task's outcome (its lease expired, new events came):
    // the task runs again, so this driver's state is no longer the run's.
    Log().debug("worker {}: workflow task of run {} not accepted: {}", identity_, run_id,
                resp.status().ToString());
    return std::nullopt;
  }
  driver->unseen_events() = std::move(*resp->mutable_events());
  if (!driver->finished()) cache_->Put(run_id, std::move(driver));
  if (!resp->has_activity_task()) return std::nullopt;
  ++eager_activities_;
  // Handed over only now that the run is cached: the activity's result can then carry
  // the run's next workflow task (RunOnResult).
  if (hand_over.reserved()) {
    hand_over.Deliver(std::move(*resp->mutable_activity_task()));
    return std::nullopt;
  }
  return std::move(*resp->mutable_activity_task());
}

std::unique_ptr<internal::RunDriver> Worker::RunOnResult(
    const v1::PollActivityTaskQueueResponse& task, const v1::Payloads& result,
    v1::RespondActivityTaskCompletedRequest* req) {
  const std::string& run_id = task.workflow_execution().run_id();
  auto driver = cache_->Take(run_id);
  if (!driver) return nullptr;
  internal::RunDriver::Events events = std::move(driver->unseen_events());
  driver->unseen_events().Clear();
  if (driver->broken() || events.empty() ||
      events.Get(0).event_id() != driver->last_event_id() + 1) {
    cache_->Put(run_id, std::move(driver));  // a poll brings the next task, as usual
    return nullptr;
  }
  // What the engine will write when nothing else happened in the run meanwhile: the
  // activity's start and result, then the next workflow task's scheduled and started.
  const int64_t first = events.Get(events.size() - 1).event_id() + 1;
  const auto now = ToProtoTime(clock_.Now());
  auto add = [&](int64_t id, const google::protobuf::Timestamp& time) {
    v1::HistoryEvent* e = events.Add();
    e->set_event_id(id);
    *e->mutable_event_time() = time;
    return e;
  };
  auto* started = add(first, task.started_time())->mutable_activity_task_started();
  started->set_scheduled_event_id(task.scheduled_event_id());
  started->set_identity(identity_);
  started->set_attempt(task.attempt());
  auto* completed = add(first + 1, now)->mutable_activity_task_completed();
  *completed->mutable_result() = result;
  completed->set_scheduled_event_id(task.scheduled_event_id());
  completed->set_started_event_id(first);
  completed->set_identity(identity_);
  auto* scheduled = add(first + 2, now)->mutable_workflow_task_scheduled();
  scheduled->set_task_queue(options_.task_queue);
  scheduled->set_attempt(1);
  auto* wt_started = add(first + 3, now)->mutable_workflow_task_started();
  wt_started->set_scheduled_event_id(first + 2);
  wt_started->set_identity(identity_);
  std::vector<v1::Command> commands;
  if (!driver->Advance(events, &commands).ok())
    return nullptr;  // dropped; a poller replays the run
  auto* w = req->mutable_workflow_task_on_result();
  w->set_first_event_id(first);
  *w->mutable_started_time() = now;
  if (!stopping_ && !t_eager_activity)
    w->set_eager_activity_command(EagerActivityCommand(commands));
  for (auto& c : commands) *w->add_commands() = std::move(c);
  w->set_return_new_events(true);
  return driver;
}

void Worker::FinishOnResult(const std::string& run_id, std::unique_ptr<internal::RunDriver> driver,
                            Result<v1::RespondActivityTaskCompletedResponse>& resp) {
  if (!resp.ok() || !resp->workflow_task_applied()) return;  // the run moved on without this driver
  ++workflow_tasks_;
  ++cache_hits_;
  ++workflow_tasks_on_result_;
  driver->unseen_events() = std::move(*resp->mutable_events());
  if (!driver->finished()) cache_->Put(run_id, std::move(driver));
  if (resp->has_activity_task()) {
    ++eager_activities_;
    t_eager_activity = std::move(*resp->mutable_activity_task());
    resp->clear_activity_task();
  }
}

int Worker::EagerActivityCommand(const std::vector<v1::Command>& commands) const {
  for (size_t i = 0; i < commands.size(); ++i) {
    if (!commands[i].has_schedule_activity_task()) continue;
    const auto& a = commands[i].schedule_activity_task();
    bool ours = a.task_queue().empty() || a.task_queue() == options_.task_queue;
    if (ours && registry_.FindActivity(a.activity_type())) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool Worker::RunInline(const v1::PollWorkflowTaskQueueResponse& task,
                       v1::RespondWorkflowTaskCompletedRequest* completion) {
  if (stopping_ || task.events_size() == 0) return false;
  const std::string& run_id = task.workflow_execution().run_id();
  // Only a run whose state is here (or a new run, whose task holds its whole history):
  // reading history would call the engine, which holds the run's lock.
  std::unique_ptr<internal::RunDriver> driver;
  t_inline_cached = task.events(0).event_id() != 1;
  if (!t_inline_cached) {
    WorkflowInfo info;
    info.namespace_name = options_.namespace_name;
    info.workflow_id = task.workflow_execution().workflow_id();
    info.run_id = run_id;
    info.workflow_type = task.workflow_type();
    if (!registry_.FindWorkflow(task.workflow_type())) return false;  // a poller reports it
    driver = std::make_unique<internal::RunDriver>(registry_, info);
  } else {
    driver = cache_->Take(run_id);
    if (!driver) return false;
    if (driver->broken() || driver->last_started_event_id() != task.previous_started_event_id() ||
        driver->last_event_id() != task.previous_started_event_id()) {
      cache_->Put(run_id, std::move(driver));
      return false;
    }
  }
  std::vector<v1::Command> commands;
  if (!driver->Advance(task.events(), &commands).ok()) {
    return false;  // dropped: a poller runs the task again from the history and reports it
  }
  if (t_eager_for == this && !t_eager_activity) {
    completion->set_eager_activity_command(EagerActivityCommand(commands));
  }
  for (auto& c : commands) *completion->add_commands() = std::move(c);
  completion->set_identity(identity_);
  t_inline_driver = std::move(driver);
  return true;
}

void Worker::InlineDone(const std::string& run_id, bool committed,
                        v1::PollActivityTaskQueueResponse* eager_activity) {
  auto driver = std::move(t_inline_driver);
  if (!committed || !driver) return;  // the run's state moved on without this driver
  ++workflow_tasks_;
  ++inline_workflow_tasks_;
  if (t_inline_cached) ++cache_hits_;
  if (!driver->finished()) cache_->Put(run_id, std::move(driver));
  if (eager_activity) {
    ++eager_activities_;
    t_eager_activity = std::move(*eager_activity);
  }
}

// ---- activities ----

void Worker::ActivityLoop() {
  v1::PollActivityTaskQueueRequest req;
  req.set_namespace_(options_.namespace_name);
  req.set_task_queue(options_.task_queue);
  req.set_identity(identity_);
  int failures = 0;
  while (true) {
    bool poll = false;
    std::optional<v1::PollActivityTaskQueueResponse> activity = activity_slots_->Next(&poll);
    if (poll) {
      auto task = frontend_.PollActivityTaskQueue(req);
      activity_slots_->PollDone();
      if (!task.ok()) {
        if (stopping_) continue;  // Next ends the loop once no hand-over is pending
        LogPollFailure("activity", task.status());
        Backoff(failures);
        continue;
      }
      failures = 0;
      if (task->task_token().empty()) continue;
      activity = std::move(*task);
    } else if (!activity) {
      break;  // stopping
    }
    // Eager dispatch: an activity's outcome may hand back the run's next workflow task,
    // and that task's completion the next activity, so one run's steps follow each
    // other on this thread with no poll in between.
    while (activity) {
      auto workflow_task = RunActivity(*activity);
      activity.reset();
      if (t_eager_activity) {  // from a workflow task run inline or on the result
        activity = std::move(t_eager_activity);
        t_eager_activity.reset();
      }
      // At most one activity waits for this thread: take another only when none does.
      if (workflow_task) {
        auto more = ProcessWorkflowTask(*workflow_task, /*run_activity=*/!activity);
        if (more) activity = std::move(more);
      }
    }
  }
}

std::optional<v1::PollWorkflowTaskQueueResponse> Worker::RunActivity(
    const v1::PollActivityTaskQueueResponse& task) {
  ++activities_;
  ActivityInfo info;
  info.namespace_name = task.workflow_namespace();
  info.workflow_id = task.workflow_execution().workflow_id();
  info.run_id = task.workflow_execution().run_id();
  info.workflow_type = task.workflow_type();
  info.activity_id = task.activity_id();
  info.activity_type = task.activity_type();
  info.task_queue = options_.task_queue;
  info.attempt = task.attempt();
  info.scheduled_time = FromProtoTime(task.scheduled_time());
  info.started_time = FromProtoTime(task.started_time());
  info.start_to_close_timeout = FromProtoDuration(task.start_to_close_timeout());
  info.heartbeat_timeout = FromProtoDuration(task.heartbeat_timeout());
  info.idempotency_key =
      info.namespace_name + "/" + info.workflow_id + "/" + info.run_id + "/" + info.activity_id;

  const std::string& token = task.task_token();
  auto heartbeat = [this, &token](const Payloads& details) {
    v1::RecordActivityTaskHeartbeatRequest req;
    req.set_task_token(token);
    if (!details.empty()) *req.mutable_details() = ToProto(details);
    req.set_identity(identity_);
    auto resp = frontend_.RecordActivityTaskHeartbeat(req);
    if (!resp.ok()) {
      // This attempt is no longer current (timed out, cancelled, run ended): stop it.
      return resp.status().code() == StatusCode::kNotFound;
    }
    return resp->cancel_requested();
  };
  ActivityContext ctx(info, FromProto(task.heartbeat_details()), heartbeat);
  // Known while its code runs, when the frontend tells of reconnections (against keeld:
  // ReportRunningActivities).
  std::shared_ptr<RunningActivity> running;
  if (reconnect_listener_ != 0) {
    running = std::make_shared<RunningActivity>();
    running->token = token;
    running->ctx = &ctx;
    std::lock_guard<std::mutex> g(running_mu_);
    running_.insert(running);
  }
  struct Unregister {
    Worker& worker;
    std::shared_ptr<RunningActivity>& running;
    ~Unregister() {
      if (!running) return;
      {
        std::lock_guard<std::mutex> g(running->mu);
        running->ctx = nullptr;
      }
      std::lock_guard<std::mutex> g(worker.running_mu_);
      worker.running_.erase(running);
    }
  } unregister{*this, running};
  // Its code returned: its outcome is reported by this thread; no longer "running".
  auto finished = [&running] {
    if (!running) return;
    std::lock_guard<std::mutex> g(running->mu);
    running->ctx = nullptr;
  };

  // Ask for the next workflow task only for a run this worker holds (else it would
  // replay the run from its first event, which any worker can do after a poll). Asked
  // when the outcome is reported: the run may have been cached while the activity ran.
  auto want_workflow_task = [&] {
    return !stopping_ && !registry_.WorkflowTypes().empty() && cache_->Contains(info.run_id);
  };
  std::optional<v1::PollWorkflowTaskQueueResponse> next;
  auto take_next = [&](auto resp) -> Status {
    if (resp.ok() && resp->has_workflow_task()) {
      ++eager_workflow_tasks_;
      next = std::move(*resp->mutable_workflow_task());
    }
    return resp.status();
  };
  Status outcome;
  const internal::ActivityFn* fn = registry_.FindActivity(task.activity_type());
  try {
    if (!fn) {
      std::string known;
      for (const auto& t : registry_.ActivityTypes()) known += (known.empty() ? "" : ", ") + t;
      throw ApplicationError(kActivityTypeNotRegistered, "activity type '" + task.activity_type() +
                                                              "' is not registered on worker " +
                                                              identity_ + " (registered: " + known +
                                                              ")");
    }
    Payloads result = (*fn)(ctx, FromProto(task.input()));
    finished();
    v1::RespondActivityTaskCompletedRequest req;
    req.set_task_token(token);
    *req.mutable_result() = ToProto(result);
    req.set_identity(identity_);
    req.set_request_workflow_task(want_workflow_task());
    // Embedded, the engine runs the next task inline; against keeld the worker runs it.
    auto driver = req.request_workflow_task() && !inline_engine_
                      ? RunOnResult(task, req.result(), &req)
                      : nullptr;
    EagerScope eager(this);
    auto resp = frontend_.RespondActivityTaskCompleted(req);
    if (driver) FinishOnResult(info.run_id, std::move(driver), resp);
    outcome = take_next(std::move(resp));
    if (outcome.code() == StatusCode::kInvalidArgument && req.has_workflow_task_on_result()) {
      // Perhaps the workflow task run on the result was refused, not the result: the
      // result alone (the run's state was dropped with the refusal).
      req.clear_workflow_task_on_result();
      req.set_request_workflow_task(want_workflow_task());
      outcome = take_next(frontend_.RespondActivityTaskCompleted(req));
    }
    if (outcome.code() == StatusCode::kInvalidArgument) {
      // The result itself was refused (too large, say): it would be again, so the attempt
      // fails now rather than running again when it times out.
      Log().warn("worker {}: activity {}'s result was refused ({}); the attempt fails as {}", identity_,
                 task.activity_type(), outcome.message(), kActivityResultRefused);
      ++activity_failures_;
      v1::RespondActivityTaskFailedRequest failed;
      failed.set_task_token(token);
      *failed.mutable_failure() = internal::ErrorToFailure(ApplicationError(
          kActivityResultRefused, "the activity's result was refused: " + outcome.message(), {.non_retryable = true}));
      failed.set_identity(identity_);
      failed.set_request_workflow_task(want_workflow_task());
      outcome = take_next(frontend_.RespondActivityTaskFailed(failed));
    }
  } catch (const CanceledError& e) {
    finished();
    if (ctx.IsCancelled()) {
      v1::RespondActivityTaskCanceledRequest req;
      req.set_task_token(token);
      *req.mutable_details() = ToProto(e.Details());
      req.set_identity(identity_);
      req.set_request_workflow_task(want_workflow_task());
      EagerScope eager(this);
      outcome = take_next(frontend_.RespondActivityTaskCanceled(req));
    } else {
      ++activity_failures_;
      v1::RespondActivityTaskFailedRequest req;
      req.set_task_token(token);
      *req.mutable_failure() = internal::ErrorToFailure(e);
      req.set_identity(identity_);
      req.set_request_workflow_task(want_workflow_task());
      EagerScope eager(this);
      outcome = take_next(frontend_.RespondActivityTaskFailed(req));
    }
  } catch (...) {
    finished();
    ++activity_failures_;
    v1::RespondActivityTaskFailedRequest req;
    req.set_task_token(token);
    *req.mutable_failure() = internal::ExceptionToFailure(std::current_exception());
    if (!ctx.LastDetails().empty())
      *req.mutable_last_heartbeat_details() = ToProto(ctx.LastDetails());
    req.set_identity(identity_);
    req.set_request_workflow_task(want_workflow_task());
    EagerScope eager(this);
    outcome = take_next(frontend_.RespondActivityTaskFailed(req));
  }
  if (outcome.code() == StatusCode::kNotFound) {
    // The attempt is no longer current (it timed out, was cancelled, or its run ended).
    Log().debug("worker {}: activity {} result not accepted: {}", identity_, task.activity_type(),
                outcome.ToString());
  } else if (!outcome.ok()) {
    Log().warn("worker {}: activity {} result not recorded: {}; the engine may run the activity again when its "
               "timeout expires",
               identity_, task.activity_type(), outcome.ToString());
  }
  return next;
}

}  // namespace keel
