// Walks every edge of SignalWaitMachine's transition table
// (engine/runtime/machines/signal_wait_machine.h) through a RunDriver fed canned
// histories. The probe workflow waits for signal "s" (a machine exists only when no "s"
// is buffered) racing signal "cancel" with WhenAny, reports how the wait ended, and then
// waits for the next "s" to show whether a signal was consumed or buffered. The table has
// no NonDeterminismError row (a signal wait issues no command); the rows below also check
// that a finished wait ignores Cancel() and that a cancelled wait does not swallow a
// later signal. Every row runs all at once and batch by batch.
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

std::string Outcome(const internal::FutureState<std::string>& s) {
  if (!s.ready()) return "pending";
  try {
    return "got " + s.Get();
  } catch (const CanceledError&) {
    return "canceled";
  } catch (const std::exception& e) {
    return std::string("threw something other than CanceledError: ") + e.what();
  }
}

// Input: cancel the wait right after creating it.
Task<std::string> SignalProbe(WorkflowContext& ctx, bool cancel_at_once) {
  auto wait = ctx.WaitSignal<std::string>("s");
  if (cancel_at_once) wait.Cancel();
  std::string out;
  try {
    auto first = co_await WhenAny(wait, ctx.WaitSignal("cancel"));
    out = first.index() == 0 ? "s won" : "cancel won";
  } catch (const CanceledError&) {
    out = "s failed";
  }
  wait.Cancel();  // Done | Cancel(): no effect on the outcome
  out += "; wait " + Outcome(*wait.state());
  auto next = co_await ctx.WaitSignal<std::string>("s");
  co_return out + "; next s " + next;
}

// Event ids: 1 WorkflowExecutionStarted, 2-4 WorkflowTask (after Task()).
class Probe {
 public:
  explicit Probe(bool cancel_at_once = false) : b_("signal_probe") {
    b_.Started({ToPayload(cancel_at_once)});
  }
  Probe& Task() {
    b_.WorkflowTask();
    return *this;
  }
  Probe& Signal(const std::string& name, const std::string& input = "") {
    b_.Signaled(name, input.empty() ? Payloads{} : Payloads{ToPayload(input)});
    return *this;
  }
  Probe& CancelRequested() {
    b_.CancelRequested();
    return *this;
  }
  History Live() {
    b_.WorkflowTaskScheduled().WorkflowTaskStarted();
    return b_.Build();
  }

 private:
  HistoryBuilder b_;
};

using Row = MachineRow;

const std::vector<Row>& Rows() {
  static const auto* rows = new std::vector<Row>{
      {"WaitingDelivered",
       "Waiting | signal delivered -> Done: future <- input (the second \"s\" is buffered)",
       [] { return Probe().Task().Signal("s", "a").Signal("s", "b").Live(); },
       {Done("s won; wait got a; next s b")}},
      {"WaitingDeliveredLater",
       "Waiting | signal delivered, in a later task than the wait",
       [] { return Probe().Task().Signal("s", "a").Task().Signal("s", "b").Live(); },
       {Done("s won; wait got a; next s b")}},
      {"WaitingCancelBySignal",
       "Waiting | Cancel() -> Done: future <- CanceledError; a later signal is buffered",
       [] { return Probe().Task().Signal("cancel").Signal("s", "late").Live(); },
       {Done("cancel won; wait canceled; next s late")}},
      {"WaitingCancelThenSignalNextTask",
       "Waiting | Cancel(); the next \"s\" (a later task) goes to the next wait",
       [] { return Probe().Task().Signal("cancel").Task().Signal("s", "late").Live(); },
       {Done("cancel won; wait canceled; next s late")}},
      {"WaitingCancelAtOnce",
       "Waiting | Cancel() in the task that created the wait: no signal consumed",
       [] { return Probe(/*cancel_at_once=*/true).Task().Signal("s", "after").Live(); },
       {Done("s failed; wait canceled; next s after")}},
      {"WaitingDeliveredThenCancelSignalBuffered",
       "Waiting | signal delivered; the loser \"cancel\" wait is cancelled (Waiting | Cancel())",
       [] { return Probe().Task().Signal("s", "a").Signal("cancel").Signal("s", "b").Live(); },
       {Done("s won; wait got a; next s b")}},
      {"WaitingCancelByWorkflowCancel",
       "Waiting | Cancel() through a workflow cancel request: the wait and the next one fail",
       [] { return Probe().Task().CancelRequested().Live(); },
       {"CancelWorkflowExecution"}},
  };
  return *rows;
}

class SignalWaitMachineTableTest : public ::testing::TestWithParam<Row> {
 protected:
  SignalWaitMachineTableTest() { registry_.RegisterWorkflow("signal_probe", SignalProbe); }
  Registry registry_;
};

TEST_P(SignalWaitMachineTableTest, WalksEdge) {
  WalkRow(registry_, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Edges, SignalWaitMachineTableTest, ::testing::ValuesIn(Rows()),
                         [](const ::testing::TestParamInfo<Row>& info) {
                           return std::string(info.param.name);
                         });

TEST(SignalWaitMachineTableTest, EveryListedEdgeHasARow) {
  ExpectEveryEdgeHasARow(Rows(), {"Waiting | signal delivered", "Waiting | Cancel()"});
}

// A signal that arrived before the workflow asked for it is buffered: WaitSignal takes it
// without creating a machine, and a wait created afterwards gets the next one.
TEST(SignalWaitMachineTest, BufferedSignalIsTakenWithoutWaiting) {
  Registry registry;
  registry.RegisterWorkflow("signal_probe", SignalProbe);
  HistoryBuilder b("signal_probe");
  b.Started({ToPayload(false)})
      .Signaled("s", {ToPayload(std::string("early"))})
      .Signaled("s", {ToPayload(std::string("second"))})
      .WorkflowTaskScheduled()
      .WorkflowTaskStarted();
  DriveResult got = DriveAll(registry, b.Build());
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_THAT(got.commands, ElementsAreArray({Done("s won; wait got early; next s second")}));
}

}  // namespace
}  // namespace keel::runtime_test
