#include "tests/replay/golden_workflows.h"

#include <atomic>
#include <chrono>
#include <string>
#include <variant>

#include "engine/errors.h"
#include "engine/future.h"
#include "engine/workflow.h"

namespace keel::golden {

namespace {

using namespace std::chrono_literals;

std::atomic<int> side_effect_calls{0};

ActivityOptions Quick() {
  ActivityOptions o;
  o.start_to_close = 30s;
  return o;
}

// Quote, a cooling-off hour, then an approval signal racing a 24 h deadline, then ship.
Task<std::string> Order(WorkflowContext& ctx, std::string item) {
  int price = co_await ctx.ExecuteActivity<int>("quote", Quick(), item);
  co_await ctx.Sleep(1h);
  auto approval = ctx.WaitSignal<std::string>("approve");
  auto deadline = ctx.Sleep(24h);
  auto first = co_await WhenAny(approval, deadline);
  std::string decision = first.index() == 0 ? std::get<0>(first) : "timeout";
  std::string receipt = co_await ctx.ExecuteActivity<std::string>("ship", Quick(), item, decision);
  co_return receipt + " at " + std::to_string(price);
}

// A balance read that fails twice before it succeeds (retried with a 10 s, then 20 s
// backoff), then a check that fails for good and is caught.
Task<std::string> Retry(WorkflowContext& ctx, std::string account) {
  ActivityOptions o = Quick();
  o.retry.initial_interval = 10s;
  o.retry.backoff_coefficient = 2.0;
  o.retry.maximum_attempts = 5;
  int balance = co_await ctx.ExecuteActivity<int>("flaky_balance", o, account);
  std::string note = "check passed";
  try {
    co_await ctx.ExecuteActivity<void>("strict_check", o, account);
  } catch (const ActivityFailure& f) {
    note = "check failed (" + f.ErrorType() + ")";
  }
  co_return account + ": " + std::to_string(balance) + ", " + note;
}

// A recorded value picks the activity; then approvals arrive through a signal handler.
Task<std::string> SideEffectWaitUntil(WorkflowContext& ctx) {
  const int token = ctx.SideEffect([] { return ++side_effect_calls; });
  // Replay that ran the function again would get another value and schedule
  // "label_again" where the history recorded "label_first".
  std::string label = co_await ctx.ExecuteActivity<std::string>(
      token == 1 ? "label_first" : "label_again", Quick(), token);
  int approvals = 0;
  ctx.OnSignal<int>("approve", [&approvals](int n) { approvals += n; });
  const bool approved = co_await ctx.WaitUntil([&approvals] { return approvals >= 2; }, 1h);
  const bool escalated = co_await ctx.WaitUntil([&approvals] { return approvals >= 10; }, 30min);
  co_await ctx.WaitUntil([&approvals] { return approvals >= 3; });
  co_return label + (approved ? ", approved" : ", not approved") +
      (escalated ? ", escalated" : ", not escalated") + ", approvals " + std::to_string(approvals);
}

// Prepares, then sleeps a day; a client cancels it during the sleep.
Task<std::string> Cancellable(WorkflowContext& ctx) {
  co_await ctx.ExecuteActivity<void>("prepare", Quick());
  co_await ctx.Sleep(24h);
  co_return "finished";
}

}  // namespace

int SideEffectCalls() { return side_effect_calls.load(); }
void SetSideEffectCalls(int n) { side_effect_calls = n; }

// ---- engine part two: children, external signals, patches, search attributes,
// continue-as-new (options in named locals: see OrderShipExpress's note) ----

Task<int> GoldenSquare(WorkflowContext& ctx, int x) {
  if (x < 0) throw ApplicationError("NegativeInput", "no negative numbers");
  co_return x * x;
}

Task<void> GoldenForever(WorkflowContext& ctx) { co_await ctx.Sleep(24h * 365); }

Task<std::string> GoldenListener(WorkflowContext& ctx) { co_return co_await ctx.WaitSignal<std::string>("news"); }

// Generation 0 exercises every new event kind, then continues as new once.
Task<std::string> Family(WorkflowContext& ctx, int generation) {
  if (generation > 0) co_return "generation " + std::to_string(generation);
  ctx.UpsertSearchAttributes({{"stage", "children"}});
  std::string log = ctx.Patched("greeting-v2") ? "patched;" : "unpatched;";
  ChildWorkflowOptions square;
  square.id = "family-square";
  log += std::to_string(co_await ctx.ExecuteChildWorkflow<int>("golden_square", square, 6)) + ";";
  ChildWorkflowOptions negative;
  negative.id = "family-negative";
  ChildWorkflowOptions taken;
  taken.id = "family-taken";  // a client started this one already
  for (const ChildWorkflowOptions* o : {&negative, &taken}) {
    bool failed = false;
    try {
      co_await ctx.ExecuteChildWorkflow<int>("golden_square", *o, -1);
    } catch (const ChildWorkflowFailure&) {
      failed = true;
    }
    log += failed ? "child failed;" : "child ok;";
  }
  co_await ctx.SignalExternalWorkflow("family-listener", "", "news", std::string("hello"));
  bool unreachable = false;
  try {
    co_await ctx.SignalExternalWorkflow("family-nobody", "", "news", std::string("?"));
  } catch (const ApplicationError&) {
    unreachable = true;
  }
  log += unreachable ? "nobody home;" : "delivered;";
  ChildWorkflowOptions forever;
  forever.id = "family-forever";
  auto child = ctx.ExecuteChildWorkflow<void>("golden_forever", forever);
  auto timeout = ctx.Sleep(1h);
  co_await WhenAny(child, timeout);  // the timer wins: the child is asked to cancel
  try {
    co_await child;
  } catch (const ChildWorkflowFailure&) {
    log += "child canceled;";
  }
  ctx.Logger().info("family: {}", log);
  ctx.ContinueAsNew(generation + 1);
}

void RegisterGoldenWorkflows(Registry& r) {
  r.RegisterWorkflow("order", Order)
      .RegisterWorkflow("retry", Retry)
      .RegisterWorkflow("side_effect_wait_until", SideEffectWaitUntil)
      .RegisterWorkflow("cancellable", Cancellable)
      .RegisterWorkflow("family", Family)
      .RegisterWorkflow("golden_square", GoldenSquare)
      .RegisterWorkflow("golden_forever", GoldenForever)
      .RegisterWorkflow("golden_listener", GoldenListener);
  r.RegisterActivity("quote", [](std::string item) { return static_cast<int>(item.size()) * 100; })
      .RegisterActivity("ship",
                        [](std::string item, std::string decision) {
                          return "shipped " + item + " (" + decision + ")";
                        })
      .RegisterActivity("flaky_balance",
                        [](ActivityContext& ctx, std::string account) {
                          if (ctx.Attempt() < 3) {
                            throw ApplicationError("Unavailable", "balance service is down");
                          }
                          return 120;
                        })
      .RegisterActivity("strict_check",
                        [](std::string account) {
                          throw ApplicationError("AccountFrozen", account + " is frozen",
                                                 {.non_retryable = true});
                        })
      .RegisterActivity("label_first", [](int token) { return "label " + std::to_string(token); })
      .RegisterActivity("label_again", [](int token) { return "label " + std::to_string(token); })
      .RegisterActivity("prepare", [] {});
}

}  // namespace keel::golden
