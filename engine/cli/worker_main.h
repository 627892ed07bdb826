// WorkerMain: the command line every worker binary gets. A program that registers its
// workflows and activities calls `return keel::cli::WorkerMain(argc, argv, registry);`
// and can then be run as
//   PROGRAM worker --server HOST:PORT [--task-queue Q]   poll keeld and run tasks
//   PROGRAM replay HISTORY.json                          replay a recorded run against this build
//   PROGRAM run [--db PATH] [--listen HOST:PORT]          engine, gRPC server and worker in one process
// Exit codes: 0 ok, 1 failed (replay diverged, server unreachable...), 2 bad usage.
#pragma once

#include <string_view>

#include "engine/registry.h"

namespace keel::cli {

int WorkerMain(int argc, char** argv, const Registry& registry);

// True when argv[1] is one of WorkerMain's subcommands (for programs with their own).
bool IsWorkerMainCommand(std::string_view arg);

}  // namespace keel::cli
