#include "bench/workflows.h"

#include <algorithm>
#include <vector>

#include "engine/future.h"
#include "engine/workflow.h"

namespace keel::bench {

namespace {

Task<int64_t> ThreeSteps(WorkflowContext& ctx, int64_t x) {
  for (int i = 0; i < 3; ++i)
    x = co_await ctx.ExecuteActivity<int64_t>(kIncrement, StepOptions(), x);
  co_return x;
}

Task<int64_t> OneStep(WorkflowContext& ctx, int64_t x) {
  co_return co_await ctx.ExecuteActivity<int64_t>(kIncrement, StepOptions(), x);
}

Task<int64_t> SleepOneSecond(WorkflowContext& ctx) {
  Time before = ctx.Now();
  co_await ctx.Sleep(std::chrono::seconds(1));
  Duration late = ctx.Now() - before - std::chrono::seconds(1);
  co_return std::chrono::duration_cast<std::chrono::microseconds>(late).count();
}

Task<int64_t> WaitSignal(WorkflowContext& ctx, int64_t x) {
  int64_t y = co_await ctx.WaitSignal<int64_t>(kGo);
  co_return x + y;
}

Task<int64_t> Batches(WorkflowContext& ctx, int64_t n) {
  int64_t sum = 0;
  for (int64_t first = 0; first < n; first += kBatchSize) {
    std::vector<Future<int64_t>> batch;
    for (int64_t x = first; x < std::min<int64_t>(first + kBatchSize, n); ++x) {
      batch.push_back(ctx.ExecuteActivity<int64_t>(kIncrement, StepOptions(), x));
    }
    for (int64_t r : co_await WhenAll(batch)) sum += r;
  }
  co_return sum;
}

}  // namespace

void RegisterBenchCode(Registry& registry) {
  registry.RegisterWorkflow(kThreeSteps, ThreeSteps);
  registry.RegisterWorkflow(kOneStep, OneStep);
  registry.RegisterWorkflow(kSleepOneSecond, SleepOneSecond);
  registry.RegisterWorkflow(kWaitSignal, WaitSignal);
  registry.RegisterWorkflow(kBatches, Batches);
  registry.RegisterActivity(kIncrement, [](int64_t x) { return x + 1; });
}

Registry BenchRegistry() {
  Registry registry;
  RegisterBenchCode(registry);
  return registry;
}

}  // namespace keel::bench
