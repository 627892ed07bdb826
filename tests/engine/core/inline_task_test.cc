// Inline workflow tasks (engine/inline_workflow_tasks.h) with a scripted runner in place
// of a Worker: which transitions run their workflow task inline, what the runner is
// shown, that the transition and the completion land together, and every case that
// falls back to a poll (the runner declines, continue-as-new, bad commands, removed).
#include <gtest/gtest.h>

#include <functional>

#include "tests/engine/core/engine_fixture.h"

namespace keel {
namespace {

using E = v1::HistoryEvent;

// Runs every task it is offered with the commands `script` returns (nullopt: declines).
class ScriptedRunner : public InlineWorkflowTasks {
 public:
  using Script = std::function<std::optional<std::vector<v1::Command>>(const v1::PollWorkflowTaskQueueResponse&)>;
  explicit ScriptedRunner(Script script) : script_(std::move(script)) {}

  bool Run(const v1::PollWorkflowTaskQueueResponse& task, v1::RespondWorkflowTaskCompletedRequest* completion) override {
    tasks.push_back(task);
    auto commands = script_(task);
    if (!commands) return false;
    for (auto& c : *commands) *completion->add_commands() = std::move(c);
    completion->set_identity("inline-runner");
    completion->set_eager_activity_command(eager);
    return true;
  }
  void Done(const std::string& run_id, bool committed, v1::PollActivityTaskQueueResponse* activity) override {
    done.push_back({run_id, committed});
    if (activity) eager_tasks.push_back(*activity);
  }

  int eager = 0;
  std::vector<v1::PollWorkflowTaskQueueResponse> tasks;
  std::vector<std::pair<std::string, bool>> done;
  std::vector<v1::PollActivityTaskQueueResponse> eager_tasks;

 private:
  Script script_;
};

class InlineTaskTest : public EngineTest {
 protected:
  void TearDown() override {
    if (runner_) engine_->RemoveInlineWorkflowTasks(runner_.get());
  }
  ScriptedRunner& Use(ScriptedRunner::Script script) {
    runner_ = std::make_unique<ScriptedRunner>(std::move(script));
    engine_->AddInlineWorkflowTasks("", "", runner_.get());
    return *runner_;
  }
  static std::vector<E::AttributesCase> Kinds(const std::vector<E>& events) {
    std::vector<E::AttributesCase> out;
    for (const auto& e : events) out.push_back(e.attributes_case());
    return out;
  }
  std::unique_ptr<ScriptedRunner> runner_;
};

TEST_F(InlineTaskTest, StartRunsTheFirstTaskInTheSameTransition) {
  auto& runner = Use([](const auto&) { return std::vector<v1::Command>{CompleteWorkflow()}; });
  auto r = Start("a");
  ASSERT_TRUE(r.ok());
  // The workflow is complete as soon as the start returns: one transition did both.
  EXPECT_EQ(Describe("a").info().status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  EXPECT_EQ(Kinds(Events("a")),
            (std::vector<E::AttributesCase>{E::kWorkflowExecutionStarted, E::kWorkflowTaskScheduled,
                                            E::kWorkflowTaskStarted, E::kWorkflowTaskCompleted,
                                            E::kWorkflowExecutionCompleted}));
  ASSERT_EQ(runner.tasks.size(), 1u);
  const auto& task = runner.tasks[0];
  EXPECT_EQ(task.workflow_execution().run_id(), r->run_id());
  EXPECT_EQ(task.previous_started_event_id(), 0);
  ASSERT_EQ(task.events_size(), 3);  // exactly what a poll would have handed out
  EXPECT_TRUE(task.events(2).has_workflow_task_started());
  EXPECT_EQ(task.started_event_id(), 3);
  ASSERT_EQ(runner.done.size(), 1u);
  EXPECT_EQ(runner.done[0], std::make_pair(r->run_id(), true));
  for (const auto& e : Events("a")) {
    if (e.has_workflow_task_completed()) {
      EXPECT_EQ(e.workflow_task_completed().identity(), "inline-runner");
    }
  }
}

TEST_F(InlineTaskTest, TheStartedTimeShownIsTheOneWritten) {
  // Workflow code reads the time of its task from WorkflowTaskStarted; replay must see
  // the same time in the history.
  auto& runner = Use([](const auto&) { return std::vector<v1::Command>{StartTimer("t", 1h)}; });
  clock_.Advance(5s);
  ASSERT_TRUE(Start("a").ok());
  ASSERT_EQ(runner.tasks.size(), 1u);
  const auto& shown = runner.tasks[0].events(2);
  for (const auto& e : Events("a")) {
    if (e.has_workflow_task_started()) {
      EXPECT_EQ(e.event_id(), shown.event_id());
      EXPECT_EQ(FromProtoTime(e.event_time()), FromProtoTime(shown.event_time()));
    }
  }
}

TEST_F(InlineTaskTest, ActivityOutcomeRunsTheNextTaskAndHandsOverTheEagerActivity) {
  auto& runner = Use([](const v1::PollWorkflowTaskQueueResponse& task) -> std::optional<std::vector<v1::Command>> {
    for (const auto& e : task.events()) {
      if (e.has_activity_task_completed()) return std::vector<v1::Command>{CompleteWorkflow()};
    }
    return std::vector<v1::Command>{ScheduleActivity("act-1", 10s)};
  });
  runner.eager = 1;
  ASSERT_TRUE(Start("a").ok());
  // The start's inline task scheduled the activity and took it (eager).
  ASSERT_EQ(runner.eager_tasks.size(), 1u);
  EXPECT_EQ(runner.eager_tasks[0].activity_id(), "act-1");
  runner.eager = 0;
  ASSERT_TRUE(CompleteActivity(runner.eager_tasks[0].task_token(), "2").ok());
  EXPECT_EQ(Describe("a").info().status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  EXPECT_EQ(runner.tasks.size(), 2u);
  auto events = Events("a");
  EXPECT_EQ(Count(events, E::kWorkflowTaskCompleted), 2);
  EXPECT_EQ(Count(events, E::kActivityTaskCompleted), 1);
}

TEST_F(InlineTaskTest, SignalRunsItsTaskInlineButATimerDoesNot) {
  auto& runner = Use([](const v1::PollWorkflowTaskQueueResponse& task) -> std::optional<std::vector<v1::Command>> {
    for (const auto& e : task.events()) {
      if (e.has_workflow_execution_signaled()) return std::vector<v1::Command>{StartTimer("t", 1s)};
    }
    return std::vector<v1::Command>{};
  });
  ASSERT_TRUE(Start("a").ok());
  ASSERT_TRUE(Signal("a", "go").ok());
  EXPECT_EQ(runner.tasks.size(), 2u);
  clock_.Advance(1s);
  // Timer threads never run workflow code (slow code would hold up other timers): the
  // fired timer's task waits for a poller.
  auto t = PollWorkflowTask();
  bool fired = false;
  for (const auto& e : t.events()) fired |= e.has_timer_fired();
  EXPECT_TRUE(fired);
  ASSERT_TRUE(Complete(t.task_token(), {CompleteWorkflow()}).ok());
  EXPECT_EQ(runner.tasks.size(), 2u);
  EXPECT_EQ(Describe("a").info().status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

TEST_F(InlineTaskTest, DeclinedTaskIsPolledAsUsual) {
  auto& runner = Use([](const auto&) { return std::nullopt; });
  ASSERT_TRUE(Start("a").ok());
  EXPECT_EQ(runner.tasks.size(), 1u);
  EXPECT_TRUE(runner.done.empty());  // Done only follows a Run that took the task
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Complete(t.task_token(), {CompleteWorkflow()}).ok());
  EXPECT_EQ(Describe("a").info().status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

TEST_F(InlineTaskTest, ContinueAsNewAndBadCommandsFallBackToAPoll) {
  v1::Command can;
  can.mutable_continue_as_new_workflow_execution()->set_workflow_type("wf");
  v1::Command bad = ScheduleActivity("", 10s);  // no activity id
  for (const auto& command : {can, bad}) {
    SCOPED_TRACE(command.DebugString());
    auto& runner = Use([command](const auto&) { return std::vector<v1::Command>{command}; });
    auto r = Start("a");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(runner.done.size(), 1u);
    EXPECT_FALSE(runner.done[0].second);  // not committed: the runner drops its state
    // Nothing of the attempt was written; a poller gets the task.
    EXPECT_EQ(Kinds(Events("a")),
              (std::vector<E::AttributesCase>{E::kWorkflowExecutionStarted, E::kWorkflowTaskScheduled}));
    engine_->RemoveInlineWorkflowTasks(runner_.get());
    runner_.reset();
    auto t = PollWorkflowTask();
    EXPECT_EQ(t.workflow_execution().run_id(), r->run_id());
    ASSERT_TRUE(Complete(t.task_token(), {CompleteWorkflow()}).ok());
  }
}

TEST_F(InlineTaskTest, ABadCommandAfterGoodOnesUndoesThemAll) {
  // The activity and the timer are applied before the third command fails (a duplicate
  // activity id): their events, state and rows must all go with it.
  auto& runner = Use([](const auto&) {
    return std::vector<v1::Command>{ScheduleActivity("a1", 10s), StartTimer("t1", 1h), ScheduleActivity("a1", 10s)};
  });
  ASSERT_TRUE(Start("a").ok());
  ASSERT_EQ(runner.done.size(), 1u);
  EXPECT_FALSE(runner.done[0].second);
  EXPECT_EQ(Kinds(Events("a")),
            (std::vector<E::AttributesCase>{E::kWorkflowExecutionStarted, E::kWorkflowTaskScheduled}));
  auto d = Describe("a");
  EXPECT_EQ(d.pending_activities_size(), 0);
  EXPECT_EQ(d.pending_timers_size(), 0);
  EXPECT_TRUE(d.has_pending_workflow_task());
  engine_->RemoveInlineWorkflowTasks(runner_.get());
  runner_.reset();
  // The task a poller gets is the untouched one; what it commits is all there is.
  auto t = PollWorkflowTask();
  ASSERT_EQ(t.events_size(), 3);  // started, scheduled, started
  ASSERT_TRUE(Complete(t.task_token(), {StartTimer("t2", 1h)}).ok());
  Reopen();
  d = Describe("a");
  EXPECT_EQ(d.pending_activities_size(), 0);
  ASSERT_EQ(d.pending_timers_size(), 1);
  EXPECT_EQ(d.pending_timers(0).timer_id(), "t2");
  EXPECT_EQ(Count(Events("a"), E::kActivityTaskScheduled), 0);
}

TEST_F(InlineTaskTest, OnlyTheRegisteredQueueRunsInline) {
  auto& runner = Use([](const auto&) { return std::vector<v1::Command>{CompleteWorkflow()}; });
  v1::StartWorkflowExecutionRequest r;
  r.set_workflow_id("elsewhere");
  r.set_workflow_type("wf");
  r.set_task_queue("other");
  ASSERT_TRUE(engine_->StartWorkflowExecution(r).ok());
  EXPECT_TRUE(runner.tasks.empty());
  EXPECT_EQ(Describe("elsewhere").info().status(), v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
}

TEST_F(InlineTaskTest, RemovedRunnerIsNotAskedAgain) {
  auto& runner = Use([](const auto&) { return std::vector<v1::Command>{CompleteWorkflow()}; });
  engine_->RemoveInlineWorkflowTasks(&runner);
  ASSERT_TRUE(Start("a").ok());
  EXPECT_TRUE(runner.tasks.empty());
  runner_.reset();
  FinishWorkflow();
}

}  // namespace
}  // namespace keel
