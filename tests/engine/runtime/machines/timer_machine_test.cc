// Walks every edge of TimerMachine's transition table
// (engine/runtime/machines/timer_machine.h) through a RunDriver fed canned histories.
// The probe workflow starts a 1 h timer (id "1", recorded as event 5) and races it
// against signal "cancel" with WhenAny, so a "cancel" signal is what calls Cancel() on a
// started timer. It then reports who won and how the timer ended, once signal "end"
// arrives. Each row's history ends with a WorkflowTaskStarted: that task runs live and
// its commands are compared. Every row runs twice: all events at once (a fresh worker
// replaying) and batch by batch (a worker with the run cached).
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

std::string Outcome(const internal::FutureState<void>& s) {
  if (!s.ready()) return "pending";
  try {
    s.Get();
    return "fired";
  } catch (const CanceledError&) {
    return "canceled";
  } catch (const std::exception& e) {
    return std::string("threw something other than CanceledError: ") + e.what();
  }
}

// Input: cancel the timer right after starting it, before its command is sent.
Task<std::string> TimerProbe(WorkflowContext& ctx, bool cancel_at_once) {
  auto timer = ctx.Sleep(1h);
  if (cancel_at_once) timer.Cancel();
  std::string out;
  try {
    auto first = co_await WhenAny(timer, ctx.WaitSignal("cancel"));
    out = first.index() == 0 ? "timer won" : "cancel won";
  } catch (const CanceledError&) {
    out = "timer failed";
  }
  out += "; timer " + Outcome(*timer.state());
  co_await ctx.WaitSignal("end");
  co_return out;
}

// Canned histories of the probe. Event ids:
//   1 WorkflowExecutionStarted(cancel_at_once)
//   2-4 WorkflowTask (after Task())
//   5 TimerStarted 1 (after Started())
class Probe {
 public:
  explicit Probe(bool cancel_at_once = false) : b_("timer_probe") {
    b_.Started({ToPayload(cancel_at_once)});
  }
  Probe& Task() {
    b_.WorkflowTask();
    return *this;
  }
  Probe& Started() {
    b_.TimerStarted("1", 1h);
    return *this;
  }
  Probe& Fired() {
    b_.TimerFired("1");
    return *this;
  }
  Probe& Canceled() {
    b_.TimerCanceled("1");
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
  HistoryBuilder b_;
};

using Row = MachineRow;

const std::vector<Row>& Rows() {
  static const auto* rows = new std::vector<Row>{
      {"CreatedCancel",
       "Created | Cancel() -> Done: no StartTimer is sent; future <- CanceledError",
       [] { return Probe(/*cancel_at_once=*/true).Signal("end").Live(); },
       {Done("timer failed; timer canceled")}},
      {"CreatedStarted",
       "Created | TimerStarted (recorded) -> Started",
       [] { return Probe().Task().Started().Live(); },
       {}},
      {"StartedFired",
       "Created | TimerStarted; Started | TimerFired -> Done: future <- ok",
       [] { return Probe().Task().Started().Fired().Signal("end").Live(); },
       {Done("timer won; timer fired")}},
      {"StartedCancel",
       "Started | Cancel() -> CancelCommanded: command CancelTimer; future <- CanceledError",
       [] { return Probe().Task().Started().Signal("cancel").Signal("end").Live(); },
       {"CancelTimer 1", Done("cancel won; timer canceled")}},
      {"CancelCommandedCanceled",
       "Started | Cancel(); CancelCommanded | TimerCanceled (recorded) -> Done",
       [] {
         return Probe().Task().Started().Signal("cancel").Task().Canceled().Signal("end").Live();
       },
       {Done("cancel won; timer canceled")}},
      {"CancelCommandedFired",
       "Started | Cancel(); CancelCommanded | TimerFired -> Done: the unsent CancelTimer is "
       "withdrawn, the future stays canceled",
       [] { return Probe().Task().Started().Signal("cancel").Fired().Signal("end").Live(); },
       {Done("cancel won; timer canceled")}},
      {"CancelCommandedFiredThenReplayed",
       "CancelCommanded | TimerFired, then the next task records no TimerCanceled",
       [] { return Probe().Task().Started().Signal("cancel").Fired().Task().Signal("end").Live(); },
       {Done("cancel won; timer canceled")}},
      // ---- any other pair -> NonDeterminismError ----
      {"CreatedFired",
       "any other pair: Created | TimerFired (fired where TimerStarted belongs)",
       [] {
         History h = Probe().Task().Started().Live();
         h.mutable_proto().mutable_events(4)->mutable_timer_fired()->set_timer_id("1");
         return h;
       },
       {},
       StatusCode::kNondeterminism,
       5,
       "StartTimer(id '1')"},
      // A TimerFired for a timer that is neither running nor being cancelled: "fires timer
      // 1, which the code did not start". Same for the next row.
      {"DoneFired",
       "any other pair: Done | TimerFired (fired twice)",
       [] { return Probe().Task().Started().Fired().Task().Fired().Live(); },
       {},
       StatusCode::kNondeterminism,
       10,
       "fires timer 1"},
      {"DoneAfterCancelFired",
       "any other pair: Done (TimerCanceled recorded) | TimerFired",
       [] { return Probe().Task().Started().Signal("cancel").Task().Canceled().Fired().Live(); },
       {},
       StatusCode::kNondeterminism,
       11,
       "fires timer 1"},
      {"StartedCanceled",
       "any other pair: Started | TimerCanceled without a Cancel()",
       [] { return Probe().Task().Started().Task().Canceled().Live(); },
       {},
       StatusCode::kNondeterminism,
       9,
       "TimerCanceled(id '1')"},
  };
  return *rows;
}

class TimerMachineTableTest : public ::testing::TestWithParam<Row> {
 protected:
  TimerMachineTableTest() { registry_.RegisterWorkflow("timer_probe", TimerProbe); }
  Registry registry_;
};

TEST_P(TimerMachineTableTest, WalksEdge) {
  WalkRow(registry_, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Edges, TimerMachineTableTest, ::testing::ValuesIn(Rows()),
                         [](const ::testing::TestParamInfo<Row>& info) {
                           return std::string(info.param.name);
                         });

TEST(TimerMachineTableTest, EveryListedEdgeHasARow) {
  const std::vector<std::string> edges = {
      "Created | Cancel()", "Created | TimerStarted",          "Started | TimerFired",
      "Started | Cancel()", "CancelCommanded | TimerCanceled", "CancelCommanded | TimerFired",
      "any other pair",
  };
  ExpectEveryEdgeHasARow(Rows(), edges);
}

}  // namespace
}  // namespace keel::runtime_test
