#include "bench/options.h"

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
      "usage: keel-bench --workload W1|W2|W3|W5 [--mode embedded] [--n N]\n"
      "                  [--durability full|normal|off] [--group-commit on|off] [--dir DIR]\n"
      "\n"
      "Runs one fixed Keel workload (docs/benchmarks.md) on an embedded engine (engine,\n"
      "worker and client in this process, real clock) over a fresh database that is removed\n"
      "afterwards, and prints one JSON result line on stdout. Progress goes to stderr.\n"
      "\n"
      "  W1  throughput: N=1000 workflows of 3 sequential no-op activities, 64 in flight\n"
      "  W2  latency: 200 sequential runs of a 1-activity workflow, start -> result\n"
      "  W3  timers: N=200 workflows that each sleep 1 s durably\n"
      "  W5  replay: replay a 10,007-event history (2,500 activities) against the code\n"
      "\n"
      "  --workload ID           which workload (required)\n"
      "  --mode embedded         the only mode so far (server mode comes with keeld)\n"
      "  --n N                   size: W1 workflows, W2 runs, W3 workflows, W5 activities\n"
      "  --durability D          full (default, synchronous=FULL: the headline figure),\n"
      "                          normal or off (labelled, never quoted as the headline)\n"
      "  --group-commit on|off   commit concurrent transitions together (default on)\n"
      "  --dir DIR               put the temporary database under DIR (default: $TMPDIR)\n"
      "  --workflow-pollers K    worker threads running workflow tasks (default 64)\n"
      "  --activity-threads K    worker threads running activities (default 64)\n"
      "  --timer-threads K       engine threads firing due timers (default 64)\n"
      "  --reps R                W5: timed replays after the checked one (default 10)\n"
      "  --w5-source S           W5: builder (HistoryBuilder, default) or engine (record\n"
      "                          the history by running the workflow first)\n"
      "  -h, --help              this text\n"
      "\n"
      "Exit status: 0 measured, 1 the run failed (e.g. wrong results), 2 bad usage.\n");
}

std::optional<std::string> ParseArgs(int argc, char** argv, BenchOptions* o, bool* help) {
  *help = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      *help = true;
      return std::nullopt;
    }
    if (i + 1 >= argc) return "unknown argument or missing value: '" + a + "'";
    std::string v = argv[++i];
    if (a == "--workload") {
      o->workload = v;
    } else if (a == "--mode") {
      o->mode = v;
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
    } else if (a == "--w5-source") {
      if (v != "builder" && v != "engine") return "--w5-source is builder or engine";
      o->w5_source = v;
    } else {
      return "unknown argument '" + a + "'";
    }
  }
  if (o->workload.empty()) return "--workload is required";
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

nlohmann::ordered_json ResultHead(const BenchOptions& o, int n, double seconds) {
  nlohmann::ordered_json j;
  j["workload"] = o.workload;
  j["mode"] = o.mode;
  j["n"] = n;
  j["seconds"] = Round(seconds, 6);
  j["durability"] = DurabilityName(o.durability);
  j["group_commit"] = o.group_commit ? "on" : "off";
  return j;
}

}  // namespace keel::bench
