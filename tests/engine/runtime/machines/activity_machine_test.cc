// Walks every edge of ActivityMachine's transition table
// (engine/runtime/machines/activity_machine.h) through a RunDriver fed canned histories.
// The probe workflow schedules activity "work" (id 1, recorded as event 5) and races it
// against signal "cancel" with WhenAny, so a "cancel" signal is what calls Cancel() on a
// scheduled or started activity. It then reports who won and how "work" ended, once
// signal "end" arrives. Each row's history ends with a WorkflowTaskStarted: that task runs
// live and its commands are compared. Every row runs twice: all events at once (a fresh
// worker replaying) and batch by batch (a worker with the run cached).
//
// Rows named Wait... run "activity_wait_probe", the same race with
// ActivityCancellation::kWaitCancellationCompleted: there Cancel() leaves the future
// pending until the activity's outcome, which the probe then awaits and reports after
// "then".
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "engine/future.h"
#include "engine/registry.h"
#include "engine/testing/history_builder.h"
#include "tests/engine/runtime/driver_harness.h"

namespace keel::runtime_test {
namespace {

using namespace std::chrono_literals;
using keel::testing::HistoryBuilder;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// How the activity's future ended, as the workflow sees it.
std::string Outcome(const internal::FutureState<std::string>& s) {
  if (!s.ready()) return "pending";
  try {
    return "ok " + s.Get();
  } catch (const ActivityFailure& f) {
    if (dynamic_cast<const CanceledError*>(f.Cause())) return "canceled";
    if (dynamic_cast<const TimeoutError*>(f.Cause())) return "timed out";
    if (auto* a = dynamic_cast<const ApplicationError*>(f.Cause())) {
      return "failed " + a->Type();
    }
    return "failed (no cause)";
  } catch (const std::exception& e) {
    return std::string("threw something other than ActivityFailure: ") + e.what();
  }
}

// Input: cancel the activity right after scheduling it, before its command is sent.
Task<std::string> ActivityProbe(WorkflowContext& ctx, bool cancel_at_once) {
  auto work = ctx.ExecuteActivity<std::string>("work", Opts());
  if (cancel_at_once) work.Cancel();
  std::string out;
  try {
    auto first = co_await WhenAny(work, ctx.WaitSignal("cancel"));
    out = first.index() == 0 ? "work won" : "cancel won";
  } catch (const ActivityFailure&) {
    out = "work failed";
  }
  out += "; work " + Outcome(*work.state());
  co_await ctx.WaitSignal("end");
  co_return out;
}

// The same in wait-for-cancellation mode; a future still pending after the race is
// awaited and its outcome reported after "then".
Task<std::string> ActivityWaitProbe(WorkflowContext& ctx, bool cancel_at_once) {
  ActivityOptions options = Opts();
  options.cancellation = ActivityCancellation::kWaitCancellationCompleted;
  auto work = ctx.ExecuteActivity<std::string>("work", options);
  if (cancel_at_once) work.Cancel();
  std::string out;
  try {
    auto first = co_await WhenAny(work, ctx.WaitSignal("cancel"));
    out = first.index() == 0 ? "work won" : "cancel won";
  } catch (const ActivityFailure&) {
    out = "work failed";
  }
  out += "; work " + Outcome(*work.state());
  if (!work.IsReady()) {
    try {
      co_await work;
    } catch (const ActivityFailure&) {
    }
    out += "; then " + Outcome(*work.state());
  }
  co_await ctx.WaitSignal("end");
  co_return out;
}

enum class Kind { kCompleted, kFailed, kTimedOut, kCanceled };
enum class Mode { kTryCancel, kWaitCancellationCompleted };

// Canned histories of the probe (or, with Mode::kWaitCancellationCompleted, of the wait
// probe), in the order the engine writes them. Event ids:
//   1 WorkflowExecutionStarted(cancel_at_once)
//   2-4 WorkflowTask (after Task())
//   5 ActivityTaskScheduled work#1 (after Scheduled())
class Probe {
 public:
  explicit Probe(bool cancel_at_once = false, Mode mode = Mode::kTryCancel)
      : b_(mode == Mode::kTryCancel ? "activity_probe" : "activity_wait_probe") {
    b_.Started({ToPayload(cancel_at_once)});
  }
  Probe& Task() {
    b_.WorkflowTask();
    return *this;
  }
  Probe& Scheduled() {
    b_.ActivityScheduled("work");
    return *this;
  }
  Probe& Started() {
    b_.ActivityStarted("1");
    return *this;
  }
  Probe& Outcome(Kind k) {
    switch (k) {
      case Kind::kCompleted:
        b_.ActivityCompleted("1", {ToPayload(std::string("v"))});
        break;
      case Kind::kFailed:
        b_.ActivityFailed("1", "Boom", "it broke");
        break;
      case Kind::kTimedOut:
        b_.ActivityFailed("1", "placeholder", "becomes a timeout");
        timeouts_.push_back(b_.last_event_id());
        break;
      case Kind::kCanceled:
        b_.ActivityCanceled("1");
        break;
    }
    return *this;
  }
  Probe& CancelRequested() {
    b_.ActivityCancelRequested("1");
    return *this;
  }
  Probe& Signal(const std::string& name) {
    b_.Signaled(name);
    return *this;
  }
  // Ends with a WorkflowTaskScheduled + WorkflowTaskStarted: the live task.
  History Live() {
    b_.WorkflowTaskScheduled().WorkflowTaskStarted();
    History h = b_.Build();
    for (int64_t id : timeouts_) MakeActivityTimedOut(h, id);
    return h;
  }

 private:
  HistoryBuilder b_;
  std::vector<int64_t> timeouts_;
};

using Row = MachineRow;

const std::vector<Row>& Rows() {
  static const auto* rows = new std::vector<Row>{
      // ---- Created ----
      {"CreatedCancel",
       "Created | Cancel() -> Done: no ScheduleActivityTask, future fails",
       [] { return Probe(/*cancel_at_once=*/true).Signal("end").Live(); },
       {Done("work failed; work canceled")}},
      {"CreatedScheduled",
       "Created | ActivityTaskScheduled (recorded) -> Scheduled",
       [] { return Probe().Task().Scheduled().Live(); },
       {}},
      // ---- Scheduled | outcome ----
      {"ScheduledCompleted",
       "Created | ActivityTaskScheduled; Scheduled | Completed -> Done: future <- result",
       [] { return Probe().Task().Scheduled().Outcome(Kind::kCompleted).Signal("end").Live(); },
       {Done("work won; work ok v")}},
      {"ScheduledFailed",
       "Scheduled | Failed -> Done: future <- ActivityFailure(ApplicationError)",
       [] { return Probe().Task().Scheduled().Outcome(Kind::kFailed).Signal("end").Live(); },
       {Done("work failed; work failed Boom")}},
      {"ScheduledTimedOut",
       "Scheduled | TimedOut -> Done: future <- ActivityFailure(TimeoutError)",
       [] { return Probe().Task().Scheduled().Outcome(Kind::kTimedOut).Signal("end").Live(); },
       {Done("work failed; work timed out")}},
      {"ScheduledCanceled",
       "Scheduled | Canceled -> Done: future <- ActivityFailure(CanceledError)",
       [] { return Probe().Task().Scheduled().Outcome(Kind::kCanceled).Signal("end").Live(); },
       {Done("work failed; work canceled")}},
      // ---- Scheduled | Started, Started | outcome ----
      {"ScheduledStarted",
       "Scheduled | ActivityTaskStarted -> Started (still pending)",
       [] { return Probe().Task().Scheduled().Started().Live(); },
       {}},
      {"StartedCompleted",
       "Scheduled | ActivityTaskStarted; Started | Completed -> Done",
       [] {
         return Probe().Task().Scheduled().Started().Outcome(Kind::kCompleted).Signal("end").Live();
       },
       {Done("work won; work ok v")}},
      {"StartedFailed",
       "Scheduled | ActivityTaskStarted; Started | Failed -> Done",
       [] {
         return Probe().Task().Scheduled().Started().Outcome(Kind::kFailed).Signal("end").Live();
       },
       {Done("work failed; work failed Boom")}},
      {"StartedTimedOut",
       "Scheduled | ActivityTaskStarted; Started | TimedOut -> Done",
       [] {
         return Probe().Task().Scheduled().Started().Outcome(Kind::kTimedOut).Signal("end").Live();
       },
       {Done("work failed; work timed out")}},
      {"StartedCanceled",
       "Scheduled | ActivityTaskStarted; Started | Canceled -> Done",
       [] {
         return Probe().Task().Scheduled().Started().Outcome(Kind::kCanceled).Signal("end").Live();
       },
       {Done("work failed; work canceled")}},
      // ---- Cancel() ----
      {"ScheduledCancel",
       "Scheduled | Cancel() -> CancelCommanded: RequestCancelActivityTask, future fails",
       [] { return Probe().Task().Scheduled().Signal("cancel").Signal("end").Live(); },
       {"RequestCancelActivityTask @5", Done("cancel won; work canceled")}},
      {"StartedCancel",
       "Scheduled | ActivityTaskStarted; Started | Cancel() -> CancelCommanded",
       [] { return Probe().Task().Scheduled().Started().Signal("cancel").Live(); },
       {"RequestCancelActivityTask @5"}},
      // ---- CancelCommanded ----
      {"CancelCommandedCancelRequested",
       "Scheduled | Cancel(); CancelCommanded | ActivityTaskCancelRequested (recorded) -> "
       "CancelRecorded",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Task()
             .CancelRequested()
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      {"CancelCommandedStarted",
       "Scheduled | Cancel(); CancelCommanded | ActivityTaskStarted -> CancelCommanded (the "
       "cancel command stays)",
       [] { return Probe().Task().Scheduled().Signal("cancel").Started().Live(); },
       {"RequestCancelActivityTask @5"}},
      {"CancelCommandedStartedThenRecorded",
       "CancelCommanded | ActivityTaskStarted; CancelCommanded | ActivityTaskCancelRequested",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Started()
             .Task()
             .CancelRequested()
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      {"CancelCommandedCompleted",
       "CancelCommanded | Completed -> Done: the unsent cancel is withdrawn, the result is not "
       "seen",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Outcome(Kind::kCompleted)
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      {"CancelCommandedFailed",
       "CancelCommanded | Failed -> Done: cancel withdrawn",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Outcome(Kind::kFailed)
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      {"CancelCommandedTimedOut",
       "CancelCommanded | TimedOut -> Done: cancel withdrawn",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Outcome(Kind::kTimedOut)
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      {"CancelCommandedCanceled",
       "CancelCommanded | Canceled -> Done: cancel withdrawn",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Outcome(Kind::kCanceled)
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      {"CancelCommandedStartedCompleted",
       "CancelCommanded | ActivityTaskStarted; CancelCommanded | Completed -> Done: withdrawn",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Started()
             .Outcome(Kind::kCompleted)
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      {"CancelCommandedCompletedThenReplayed",
       "CancelCommanded | Completed, then the next task records no ActivityTaskCancelRequested",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Outcome(Kind::kCompleted)
             .Task()
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      // ---- CancelRecorded ----
      {"CancelRecordedStarted",
       "CancelRecorded | ActivityTaskStarted -> CancelRecorded (ignored)",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Task()
             .CancelRequested()
             .Started()
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      {"CancelRecordedCompleted",
       "CancelRecorded | Completed -> Done (ignored: still canceled)",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Task()
             .CancelRequested()
             .Outcome(Kind::kCompleted)
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      {"CancelRecordedFailed",
       "CancelRecorded | Failed -> Done (ignored)",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Task()
             .CancelRequested()
             .Outcome(Kind::kFailed)
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      {"CancelRecordedTimedOut",
       "CancelRecorded | TimedOut -> Done (ignored)",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Task()
             .CancelRequested()
             .Outcome(Kind::kTimedOut)
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      {"CancelRecordedCanceled",
       "CancelRecorded | Canceled -> Done (ignored)",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Task()
             .CancelRequested()
             .Outcome(Kind::kCanceled)
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      {"CancelRecordedStartedCanceled",
       "CancelRecorded | ActivityTaskStarted; CancelRecorded | Canceled -> Done",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Task()
             .CancelRequested()
             .Started()
             .Outcome(Kind::kCanceled)
             .Signal("end")
             .Live();
       },
       {Done("cancel won; work canceled")}},
      // ---- any other pair -> NonDeterminismError ----
      {"StartedStarted",
       "any other pair: Started | ActivityTaskStarted (a second start)",
       [] { return Probe().Task().Scheduled().Started().Started().Live(); },
       {},
       StatusCode::kNondeterminism,
       7,
       "is a second start for activity 'work'"},
      {"DoneCompleted",
       "any other pair: Done | Completed (an outcome after the outcome)",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Outcome(Kind::kCompleted)
             .Task()
             .Outcome(Kind::kCompleted)
             .Live();
       },
       {},
       StatusCode::kNondeterminism,
       10,
       "ActivityTaskCompleted"},
      {"DoneAfterCancelCanceled",
       "any other pair: Done (cancel recorded, then canceled) | Canceled again",
       [] {
         return Probe()
             .Task()
             .Scheduled()
             .Signal("cancel")
             .Task()
             .CancelRequested()
             .Outcome(Kind::kCanceled)
             .Outcome(Kind::kCanceled)
             .Live();
       },
       {},
       StatusCode::kNondeterminism,
       12,
       "ActivityTaskCanceled"},
      {"ScheduledCancelRequested",
       "any other pair: Scheduled | ActivityTaskCancelRequested without a Cancel()",
       [] { return Probe().Task().Scheduled().Task().CancelRequested().Live(); },
       {},
       StatusCode::kNondeterminism,
       9,
       "did not produce that command"},
      {"CreatedCompleted",
       "any other pair: Created | Completed (an outcome where ActivityTaskScheduled belongs)",
       [] {
         History h = Probe().Task().Scheduled().Live();
         // Event 5 becomes an outcome for a schedule that was never recorded.
         auto* e = h.mutable_proto().mutable_events(4);
         e->mutable_activity_task_completed()->set_scheduled_event_id(5);
         return h;
       },
       {},
       StatusCode::kNondeterminism,
       5,
       "ScheduleActivityTask(type 'work', id '1')"},
      // ---- wait-for-cancellation mode (activity_wait_probe) ----
      {"WaitCreatedCancel",
       "wait mode: Created | Cancel() -> Done: no ScheduleActivityTask, the future fails at once",
       [] { return Probe(/*cancel_at_once=*/true, Mode::kWaitCancellationCompleted).Signal("end").Live(); },
       {Done("work failed; work canceled")}},
      {"WaitScheduledCompleted",
       "wait mode: Created | ActivityTaskScheduled; Scheduled | Completed -> Done: future <- result (no cancel, as in try-cancel mode)",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Outcome(Kind::kCompleted).Signal("end").Live(); },
       {Done("work won; work ok v")}},
      {"WaitScheduledCancel",
       "wait mode: Scheduled | Cancel() -> CancelCommanded: RequestCancelActivityTask; the future stays pending",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Signal("end").Live(); },
       {"RequestCancelActivityTask @5"}},
      {"WaitStartedCancel",
       "wait mode: Scheduled | ActivityTaskStarted; Started | Cancel() -> CancelCommanded: RequestCancelActivityTask; the future stays pending",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Started().Signal("cancel").Live(); },
       {"RequestCancelActivityTask @5"}},
      {"WaitCancelCommandedCancelRequested",
       "wait mode: Scheduled | Cancel(); CancelCommanded | ActivityTaskCancelRequested (recorded) -> CancelRecorded (still pending)",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Task().CancelRequested().Signal("end").Live(); },
       {}},
      {"WaitCancelCommandedStarted",
       "wait mode: Scheduled | Cancel(); CancelCommanded | ActivityTaskStarted -> CancelCommanded (the cancel command stays)",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Started().Live(); },
       {"RequestCancelActivityTask @5"}},
      {"WaitCancelCommandedCompleted",
       "wait mode: Scheduled | Cancel(); CancelCommanded | Completed -> Done: the unsent cancel is withdrawn, future <- the outcome",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Outcome(Kind::kCompleted).Signal("end").Live(); },
       {Done("cancel won; work ok v")}},
      {"WaitCancelCommandedFailed",
       "wait mode: Scheduled | Cancel(); CancelCommanded | Failed -> Done: the unsent cancel is withdrawn, future <- the outcome",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Outcome(Kind::kFailed).Signal("end").Live(); },
       {Done("cancel won; work failed Boom")}},
      {"WaitCancelCommandedTimedOut",
       "wait mode: Scheduled | Cancel(); CancelCommanded | TimedOut -> Done: the unsent cancel is withdrawn, future <- the outcome",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Outcome(Kind::kTimedOut).Signal("end").Live(); },
       {Done("cancel won; work timed out")}},
      {"WaitCancelCommandedCanceled",
       "wait mode: Scheduled | Cancel(); CancelCommanded | Canceled -> Done: the unsent cancel is withdrawn, future <- the outcome",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Outcome(Kind::kCanceled).Signal("end").Live(); },
       {Done("cancel won; work canceled")}},
      {"WaitCancelCommandedCompletedThenReplayed",
       "wait mode: CancelCommanded | Completed, then the next task records no ActivityTaskCancelRequested",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Outcome(Kind::kCompleted).Task().Signal("end").Live(); },
       {Done("cancel won; work ok v")}},
      {"WaitCancelRecordedStarted",
       "wait mode: CancelRecorded | ActivityTaskStarted -> CancelRecorded (still pending)",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Task().CancelRequested().Started().Signal("end").Live(); },
       {}},
      {"WaitCancelRecordedCompleted",
       "wait mode: CancelCommanded | ActivityTaskCancelRequested; CancelRecorded | Completed -> Done: future <- the outcome",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Task().CancelRequested().Outcome(Kind::kCompleted).Signal("end").Live(); },
       {Done("cancel won; work pending; then ok v")}},
      {"WaitCancelRecordedFailed",
       "wait mode: CancelCommanded | ActivityTaskCancelRequested; CancelRecorded | Failed -> Done: future <- the outcome",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Task().CancelRequested().Outcome(Kind::kFailed).Signal("end").Live(); },
       {Done("cancel won; work pending; then failed Boom")}},
      {"WaitCancelRecordedTimedOut",
       "wait mode: CancelCommanded | ActivityTaskCancelRequested; CancelRecorded | TimedOut -> Done: future <- the outcome",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Task().CancelRequested().Outcome(Kind::kTimedOut).Signal("end").Live(); },
       {Done("cancel won; work pending; then timed out")}},
      {"WaitCancelRecordedCanceled",
       "wait mode: CancelCommanded | ActivityTaskCancelRequested; CancelRecorded | Canceled -> Done: future <- the outcome",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Task().CancelRequested().Outcome(Kind::kCanceled).Signal("end").Live(); },
       {Done("cancel won; work pending; then canceled")}},
      {"WaitCancelRecordedStartedCompleted",
       "wait mode: CancelRecorded | ActivityTaskStarted; CancelRecorded | Completed -> Done: future <- the result",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Task().CancelRequested().Started().Task().Outcome(Kind::kCompleted).Signal("end").Live(); },
       {Done("cancel won; work pending; then ok v")}},
      {"WaitDoneAfterCancelCanceled",
       "wait mode: any other pair: Done (cancel recorded, then canceled) | Canceled again",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Task().CancelRequested().Outcome(Kind::kCanceled).Outcome(Kind::kCanceled).Live(); },
       {},
       StatusCode::kNondeterminism,
       12,
       "ActivityTaskCanceled"},
      {"WaitCancelRecordedCancelRequested",
       "wait mode: any other pair: CancelRecorded | ActivityTaskCancelRequested (a second cancel without a Cancel())",
       [] { return Probe(/*cancel_at_once=*/false, Mode::kWaitCancellationCompleted).Task().Scheduled().Signal("cancel").Task().CancelRequested().Task().CancelRequested().Live(); },
       {},
       StatusCode::kNondeterminism,
       14,
       "did not produce that command"},
  };
  return *rows;
}

class ActivityMachineTableTest : public ::testing::TestWithParam<Row> {
 protected:
  ActivityMachineTableTest() {
    registry_.RegisterWorkflow("activity_probe", ActivityProbe)
        .RegisterWorkflow("activity_wait_probe", ActivityWaitProbe);
  }
  Registry registry_;
};

TEST_P(ActivityMachineTableTest, WalksEdge) {
  WalkRow(registry_, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Edges, ActivityMachineTableTest, ::testing::ValuesIn(Rows()),
                         [](const ::testing::TestParamInfo<Row>& info) {
                           return std::string(info.param.name);
                         });

// The table as a checklist: every listed edge is walked by at least one row above.
TEST(ActivityMachineTableTest, EveryListedEdgeHasARow) {
  const std::vector<std::string> edges = {
      "Created | Cancel()",
      "Created | ActivityTaskScheduled",
      "Scheduled | ActivityTaskStarted",
      "Scheduled | Completed",
      "Scheduled | Failed",
      "Scheduled | TimedOut",
      "Scheduled | Canceled",
      "Started | Completed",
      "Started | Failed",
      "Started | TimedOut",
      "Started | Canceled",
      "Scheduled | Cancel()",
      "Started | Cancel()",
      "CancelCommanded | ActivityTaskCancelRequested",
      "CancelCommanded | ActivityTaskStarted",
      "CancelCommanded | Completed",
      "CancelCommanded | Failed",
      "CancelCommanded | TimedOut",
      "CancelCommanded | Canceled",
      "CancelRecorded | ActivityTaskStarted",
      "CancelRecorded | Completed",
      "CancelRecorded | Failed",
      "CancelRecorded | TimedOut",
      "CancelRecorded | Canceled",
      "any other pair",
  };
  ExpectEveryEdgeHasARow(Rows(), edges);
}

// The edges whose effect differs in wait-for-cancellation mode (and the ones around
// them) are walked by a wait-mode row too.
TEST(ActivityMachineTableTest, EveryWaitModeEdgeHasAWaitModeRow) {
  const std::vector<std::string> edges = {
      "Created | Cancel()",
      "Scheduled | Cancel()",
      "Started | Cancel()",
      "CancelCommanded | ActivityTaskCancelRequested",
      "CancelCommanded | ActivityTaskStarted",
      "CancelCommanded | Completed",
      "CancelCommanded | Failed",
      "CancelCommanded | TimedOut",
      "CancelCommanded | Canceled",
      "CancelRecorded | ActivityTaskStarted",
      "CancelRecorded | Completed",
      "CancelRecorded | Failed",
      "CancelRecorded | TimedOut",
      "CancelRecorded | Canceled",
      "any other pair",
  };
  ExpectEveryEdgeHasARow(Rows(), edges, "wait mode: ");
}

}  // namespace
}  // namespace keel::runtime_test
