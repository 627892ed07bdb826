// The hello workflow: three activities, a durable 1 s sleep, then up to 1 hour waiting
// for a `proceed` signal (continuing anyway at the timeout), and a greeting as result.
#pragma once

#include <string>

#include "engine/registry.h"

namespace hello {

// Registers workflow type "hello" and its activities. Activities append one line per
// execution ("<activity> <idempotency key>") to `ledger_path` when it is not empty, so
// a demo can show that no completed activity ran twice.
void Register(keel::Registry& registry, const std::string& ledger_path);

}  // namespace hello
