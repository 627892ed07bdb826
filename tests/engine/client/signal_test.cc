// Client::SignalWorkflow: a call retried with the same request id delivers its signal
// once; without one, each call is a signal of its own.
#include <gtest/gtest.h>

#include "engine/testing/test_environment.h"
#include "engine/workflow.h"

namespace keel {
namespace {

using testing::TestEnvironment;

// Adds up the "add" signals until a "done" signal.
Task<int> Sum(WorkflowContext& ctx) {
  int sum = 0;
  bool done = false;
  ctx.OnSignal<int>("add", [&](int n) { sum += n; });
  ctx.OnSignal("done", [&] { done = true; });
  co_await ctx.WaitUntil([&] { return done; });
  co_return sum;
}

TEST(SignalTest, ARetryWithTheSameRequestIdDeliversTheSignalOnce) {
  Registry r;
  r.RegisterWorkflow("sum", Sum);
  TestEnvironment env(r);
  env.client().StartWorkflow("sum", {.id = "s1"});
  env.client().SignalWorkflow("s1", "add", {.request_id = "add-1"}, 1);
  env.client().SignalWorkflow("s1", "add", {.request_id = "add-1"}, 1);  // the retry
  env.client().SignalWorkflow("s1", "add", 10);
  env.client().SignalWorkflow("s1", "add", 10);  // no request id: a second signal
  env.client().SignalWorkflow("s1", "done", {});
  EXPECT_EQ(env.client().GetResult<int>("s1"), 21);
}

}  // namespace
}  // namespace keel
