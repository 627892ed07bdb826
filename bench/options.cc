#include "bench/options.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/stats.h"

namespace keel::bench {

namespace {

bool ParseInt(const std::string& s, int min, int* out) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < min || v > 100000000) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

void PrintUsage(std::FILE* out) {
  std::fprintf(
      out,
      "usage: keel-bench --workload W1|W2|W3|W4|W5 [--mode embedded|server] [--n N]\n"
      "                  [--server HOST:PORT] [--durability full|normal|off]\n"
      "                  [--group-commit on|off] [--dir DIR]\n"
      "\n"
      "Runs one fixed Keel workload (docs/benchmarks.md) over a fresh database that is\n"
      "removed afterwards, and prints one JSON result line on stdout. Progress goes to stderr.\n"
      "\n"
      "  W1  throughput: N=1000 workflows of 3 sequential no-op activities, 64 in flight\n"
      "  W2  latency: 200 sequential runs of a 1-activity workflow, start -> result\n"
      "  W3  timers: N=200 workflows that each sleep 1 s durably\n"
      "  W4  signal: 100 sequential runs of a workflow waiting for a signal the client sends\n"
      "      right after the start, start -> result\n"
      "  W5  replay: replay a 10,007-event history (2,500 activities) against the code\n"
      "      (in process; embedded mode only)\n"
      "\n"
      "Modes: embedded (engine, worker and client in this process, real clock) and server\n"
      "(keeld, one worker process and this process as the client, over gRPC on loopback).\n"
      "Server mode starts the keeld found next to keel-bench on 127.0.0.1:0 over a fresh\n"
      "database, unless --server names a running one; it always starts its own worker\n"
      "process (keel-bench itself, re-executed).\n"
      "\n"
      "  --workload ID           which workload (required)\n"
      "  --mode M                embedded (default) or server\n"
      "  --server HOST:PORT      server mode: use this running keeld (its --durability\n"
      "                          must match --durability; the runs stay in its database)\n"
      "  --n N                   size: W1 workflows, W2 runs, W3 workflows, W4 runs,\n"
      "                          W5 activities\n"
      "  --durability D          full (default, synchronous=FULL: the headline figure),\n"
      "                          normal or off (labelled, never quoted as the headline)\n"
      "  --group-commit on|off   commit concurrent transitions together (default on;\n"
      "                          embedded only: keeld always does)\n"
      "  --dir DIR               put the temporary database under DIR (default: $TMPDIR)\n"
      "  --workflow-pollers K    worker threads running workflow tasks (default 64)\n"
      "  --activity-threads K    worker threads running activities (default 64)\n"
      "  --timer-threads K       engine threads firing due timers (default 64; embedded\n"
      "                          only: keeld runs the engine's default)\n"
      "  --reps R                W5: timed replays after the checked one (default 10)\n"
      "  --w5-source S           W5: builder (HistoryBuilder, default) or engine (record\n"
      "                          the history by running the workflow first)\n"
      "  --client-call C         W1, W2: execute (start and wait in one call, default) or\n"
      "                          start-then-result (StartWorkflow, then GetResult)\n"
      "  --cpu-check on|off      measure each CPU's speed before and after the run and\n"
      "                          report it (cpu_speed_before/after; default on)\n"
      "  -h, --help              this text\n"
      "\n"
      "Exit status: 0 measured, 1 the run failed (e.g. wrong results, keeld did not start),\n"
      "2 bad usage.\n");
}

std::optional<std::string> ParseArgs(int argc, char** argv, BenchOptions* o, bool* help) {
  *help = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      *help = true;
      return std::nullopt;
    }
    if (a == "--worker") {
      o->worker = true;
      continue;
    }
    if (i + 1 >= argc) return "unknown argument or missing value: '" + a + "'";
    std::string v = argv[++i];
    if (a == "--workload") {
      o->workload = v;
    } else if (a == "--mode") {
      if (v != "embedded" && v != "server") return "--mode is embedded or server, not '" + v + "'";
      o->mode = v;
    } else if (a == "--server") {
      o->server = v;
    } else if (a == "--n") {
      if (!ParseInt(v, 1, &o->n)) return "--n needs a positive integer, not '" + v + "'";
    } else if (a == "--durability") {
      if (v == "full") {
        o->durability = Durability::kFull;
      } else if (v == "normal") {
        o->durability = Durability::kNormal;
      } else if (v == "off") {
        o->durability = Durability::kOff;
      } else {
        return "--durability is full, normal or off, not '" + v + "'";
      }
    } else if (a == "--group-commit") {
      if (v != "on" && v != "off") return "--group-commit is on or off, not '" + v + "'";
      o->group_commit = v == "on";
    } else if (a == "--dir") {
      o->dir = v;
    } else if (a == "--workflow-pollers") {
      if (!ParseInt(v, 1, &o->workflow_pollers)) return "--workflow-pollers needs K >= 1";
    } else if (a == "--activity-threads") {
      if (!ParseInt(v, 1, &o->activity_threads)) return "--activity-threads needs K >= 1";
    } else if (a == "--timer-threads") {
      if (!ParseInt(v, 1, &o->timer_threads)) return "--timer-threads needs K >= 1";
    } else if (a == "--reps") {
      if (!ParseInt(v, 1, &o->reps)) return "--reps needs R >= 1";
    } else if (a == "--client-call") {
      if (v != "execute" && v != "start-then-result") {
        return "--client-call is execute or start-then-result, not '" + v + "'";
      }
      o->client_call = v;
    } else if (a == "--cpu-check") {
      if (v != "on" && v != "off") return "--cpu-check is on or off, not '" + v + "'";
      o->cpu_check = v == "on";
    } else if (a == "--w5-source") {
      if (v != "builder" && v != "engine") return "--w5-source is builder or engine";
      o->w5_source = v;
    } else {
      return "unknown argument '" + a + "'";
    }
  }
  if (o->worker) {
    if (o->server.empty()) return "--worker needs --server HOST:PORT";
    return std::nullopt;
  }
  if (o->workload.empty()) return "--workload is required";
  if (o->mode == "embedded" && !o->server.empty()) return "--server needs --mode server";
  if (o->mode == "server") {
    if (o->workload == "W5") return "W5 replays in process: it has no server mode";
    // keel-bench starts keeld with its defaults (keeld --timer-threads exists; not passed yet).
    if (!o->group_commit) return "--group-commit off is embedded only (keeld always groups)";
    if (o->timer_threads > 0)
      return "--timer-threads is embedded only (keeld runs the engine's default)";
  }
  return std::nullopt;
}

std::string_view DurabilityName(Durability d) {
  switch (d) {
    case Durability::kFull:
      return "full";
    case Durability::kNormal:
      return "normal";
    case Durability::kOff:
      return "off";
  }
  return "unknown";
}

// The allocator this process runs with (the build links tcmalloc when it can; see
// keel_use_tcmalloc in CMakeLists.txt); keeld is built the same way.
const char* MallocName() { return dlsym(RTLD_DEFAULT, "tc_malloc") ? "tcmalloc" : "glibc"; }

nlohmann::ordered_json ResultHead(const BenchOptions& o, int n, double seconds) {
  nlohmann::ordered_json j;
  j["workload"] = o.workload;
  j["mode"] = o.mode;
  j["n"] = n;
  j["seconds"] = Round(seconds, 6);
  j["durability"] = DurabilityName(o.durability);
  j["group_commit"] = o.group_commit ? "on" : "off";
  j["malloc"] = MallocName();
  if (o.mode == "server") j["keeld"] = o.server.empty() ? "started" : "external";
  return j;
}

}  // namespace keel::bench
