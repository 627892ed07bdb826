// crash_child: the process crash_test kills. It runs an embedded engine and a worker on
// one SQLite file (real clock, durability FULL) with the workload of crash_workload.h.
// Every execution of activity "step" appends its idempotency key to the ledger file and
// then prints "step <key>"; the child prints "result <id>" for each workflow result it
// gets, and "done" once it has all of them, and exits 0. Starts use fixed ids and request
// ids, so each run continues the previous one.
//
//   crash_child --db PATH --ledger PATH [--stall-after N]
//
// --stall-after N: the (N+1)-th and later step executions of this process block (before
// their side effect) until the process is killed. The test kills the child after reading
// its N-th step line, so a child can never run further ahead than the test knows.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

#include "engine/client.h"
#include "engine/engine.h"
#include "engine/registry.h"
#include "engine/status.h"
#include "engine/worker.h"
#include "engine/workflow.h"
#include "tests/crash/crash_workload.h"

namespace keel::testing::crash {
namespace {

struct Args {
  std::string db_path;
  std::string ledger_path;
  int stall_after = 0;  // 0 = never stall
};

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "crash_child: %s\n", message.c_str());
  std::fflush(stderr);
  std::_Exit(1);  // without destructors: a worker thread may be stalled
}

// One write() per line, so concurrent lines never interleave (O_APPEND for the ledger,
// lines shorter than PIPE_BUF for stdout).
void WriteLine(int fd, const std::string& text) {
  std::string line = text + "\n";
  ssize_t n = write(fd, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    throw std::runtime_error("write of '" + text + "' failed");
  }
}

// Blocks the calling thread until the process is killed (by a signal, not by time).
[[noreturn]] void StallUntilKilled() {
  while (true) pause();
}

Task<int> Crashy(WorkflowContext& ctx, int value) {
  const ActivityOptions options{.start_to_close = std::chrono::minutes(1)};
  for (int i = 0; i < kStepsPerWorkflow; ++i) {
    value = co_await ctx.ExecuteActivity<int>(kActivityType, options, value);
  }
  co_return value;
}

// Activity "step": the side effect (the ledger line) first, then the progress line the
// test counts, so a step the test has read is always in the ledger.
int Step(ActivityContext& ctx, int value, int stall_after, int ledger_fd, std::atomic<int>& steps) {
  if (stall_after > 0 && steps.fetch_add(1) >= stall_after) StallUntilKilled();
  WriteLine(ledger_fd, ctx.IdempotencyKey());
  WriteLine(STDOUT_FILENO, kStepPrefix + ctx.IdempotencyKey());
  return value + 1;
}

Args ParseArgs(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--db" && i + 1 < argc) {
      args.db_path = argv[++i];
    } else if (a == "--ledger" && i + 1 < argc) {
      args.ledger_path = argv[++i];
    } else if (a == "--stall-after" && i + 1 < argc) {
      args.stall_after = std::atoi(argv[++i]);
    } else {
      Fail("unknown argument '" + a +
           "'; usage: crash_child --db PATH --ledger PATH [--stall-after N]");
    }
  }
  if (args.db_path.empty() || args.ledger_path.empty()) Fail("--db and --ledger are required");
  return args;
}

int Run(int argc, char** argv) {
  const Args args = ParseArgs(argc, argv);
  const int ledger_fd =
      open(args.ledger_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (ledger_fd < 0) Fail("cannot open the ledger " + args.ledger_path);

  EngineOptions engine_options;
  engine_options.db_path = args.db_path;
  auto engine = Engine::Open(engine_options);
  if (!engine.ok()) Fail("cannot open the engine: " + engine.status().ToString());

  std::atomic<int> steps{0};
  Registry registry;
  registry.RegisterWorkflow(kWorkflowType, Crashy);
  registry.RegisterActivity(kActivityType, [&](ActivityContext& ctx, int value) {
    return Step(ctx, value, args.stall_after, ledger_fd, steps);
  });
  Worker worker(**engine, registry);
  worker.Start();
  Client client(**engine);

  try {
    for (int i = 0; i < kWorkflowCount; ++i) {
      try {
        client.StartWorkflow(kWorkflowType,
                             {.id = WorkflowId(i),
                              .id_reuse_policy = IdReusePolicy::kRejectDuplicate,
                              .request_id = StartRequestId(i)},
                             Input(i));
      } catch (const ClientError& e) {
        // The id was used before (a restart after the run closed): the run is there.
        if (e.Code() != static_cast<int>(StatusCode::kAlreadyExists)) throw;
      }
    }
    for (int i = 0; i < kWorkflowCount; ++i) {
      int result = client.GetResult<int>(WorkflowId(i));
      if (result != ExpectedResult(i)) {
        Fail(WorkflowId(i) + " returned " + std::to_string(result) + ", expected " +
             std::to_string(ExpectedResult(i)));
      }
      WriteLine(STDOUT_FILENO, kResultPrefix + WorkflowId(i));
    }
    WriteLine(STDOUT_FILENO, kDoneLine);
  } catch (const std::exception& e) {
    Fail(e.what());
  }
  worker.Stop();
  close(ledger_fd);
  return 0;
}

}  // namespace
}  // namespace keel::testing::crash

int main(int argc, char** argv) { return keel::testing::crash::Run(argc, argv); }
