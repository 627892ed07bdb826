// The workflows and activities behind tests/golden/histories/. One source both records
// the histories (golden_replay_test with KEEL_UPDATE_GOLDEN=1) and replays them on every
// build, so a change here that alters the commands a recorded run produced fails the
// replay test, exactly as it would fail a running workflow after a deploy.
#pragma once

#include "engine/registry.h"

namespace keel::golden {

// Workflow types: "order" (activities, a timer, a signal racing a timer), "retry" (an
// activity retried after failures, then a non-retryable failure caught by the workflow),
// "side_effect_wait_until" (SideEffect, WaitUntil with and without a timeout, a signal
// handler), "cancellable" (an activity, then a long sleep cancelled by a client) and
// "family" (child workflows that complete, fail, cannot start and are cancelled, signals
// to other workflows, a patch marker, search attributes, then continue-as-new; with its
// helpers "golden_square", "golden_forever" and "golden_listener").
void RegisterGoldenWorkflows(Registry& registry);

// The side effect of "side_effect_wait_until" returns the number of times it has run
// in this process: 1 when recorded. Replay must not run it again.
int SideEffectCalls();
void SetSideEffectCalls(int n);

}  // namespace keel::golden
