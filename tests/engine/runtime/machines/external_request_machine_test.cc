// Walks every edge of ExternalRequestMachine's transition table
// (engine/runtime/machines/external_request_machine.h) through a RunDriver fed canned
// histories, for both kinds of request. The probe workflow either signals workflow
// "target" ("ping" with input "hi") or asks it to cancel (input "signal" or "cancel";
// the command is recorded as event 5) and races the request against signal "cancel"
// with WhenAny, so a "cancel" signal is what calls Cancel() on a sent request. It
// reports who won and how the request's future stood; when the future was still pending
// it awaits it and reports that too. Then it waits for signal "end". Each row's history
// ends with a WorkflowTaskStarted: that task runs live and its commands are compared.
// Every row runs twice: all events at once (a fresh worker replaying) and batch by batch
// (a worker with the run cached).
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

std::string Outcome(const internal::FutureState<void>& s) {
  if (!s.ready()) return "pending";
  try {
    s.Get();
    return "delivered";
  } catch (const ApplicationError& e) {
    return "failed " + e.Type() + (e.NonRetryable() ? " (non-retryable)" : "");
  } catch (const CanceledError&) {
    return "canceled";
  } catch (const std::exception& e) {
    return std::string("threw something unexpected: ") + e.what();
  }
}

// Input: "signal" or "cancel" (which request), and whether to cancel the request right
// after making it, before its command is sent.
Task<std::string> ExternalProbe(WorkflowContext& ctx, std::string kind, bool cancel_at_once) {
  auto request = kind == "signal"
                     ? ctx.SignalExternalWorkflow("target", "", "ping", std::string("hi"))
                     : ctx.RequestCancelExternalWorkflow("target");
  if (cancel_at_once) request.Cancel();
  std::string out;
  try {
    auto first = co_await WhenAny(request, ctx.WaitSignal("cancel"));
    out = first.index() == 0 ? "request won" : "cancel won";
  } catch (const Error&) {
    out = "request failed";
  }
  out += "; request " + Outcome(*request.state());
  if (!request.IsReady()) {
    try {
      co_await request;
    } catch (const Error&) {
    }
    out += "; then " + Outcome(*request.state());
  }
  co_await ctx.WaitSignal("end");
  co_return out;
}

enum class Req { kSignal, kCancel };

// Canned histories of the probe. Event ids:
//   1 WorkflowExecutionStarted(kind, cancel_at_once)
//   2-4 WorkflowTask (after Task())
//   5 SignalExternalWorkflowExecutionInitiated or
//     RequestCancelExternalWorkflowExecutionInitiated (after Initiated())
class Probe {
 public:
  explicit Probe(Req req, bool cancel_at_once = false) : req_(req), b_("external_probe") {
    b_.Started({ToPayload(std::string(req == Req::kSignal ? "signal" : "cancel")),
                ToPayload(cancel_at_once)});
  }
  Probe& Task() {
    b_.WorkflowTask();
    return *this;
  }
  Probe& Initiated() {
    if (req_ == Req::kSignal) {
      b_.SignalExternalInitiated("target", "ping", Str("hi"));
    } else {
      b_.RequestCancelExternalInitiated("target");
    }
    return *this;
  }
  // The engine's report: delivered, or the target could not be reached.
  Probe& Delivered() {
    if (req_ == Req::kSignal) {
      b_.ExternalSignaled("target");
    } else {
      b_.ExternalCancelRequested("target");
    }
    return *this;
  }
  Probe& NotDelivered() {
    if (req_ == Req::kSignal) {
      b_.SignalExternalFailed("target", "no workflow with id 'target'");
    } else {
      b_.RequestCancelExternalFailed("target", "no workflow with id 'target'");
    }
    return *this;
  }
  Probe& Signal(const std::string& name) {
    b_.Signaled(name);
    return *this;
  }
  History Live() {
    b_.WorkflowTaskScheduled().WorkflowTaskStarted();
    return b_.Build();
  }

 private:
  Req req_;
  HistoryBuilder b_;
};

const char kSignalCommand[] = "SignalExternalWorkflowExecution target:ping";
const char kCancelCommand[] = "RequestCancelExternalWorkflowExecution target";

using Row = MachineRow;

const std::vector<Row>& Rows() {
  static const auto* rows = new std::vector<Row>{
      // ---- Created ----
      {"SignalSendsItsCommand",
       "Created: the live task sends SignalExternalWorkflowExecution",
       [] { return Probe(Req::kSignal).Live(); },
       {kSignalCommand}},
      {"CancelSendsItsCommand",
       "Created: the live task sends RequestCancelExternalWorkflowExecution",
       [] { return Probe(Req::kCancel).Live(); },
       {kCancelCommand}},
      {"SignalCreatedCancel",
       "Created | Cancel() -> Done: no SignalExternalWorkflowExecution; future <- CanceledError",
       [] { return Probe(Req::kSignal, /*cancel_at_once=*/true).Signal("end").Live(); },
       {Done("request failed; request canceled")}},
      {"CancelCreatedCancel",
       "Created | Cancel() -> Done: no RequestCancelExternalWorkflowExecution; future <- "
       "CanceledError",
       [] { return Probe(Req::kCancel, /*cancel_at_once=*/true).Signal("end").Live(); },
       {Done("request failed; request canceled")}},
      {"SignalCreatedInitiated",
       "Created | SignalExternalWorkflowExecutionInitiated (recorded) -> Initiated (pending)",
       [] { return Probe(Req::kSignal).Task().Initiated().Live(); },
       {}},
      {"CancelCreatedInitiated",
       "Created | RequestCancelExternalWorkflowExecutionInitiated (recorded) -> Initiated "
       "(pending)",
       [] { return Probe(Req::kCancel).Task().Initiated().Live(); },
       {}},
      // ---- Initiated ----
      {"SignalInitiatedSignaled",
       "Initiated | ExternalWorkflowExecutionSignaled -> Done: future <- ok",
       [] { return Probe(Req::kSignal).Task().Initiated().Delivered().Signal("end").Live(); },
       {Done("request won; request delivered")}},
      {"SignalInitiatedSignaledLater",
       "Initiated | ExternalWorkflowExecutionSignaled, in a later task than the initiation",
       [] {
         return Probe(Req::kSignal).Task().Initiated().Task().Delivered().Signal("end").Live();
       },
       {Done("request won; request delivered")}},
      {"CancelInitiatedCancelRequested",
       "Initiated | ExternalWorkflowExecutionCancelRequested -> Done: future <- ok",
       [] { return Probe(Req::kCancel).Task().Initiated().Delivered().Signal("end").Live(); },
       {Done("request won; request delivered")}},
      {"SignalInitiatedFailed",
       "Initiated | SignalExternalWorkflowExecutionFailed -> Done: future <- "
       "ApplicationError(ExternalWorkflowNotFound)",
       [] { return Probe(Req::kSignal).Task().Initiated().NotDelivered().Signal("end").Live(); },
       {Done("request failed; request failed ExternalWorkflowNotFound (non-retryable)")}},
      {"CancelInitiatedFailed",
       "Initiated | RequestCancelExternalWorkflowExecutionFailed -> Done: future <- "
       "ApplicationError(ExternalWorkflowNotFound)",
       [] { return Probe(Req::kCancel).Task().Initiated().NotDelivered().Signal("end").Live(); },
       {Done("request failed; request failed ExternalWorkflowNotFound (non-retryable)")}},
      // Not in the table: a request already sent ignores Cancel() (ExternalRequestMachine::
      // Cancel, "it will be delivered"); its future keeps waiting for the engine's report.
      {"SignalInitiatedCancelIgnored",
       "Initiated | Cancel() (not listed): ignored, the future still gets the delivery",
       [] {
         return Probe(Req::kSignal)
             .Task()
             .Initiated()
             .Signal("cancel")
             .Task()
             .Delivered()
             .Signal("end")
             .Live();
       },
       {Done("cancel won; request pending; then delivered")}},
      {"CancelInitiatedCancelIgnored",
       "Initiated | Cancel() (not listed) on a cancel request: no command, the future still "
       "gets the failure",
       [] {
         return Probe(Req::kCancel)
             .Task()
             .Initiated()
             .Signal("cancel")
             .Task()
             .NotDelivered()
             .Signal("end")
             .Live();
       },
       {Done("cancel won; request pending; then failed ExternalWorkflowNotFound (non-retryable)")}},
      // ---- any other pair -> NonDeterminismError ----
      {"SignalDoneSignaled",
       "any other pair: Done | ExternalWorkflowExecutionSignaled (delivered twice)",
       [] { return Probe(Req::kSignal).Task().Initiated().Delivered().Delivered().Live(); },
       {},
       StatusCode::kNondeterminism,
       7,
       "(ExternalWorkflowExecutionSignaled) is for a request the code did not send"},
      {"CancelDoneFailed",
       "any other pair: Done | RequestCancelExternalWorkflowExecutionFailed (after the delivery)",
       [] { return Probe(Req::kCancel).Task().Initiated().Delivered().NotDelivered().Live(); },
       {},
       StatusCode::kNondeterminism,
       7,
       "(RequestCancelExternalWorkflowExecutionFailed) is for a request the code did not send"},
      {"SignalCreatedOtherTarget",
       "any other pair: Created | SignalExternalWorkflowExecutionInitiated to another workflow",
       [] {
         History h = Probe(Req::kSignal).Task().Initiated().Live();
         h.mutable_proto()
             .mutable_events(4)
             ->mutable_signal_external_workflow_execution_initiated()
             ->mutable_workflow_execution()
             ->set_workflow_id("elsewhere");
         return h;
       },
       {},
       StatusCode::kNondeterminism,
       5,
       "now produces SignalExternalWorkflowExecution(workflow 'target', signal 'ping')"},
      {"SignalCreatedOtherSignalName",
       "any other pair: Created | SignalExternalWorkflowExecutionInitiated of another signal",
       [] {
         History h = Probe(Req::kSignal).Task().Initiated().Live();
         h.mutable_proto()
             .mutable_events(4)
             ->mutable_signal_external_workflow_execution_initiated()
             ->set_signal_name("pong");
         return h;
       },
       {},
       StatusCode::kNondeterminism,
       5,
       "now produces SignalExternalWorkflowExecution(workflow 'target', signal 'ping')"},
      {"CancelCreatedSignalRecorded",
       "any other pair: Created (a cancel request) | SignalExternalWorkflowExecutionInitiated",
       [] {
         History h = Probe(Req::kCancel).Task().Initiated().Live();
         auto* a = h.mutable_proto()
                       .mutable_events(4)
                       ->mutable_signal_external_workflow_execution_initiated();
         a->mutable_workflow_execution()->set_workflow_id("target");
         a->set_signal_name("ping");
         return h;
       },
       {},
       StatusCode::kNondeterminism,
       5,
       "but the workflow code now produces RequestCancelExternalWorkflowExecution"},
      {"CancelCreatedOtherTarget",
       "any other pair: Created | RequestCancelExternalWorkflowExecutionInitiated for another "
       "workflow",
       [] {
         History h = Probe(Req::kCancel).Task().Initiated().Live();
         h.mutable_proto()
             .mutable_events(4)
             ->mutable_request_cancel_external_workflow_execution_initiated()
             ->mutable_workflow_execution()
             ->set_workflow_id("elsewhere");
         return h;
       },
       {},
       StatusCode::kNondeterminism,
       5,
       "but the workflow code now produces RequestCancelExternalWorkflowExecution"},
      {"SignalCreatedMissing",
       "any other pair: Created | a non-command event (the history has no initiated event)",
       [] { return Probe(Req::kSignal).Task().Signal("x").Live(); },
       {},
       StatusCode::kNondeterminism,
       5,
       "is not a command (WorkflowExecutionSignaled) but the workflow code now produces "
       "SignalExternalWorkflowExecution(workflow 'target', signal 'ping')"},
  };
  return *rows;
}

class ExternalRequestMachineTableTest : public ::testing::TestWithParam<Row> {
 protected:
  ExternalRequestMachineTableTest() {
    registry_.RegisterWorkflow("external_probe", ExternalProbe);
  }
  Registry registry_;
};

TEST_P(ExternalRequestMachineTableTest, WalksEdge) {
  WalkRow(registry_, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Edges, ExternalRequestMachineTableTest, ::testing::ValuesIn(Rows()),
                         [](const ::testing::TestParamInfo<Row>& info) {
                           return std::string(info.param.name);
                         });

// The table as a checklist: every listed edge, for both kinds of request, is walked by
// at least one row above.
TEST(ExternalRequestMachineTableTest, EveryListedEdgeHasARow) {
  const std::vector<std::string> edges = {
      "Created | Cancel() -> Done: no SignalExternalWorkflowExecution",
      "Created | Cancel() -> Done: no RequestCancelExternalWorkflowExecution",
      "Created | SignalExternalWorkflowExecutionInitiated",
      "Created | RequestCancelExternalWorkflowExecutionInitiated",
      "Initiated | ExternalWorkflowExecutionSignaled",
      "Initiated | ExternalWorkflowExecutionCancelRequested",
      "Initiated | SignalExternalWorkflowExecutionFailed",
      "Initiated | RequestCancelExternalWorkflowExecutionFailed",
      "any other pair",
  };
  ExpectEveryEdgeHasARow(Rows(), edges);
}

}  // namespace
}  // namespace keel::runtime_test
