// crash_server_worker: a worker binary (keel::cli::WorkerMain) with the workload of
// server_workload.h, the worker process crash_server_test starts and SIGKILLs. Every
// execution of activity "record" appends its idempotency key to the ledger (O_APPEND,
// one write per line) and then prints "step <key>", so a step the test has read is
// always in the ledger.
//
//   crash_server_worker --ledger PATH worker --server HOST:PORT
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/cli/worker_main.h"
#include "engine/registry.h"
#include "engine/workflow.h"
#include "tests/crash_server/server_workload.h"

namespace keel::testing::crash_server {
namespace {

// Short enough that a killed worker's activities run again soon (the test kills workers
// often), with retries that back off briefly.
ActivityOptions RecordOptions(int k) {
  ActivityOptions o;
  o.start_to_close = std::chrono::seconds(2);
  o.retry.initial_interval = std::chrono::milliseconds(100);
  o.retry.maximum_interval = std::chrono::seconds(1);
  o.activity_id = ActivityId(k);
  return o;
}

Task<std::vector<std::string>> Signalled(WorkflowContext& ctx, int index) {
  std::vector<std::string> received;
  const std::string signal = kSignalName;
  for (int k = 0; k < kActivities; ++k) {
    const ActivityOptions options = RecordOptions(k);
    const int result = co_await ctx.ExecuteActivity<int>(kActivityType, options, index, k);
    if (result != ActivityResult(index, k)) {
      throw ApplicationError("WrongResult", "activity " + ActivityId(k) + " returned " + std::to_string(result));
    }
    if (k + 1 < kActivities) received.push_back(co_await ctx.WaitSignal<std::string>(signal));
  }
  co_return received;
}

// One write() per line, so concurrent lines never interleave.
void WriteLine(int fd, const std::string& text) {
  const std::string line = text + "\n";
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    throw std::runtime_error("write of '" + text + "' failed");
  }
}

int Main(int argc, char** argv) {
  if (argc < 3 || std::string(argv[1]) != "--ledger") {
    std::fprintf(stderr, "usage: crash_server_worker --ledger PATH worker --server HOST:PORT\n");
    return 2;
  }
  const int ledger_fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (ledger_fd < 0) {
    std::fprintf(stderr, "crash_server_worker: cannot open the ledger %s\n", argv[2]);
    return 1;
  }
  Registry registry;
  registry.RegisterWorkflow(kWorkflowType, Signalled);
  registry.RegisterActivity(kActivityType, [ledger_fd](ActivityContext& ctx, int index, int k) {
    WriteLine(ledger_fd, ctx.IdempotencyKey());
    WriteLine(STDOUT_FILENO, kStepPrefix + ctx.IdempotencyKey());
    return ActivityResult(index, k);
  });
  // WorkerMain sees "PROGRAM worker ...".
  std::vector<char*> args = {argv[0]};
  for (int i = 3; i < argc; ++i) args.push_back(argv[i]);
  return cli::WorkerMain(static_cast<int>(args.size()), args.data(), registry);
}

}  // namespace
}  // namespace keel::testing::crash_server

int main(int argc, char** argv) { return keel::testing::crash_server::Main(argc, argv); }
