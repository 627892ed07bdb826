// The workflow and activity code the benchmark workloads run (and W5 replays). Workflow
// code is the same as a user's: deterministic coroutines whose steps are activities.
#pragma once

#include <chrono>
#include <cstdint>

#include "engine/activity.h"
#include "engine/registry.h"

namespace keel::bench {

inline constexpr char kIncrement[] = "increment";        // activity: int64 x -> x + 1, no I/O
inline constexpr char kThreeSteps[] = "w1_three_steps";  // x -> x + 3 through 3 activities
inline constexpr char kOneStep[] = "w2_one_step";        // x -> x + 1 through 1 activity
// Sleeps 1 s durably; returns the wake-up lateness in microseconds, measured on the
// workflow's own clock: ctx.Now() after the sleep - ctx.Now() before it - 1 s.
inline constexpr char kSleepOneSecond[] = "w3_sleep_1s";
// Waits for signal kGo (an int64 y) and returns x + y; no activity, no timer.
inline constexpr char kWaitSignal[] = "w4_wait_signal";
inline constexpr char kGo[] = "go";
// Runs `n` increment activities (of 0..n-1) in batches of 3 awaited with WhenAll;
// returns the sum of their results, n(n+1)/2.
inline constexpr char kBatches[] = "w5_batches";

inline constexpr int kBatchSize = 3;

// The options of every benchmark activity (W5's recorded history states the same timeout).
inline ActivityOptions StepOptions() {
  return {.start_to_close = std::chrono::seconds(30), .retry = {.maximum_attempts = 3}};
}

// Registers all of the above.
void RegisterBenchCode(Registry& registry);
// A registry holding all of the above.
Registry BenchRegistry();

}  // namespace keel::bench
