// BenchOptions: the command line of keel-bench, and the fields every result line starts
// with (workload, mode, n, seconds, durability, ...). Values; thread-compatible.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/engine.h"

namespace keel::bench {

struct BenchOptions {
  std::string workload;           // "W1" to "W5"
  std::string mode = "embedded";  // or "server"
  // Server mode: a running keeld to use (HOST:PORT); empty = start one on a fresh database.
  // The worker process: the keeld to poll.
  std::string server;
  // The hidden subcommand: run as server mode's worker process (bench_env.h).
  bool worker = false;
  int n = 0;  // 0 = the workload's fixed size (W1 1000, W2 200, W3 200, W4 100, W5 2500)
  Durability durability = Durability::kFull;
  bool group_commit = true;
  // Parent directory of the fresh database (default: the system temp directory).
  std::string dir;
  // Worker tuning; 0 = the defaults chosen for this machine (see docs/benchmarks.md).
  int workflow_pollers = 0;
  int activity_threads = 0;
  int timer_threads = 0;              // EngineOptions::timer_threads; 0 = the tuned default
  int reps = 0;                       // W5 timed replays; 0 = 10
  std::string w5_source = "builder";  // W5: "builder" or "engine" (record it first)
  // W1, W2: how the client starts a workflow and waits for it: "execute" (one call,
  // Client::ExecuteWorkflow) or "start-then-result" (StartWorkflow, then GetResult).
  std::string client_call = "execute";
  // Measure each CPU's speed before and after the run (cpu_check.h).
  bool cpu_check = true;
};

// Fills `options` from argv and checks that they go together (e.g. the settings keeld
// has no flag for are refused in server mode). Returns an error message for a bad command
// line; sets `help` for -h/--help.
std::optional<std::string> ParseArgs(int argc, char** argv, BenchOptions* options, bool* help);

void PrintUsage(std::FILE* out);

std::string_view DurabilityName(Durability d);

// {"workload","mode","n","seconds","durability","group_commit"}: the head of a result line
// (server mode adds "keeld": "started" by keel-bench or "external" with --server).
nlohmann::ordered_json ResultHead(const BenchOptions& options, int n, double seconds);

}  // namespace keel::bench
