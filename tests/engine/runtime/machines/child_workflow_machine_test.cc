// Walks every edge of ChildWorkflowMachine's transition table
// (engine/runtime/machines/child_workflow_machine.h) through a RunDriver fed canned
// histories. The probe workflow starts child "kid_type" (id "kid", its
// StartChildWorkflowExecutionInitiated recorded as event 5) and races it against signal
// "cancel" with WhenAny, so a "cancel" signal is what calls Cancel() on an initiated or
// started child. It reports who won and how the child's future stood; when the future
// was still pending (Cancel() only asks the child to cancel), it awaits the child's
// outcome and reports it too. Then it waits for signal "end". Each row's history ends
// with a WorkflowTaskStarted: that task runs live and its commands are compared. Every
// row runs twice: all events at once (a fresh worker replaying) and batch by batch (a
// worker with the run cached).
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

using keel::testing::HistoryBuilder;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr char kRunId[] = "kid-run";

// How the child's future ended, as the workflow sees it. Failures name the child's run
// id after "@" (empty when the child never started).
std::string Outcome(const internal::FutureState<std::string>& s) {
  if (!s.ready()) return "pending";
  try {
    return "ok " + s.Get();
  } catch (const ChildWorkflowFailure& f) {
    if (f.WorkflowType() != "kid_type" || f.WorkflowId() != "kid") {
      return "ChildWorkflowFailure names " + f.WorkflowType() + " " + f.WorkflowId();
    }
    std::string run = f.RunId().empty() ? "" : " @" + f.RunId();
    if (dynamic_cast<const CanceledError*>(f.Cause())) return "canceled" + run;
    if (dynamic_cast<const TimeoutError*>(f.Cause())) return "timed out" + run;
    if (dynamic_cast<const TerminatedError*>(f.Cause())) return "terminated" + run;
    if (auto* a = dynamic_cast<const ApplicationError*>(f.Cause())) {
      return "failed " + a->Type() + run;
    }
    return "failed (no cause)";
  } catch (const std::exception& e) {
    return std::string("threw something other than ChildWorkflowFailure: ") + e.what();
  }
}

// Input: cancel the child right after starting it, before its command is sent.
Task<std::string> ChildProbe(WorkflowContext& ctx, bool cancel_at_once) {
  ChildWorkflowOptions options;
  options.id = "kid";
  auto kid = ctx.ExecuteChildWorkflow<std::string>("kid_type", options, std::string("in"));
  if (cancel_at_once) kid.Cancel();
  std::string out;
  try {
    auto first = co_await WhenAny(kid, ctx.WaitSignal("cancel"));
    out = first.index() == 0 ? "kid won" : "cancel won";
  } catch (const ChildWorkflowFailure&) {
    out = "kid failed";
  }
  out += "; kid " + Outcome(*kid.state());
  if (!kid.IsReady()) {
    try {
      co_await kid;
    } catch (const ChildWorkflowFailure&) {
    }
    out += "; then " + Outcome(*kid.state());
  }
  co_await ctx.WaitSignal("end");
  co_return out;
}

enum class Kind { kCompleted, kFailed, kCanceled, kTimedOut, kTerminated };

// Canned histories of the probe, in the order the engine writes them. Event ids:
//   1 WorkflowExecutionStarted(cancel_at_once)
//   2-4 WorkflowTask (after Task())
//   5 StartChildWorkflowExecutionInitiated kid_type#kid (after Initiated())
class Probe {
 public:
  explicit Probe(bool cancel_at_once = false) : b_("child_probe") {
    b_.Started({ToPayload(cancel_at_once)});
  }
  Probe& Task() {
    b_.WorkflowTask();
    return *this;
  }
  Probe& Initiated() {
    b_.ChildWorkflowInitiated("kid_type", "kid", Str("in"));
    return *this;
  }
  Probe& ChildStarted() {
    b_.ChildWorkflowStarted("kid", kRunId);
    return *this;
  }
  Probe& StartFailed() {
    b_.StartChildWorkflowFailed("kid");
    return *this;
  }
  Probe& Outcome(Kind k) {
    switch (k) {
      case Kind::kCompleted:
        b_.ChildWorkflowCompleted("kid", Str("v"));
        break;
      case Kind::kFailed:
        b_.ChildWorkflowFailed("kid", "Boom", "it broke");
        break;
      case Kind::kCanceled:
        b_.ChildWorkflowCanceled("kid");
        break;
      case Kind::kTimedOut:
        b_.ChildWorkflowTimedOut("kid");
        break;
      case Kind::kTerminated:
        b_.ChildWorkflowTerminated("kid");
        break;
    }
    return *this;
  }
  // The RequestCancelExternal that Cancel() sends, recorded; then its delivery.
  Probe& CancelRequestInitiated() {
    b_.RequestCancelExternalInitiated("kid", /*child_workflow_only=*/true);
    return *this;
  }
  Probe& CancelRequestDelivered() {
    b_.ExternalCancelRequested("kid");
    return *this;
  }
  Probe& CancelRequestFailed() {
    b_.RequestCancelExternalFailed("kid", "workflow already closed");
    return *this;
  }
  Probe& Signal(const std::string& name) {
    b_.Signaled(name);
    return *this;
  }
  Probe& WorkflowCancelRequested() {
    b_.CancelRequested();
    return *this;
  }
  // Ends with a WorkflowTaskScheduled + WorkflowTaskStarted: the live task.
  History Live() {
    b_.WorkflowTaskScheduled().WorkflowTaskStarted();
    return b_.Build();
  }

 private:
  HistoryBuilder b_;
};

// Event 5 of `h` as a StartChildWorkflowExecutionInitiated, to edit.
v1::StartChildWorkflowExecutionInitiatedEventAttributes* InitiatedOf(History& h) {
  return h.mutable_proto().mutable_events(4)->mutable_start_child_workflow_execution_initiated();
}

const char kCancelKid[] = "RequestCancelExternalWorkflowExecution kid (child)";

using Row = MachineRow;

const std::vector<Row>& Rows() {
  static const auto* rows = new std::vector<Row>{
      // ---- Created ----
      {"CreatedSendsItsCommand",
       "Created: the live task sends StartChildWorkflowExecution",
       [] { return Probe().Live(); },
       {"StartChildWorkflowExecution kid_type#kid"}},
      {"CreatedCancel",
       "Created | Cancel() -> Done: no StartChildWorkflowExecution is sent; future <- "
       "ChildWorkflowFailure(CanceledError)",
       [] { return Probe(/*cancel_at_once=*/true).Signal("end").Live(); },
       {Done("kid failed; kid canceled")}},
      {"CreatedInitiated",
       "Created | StartChildWorkflowExecutionInitiated (recorded) -> Initiated (pending)",
       [] { return Probe().Task().Initiated().Live(); },
       {}},
      // ---- Initiated ----
      {"InitiatedStarted",
       "Initiated | ChildWorkflowExecutionStarted -> Started (pending)",
       [] { return Probe().Task().Initiated().ChildStarted().Live(); },
       {}},
      {"InitiatedStartFailed",
       "Initiated | StartChildWorkflowExecutionFailed -> Done: future <- "
       "ChildWorkflowFailure(ApplicationError ChildWorkflowAlreadyExists)",
       [] { return Probe().Task().Initiated().StartFailed().Signal("end").Live(); },
       {Done("kid failed; kid failed ChildWorkflowAlreadyExists")}},
      {"InitiatedStartFailedLater",
       "Initiated | StartChildWorkflowExecutionFailed, in a later task than the initiation",
       [] { return Probe().Task().Initiated().Task().StartFailed().Signal("end").Live(); },
       {Done("kid failed; kid failed ChildWorkflowAlreadyExists")}},
      // ---- Started | outcome (the child's run id is remembered from its start) ----
      {"StartedCompleted",
       "Initiated | ChildWorkflowExecutionStarted; Started | ChildWorkflowExecutionCompleted -> "
       "Done: future <- result",
       [] {
         return Probe().Task().Initiated().ChildStarted().Outcome(Kind::kCompleted).Signal("end").Live();
       },
       {Done("kid won; kid ok v")}},
      {"StartedCompletedLater",
       "Started | ChildWorkflowExecutionCompleted, each event in its own task",
       [] {
         return Probe()
             .Task()
             .Initiated()
             .Task()
             .ChildStarted()
             .Task()
             .Outcome(Kind::kCompleted)
             .Signal("end")
             .Live();
       },
       {Done("kid won; kid ok v")}},
      {"StartedFailed",
       "Started | ChildWorkflowExecutionFailed -> Done: future <- "
       "ChildWorkflowFailure(ApplicationError)",
       [] { return Probe().Task().Initiated().ChildStarted().Outcome(Kind::kFailed).Signal("end").Live(); },
       {Done("kid failed; kid failed Boom @kid-run")}},
      {"StartedCanceled",
       "Started | ChildWorkflowExecutionCanceled -> Done: future <- "
       "ChildWorkflowFailure(CanceledError)",
       [] {
         return Probe().Task().Initiated().ChildStarted().Outcome(Kind::kCanceled).Signal("end").Live();
       },
       {Done("kid failed; kid canceled @kid-run")}},
      {"StartedTimedOut",
       "Started | ChildWorkflowExecutionTimedOut -> Done: future <- "
       "ChildWorkflowFailure(TimeoutError)",
       [] {
         return Probe().Task().Initiated().ChildStarted().Outcome(Kind::kTimedOut).Signal("end").Live();
       },
       {Done("kid failed; kid timed out @kid-run")}},
      {"StartedTerminated",
       "Started | ChildWorkflowExecutionTerminated -> Done: future <- "
       "ChildWorkflowFailure(TerminatedError)",
       [] {
         return Probe().Task().Initiated().ChildStarted().Outcome(Kind::kTerminated).Signal("end").Live();
       },
       {Done("kid failed; kid terminated @kid-run")}},
      // ---- Cancel() after the command was recorded ----
      {"InitiatedCancel",
       "Initiated | Cancel() -> Initiated: RequestCancelExternalWorkflowExecution (child only); "
       "the future waits",
       [] { return Probe().Task().Initiated().Signal("cancel").Live(); },
       {kCancelKid}},
      {"InitiatedCancelThenCanceled",
       "Initiated | Cancel(); Initiated | ChildWorkflowExecutionStarted; Started | "
       "ChildWorkflowExecutionCanceled -> Done: the waiting future <- CanceledError",
       [] {
         return Probe()
             .Task()
             .Initiated()
             .Signal("cancel")
             .Task()
             .CancelRequestInitiated()
             .ChildStarted()
             .CancelRequestDelivered()
             .Outcome(Kind::kCanceled)
             .Signal("end")
             .Live();
       },
       {Done("cancel won; kid pending; then canceled @kid-run")}},
      {"InitiatedCancelThenStartFailed",
       "Initiated | Cancel(); Initiated | StartChildWorkflowExecutionFailed -> Done",
       [] {
         return Probe()
             .Task()
             .Initiated()
             .Signal("cancel")
             .Task()
             .CancelRequestInitiated()
             .StartFailed()
             .Signal("end")
             .Live();
       },
       {Done("cancel won; kid pending; then failed ChildWorkflowAlreadyExists")}},
      {"StartedCancel",
       "Initiated | ChildWorkflowExecutionStarted; Started | Cancel() -> Started: "
       "RequestCancelExternalWorkflowExecution (child only); the future waits",
       [] { return Probe().Task().Initiated().ChildStarted().Signal("cancel").Live(); },
       {kCancelKid}},
      {"StartedCancelThenCanceled",
       "Started | Cancel(); the request is recorded and delivered; Started | "
       "ChildWorkflowExecutionCanceled -> Done",
       [] {
         return Probe()
             .Task()
             .Initiated()
             .ChildStarted()
             .Signal("cancel")
             .Task()
             .CancelRequestInitiated()
             .CancelRequestDelivered()
             .Outcome(Kind::kCanceled)
             .Signal("end")
             .Live();
       },
       {Done("cancel won; kid pending; then canceled @kid-run")}},
      {"StartedCancelThenCompleted",
       "Started | Cancel(); Started | ChildWorkflowExecutionCompleted -> Done: the child "
       "finished anyway, future <- its result",
       [] {
         return Probe()
             .Task()
             .Initiated()
             .ChildStarted()
             .Signal("cancel")
             .Task()
             .CancelRequestInitiated()
             .Outcome(Kind::kCompleted)
             .CancelRequestFailed()
             .Signal("end")
             .Live();
       },
       {Done("cancel won; kid pending; then ok v")}},
      // Unlike an activity's or a timer's cancel, the request is not withdrawn when the
      // outcome arrives in the same batch: the engine answers it with a
      // RequestCancelExternalWorkflowExecutionFailed that nothing waits for.
      {"StartedCancelSameBatchAsCompleted",
       "Started | Cancel() and Started | ChildWorkflowExecutionCompleted in one batch: the "
       "request is still sent, the future gets the result",
       [] {
         return Probe()
             .Task()
             .Initiated()
             .ChildStarted()
             .Signal("cancel")
             .Outcome(Kind::kCompleted)
             .Signal("end")
             .Live();
       },
       {kCancelKid, Done("cancel won; kid ok v")}},
      {"StartedCancelTwice",
       "Started | Cancel() (WhenAny's loser), then a workflow cancel request in the same batch: "
       "one request",
       [] {
         return Probe()
             .Task()
             .Initiated()
             .ChildStarted()
             .Signal("cancel")
             .WorkflowCancelRequested()
             .Live();
       },
       {kCancelKid}},
      {"StartedCancelTwiceAcrossTasks",
       "Started | Cancel(); the request is recorded; Started | Cancel() again (workflow "
       "cancel request): no second request",
       [] {
         return Probe()
             .Task()
             .Initiated()
             .ChildStarted()
             .Signal("cancel")
             .Task()
             .CancelRequestInitiated()
             .WorkflowCancelRequested()
             .Live();
       },
       {}},
      // ---- any other pair -> NonDeterminismError ----
      {"StartedStarted",
       "any other pair: Started | ChildWorkflowExecutionStarted (a second start)",
       [] { return Probe().Task().Initiated().ChildStarted().ChildStarted().Live(); },
       {},
       StatusCode::kNondeterminism,
       7,
       "is a second start for child workflow 'kid_type' (id kid)"},
      {"InitiatedCompleted",
       "any other pair: Initiated | ChildWorkflowExecutionCompleted (an outcome before the start)",
       [] { return Probe().Task().Initiated().Outcome(Kind::kCompleted).Live(); },
       {},
       StatusCode::kNondeterminism,
       6,
       "arrived for a child that is not running"},
      {"InitiatedTerminated",
       "any other pair: Initiated | ChildWorkflowExecutionTerminated",
       [] { return Probe().Task().Initiated().Outcome(Kind::kTerminated).Live(); },
       {},
       StatusCode::kNondeterminism,
       6,
       "(ChildWorkflowExecutionTerminated) arrived for a child that is not running"},
      {"StartedStartFailed",
       "any other pair: Started | StartChildWorkflowExecutionFailed",
       [] { return Probe().Task().Initiated().ChildStarted().StartFailed().Live(); },
       {},
       StatusCode::kNondeterminism,
       7,
       "arrived after the child started"},
      {"DoneCompleted",
       "any other pair: Done | ChildWorkflowExecutionCompleted (a second outcome)",
       [] {
         return Probe()
             .Task()
             .Initiated()
             .ChildStarted()
             .Outcome(Kind::kCompleted)
             .Outcome(Kind::kCompleted)
             .Live();
       },
       {},
       StatusCode::kNondeterminism,
       8,
       "(ChildWorkflowExecutionCompleted) is for a child workflow the code did not start"},
      {"DoneAfterStartFailedStarted",
       "any other pair: Done (its start failed) | ChildWorkflowExecutionStarted",
       [] { return Probe().Task().Initiated().StartFailed().ChildStarted().Live(); },
       {},
       StatusCode::kNondeterminism,
       7,
       "(ChildWorkflowExecutionStarted) is for a child workflow the code did not start"},
      {"CreatedTimerStarted",
       "any other pair: Created | TimerStarted (where StartChildWorkflowExecutionInitiated "
       "belongs)",
       [] {
         History h = Probe().Task().Initiated().Live();
         h.mutable_proto().mutable_events(4)->mutable_timer_started()->set_timer_id("1");
         return h;
       },
       {},
       StatusCode::kNondeterminism,
       5,
       "now produces StartChildWorkflowExecution(type 'kid_type', id 'kid')"},
      {"CreatedOtherChildId",
       "any other pair: Created | StartChildWorkflowExecutionInitiated of another child id",
       [] {
         History h = Probe().Task().Initiated().Live();
         InitiatedOf(h)->set_workflow_id("other-kid");
         return h;
       },
       {},
       StatusCode::kNondeterminism,
       5,
       "StartChildWorkflowExecutionInitiated(type 'kid_type', id 'other-kid') but the workflow "
       "code now produces StartChildWorkflowExecution(type 'kid_type', id 'kid')"},
      // The workflow type is part of a child's identity, not only its id.
      {"CreatedOtherChildType",
       "any other pair: Created | StartChildWorkflowExecutionInitiated of another workflow "
       "type (same id)",
       [] {
         History h = Probe().Task().Initiated().Live();
         InitiatedOf(h)->set_workflow_type("old_kid_type");
         return h;
       },
       {},
       StatusCode::kNondeterminism,
       5,
       "StartChildWorkflowExecutionInitiated(type 'old_kid_type', id 'kid')"},
      {"CreatedMissing",
       "any other pair: Created | a non-command event (the history has no "
       "StartChildWorkflowExecutionInitiated)",
       [] { return Probe().Task().Signal("x").Live(); },
       {},
       StatusCode::kNondeterminism,
       5,
       "now produces StartChildWorkflowExecution(type 'kid_type', id 'kid')"},
  };
  return *rows;
}

class ChildWorkflowMachineTableTest : public ::testing::TestWithParam<Row> {
 protected:
  ChildWorkflowMachineTableTest() { registry_.RegisterWorkflow("child_probe", ChildProbe); }
  Registry registry_;
};

TEST_P(ChildWorkflowMachineTableTest, WalksEdge) {
  WalkRow(registry_, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Edges, ChildWorkflowMachineTableTest, ::testing::ValuesIn(Rows()),
                         [](const ::testing::TestParamInfo<Row>& info) {
                           return std::string(info.param.name);
                         });

// The table as a checklist: every listed edge is walked by at least one row above.
TEST(ChildWorkflowMachineTableTest, EveryListedEdgeHasARow) {
  const std::vector<std::string> edges = {
      "Created | Cancel()",
      "Created | StartChildWorkflowExecutionInitiated",
      "Initiated | ChildWorkflowExecutionStarted",
      "Initiated | StartChildWorkflowExecutionFailed",
      "Started | ChildWorkflowExecutionCompleted",
      "Started | ChildWorkflowExecutionFailed",
      "Started | ChildWorkflowExecutionCanceled",
      "Started | ChildWorkflowExecutionTimedOut",
      "Started | ChildWorkflowExecutionTerminated",
      "Initiated | Cancel()",
      "Started | Cancel()",
      "any other pair",
  };
  ExpectEveryEdgeHasARow(Rows(), edges);
}

}  // namespace
}  // namespace keel::runtime_test
