// hello: the smallest Keel program. Without arguments it runs workflow "hello" on an
// embedded engine over a temporary database, sends the `proceed` signal itself, and
// prints the result and the history as a timeline. `hello demo --db PATH` does the same
// on a database that survives, so it can be killed and run again to resume. And like
// every worker binary it has `worker`, `replay` and `run` (keel::cli::WorkerMain).
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include "engine/cli/worker_main.h"
#include "engine/client.h"
#include "engine/engine.h"
#include "engine/registry.h"
#include "engine/worker.h"
#include "examples/hello/workflows.h"

namespace {

constexpr char kWorkflowId[] = "hello-demo";

// demo: prints a line once the workflow's durable sleep is committed (its TimerStarted is
// in the history), for scripts/demo to kill the process after. The workflow's own log
// lines cannot tell: its code runs before the step it decides is committed, so a kill
// right after "step 3/3 done" may come before the last activity's result is durable (and
// the activity then runs again after the restart, as it must). Ends with the run.
void AnnounceDurableSleep(keel::Engine& engine) {
  keel::v1::GetWorkflowExecutionHistoryRequest request;
  request.mutable_workflow_execution()->set_workflow_id(kWorkflowId);
  request.set_wait_new_event(true);
  int64_t next = 1;
  while (true) {
    request.set_first_event_id(next);
    auto response = engine.GetWorkflowExecutionHistory(request);
    if (!response.ok()) return;
    for (const auto& e : response->history().events()) {
      if (e.has_timer_started()) {
        std::printf("the durable 1 s sleep is committed\n");
        std::fflush(stdout);
        return;
      }
      if (e.has_workflow_execution_completed() || e.has_workflow_execution_failed()) return;
      next = e.event_id() + 1;
    }
  }
}

void Usage(std::FILE* out) {
  std::fprintf(out,
               "usage: hello [demo --db PATH] [--name NAME]\n"
               "       hello worker|replay|run ...   (see hello worker --help)\n"
               "\n"
               "Runs workflow 'hello' on an embedded Keel engine and prints its result and\n"
               "history. The workflow runs three activities, sleeps 1 s, then waits up to 1 h\n"
               "for the 'proceed' signal, which this program sends itself.\n"
               "\n"
               "  (no command)      use a temporary database, removed at exit\n"
               "  demo --db PATH    use PATH; run it again after a kill and the workflow resumes\n"
               "                    where it stopped, without repeating a completed activity\n"
               "  --name NAME       who to greet (default: ada lovelace)\n"
               "  worker            run hello's workflows and activities for keeld\n"
               "  replay FILE       replay an exported hello history against this build\n"
               "  run               engine + server + worker in one process\n"
               "  -h, --help        this text\n");
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "hello: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // keep stdout in order with the workflow's log lines
  if (argc > 1 && keel::cli::IsWorkerMainCommand(argv[1])) {
    keel::Registry registry;
    hello::Register(registry, "");
    return keel::cli::WorkerMain(argc, argv, registry);
  }
  std::string db_path;
  std::string name = "ada lovelace";
  bool persistent = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      Usage(stdout);
      return 0;
    } else if (a == "demo") {
      persistent = true;
    } else if (a == "--db" && i + 1 < argc) {
      db_path = argv[++i];
    } else if (a == "--name" && i + 1 < argc) {
      name = argv[++i];
    } else {
      Usage(stderr);
      return Fail("unknown argument '" + a + "'");
    }
  }
  if (persistent && db_path.empty()) return Fail("demo needs --db PATH");

  std::string temp_dir;
  if (!persistent) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "keel-hello-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return Fail("cannot create a temporary directory");
    temp_dir = tmpl;
    db_path = temp_dir + "/keel.db";
  }
  std::string ledger = db_path + ".ledger";

  keel::EngineOptions engine_options;
  engine_options.db_path = db_path;
  auto engine = keel::Engine::Open(engine_options);
  if (!engine.ok()) return Fail(engine.status().ToString());

  keel::Registry registry;
  hello::Register(registry, ledger);
  keel::Worker worker(**engine, registry);
  worker.Start();
  keel::Client client(**engine);

  std::thread sleep_watcher;
  try {
    // Started once; a rerun after a crash finds the same run through the request id.
    auto run = client.StartWorkflow("hello",
                                    {.id = kWorkflowId,
                                     .id_reuse_policy = keel::IdReusePolicy::kRejectDuplicate,
                                     .request_id = "hello-demo-start"},
                                    name);
    std::printf("%s workflow %s (run %s)\n", run.started ? "started" : "resuming", kWorkflowId,
                run.run_id.c_str());
    std::fflush(stdout);
    if (persistent && run.started) sleep_watcher = std::thread(AnnounceDurableSleep, std::ref(**engine));

    // Signals are buffered until the workflow asks for them, so it can be sent now. The
    // request id makes a rerun's signal a no-op instead of a second signal.
    try {
      client.SignalPayloads(kWorkflowId, "", "proceed", keel::ToPayloads(std::string("signal received")),
                            "hello-demo-proceed");
    } catch (const keel::ClientError& e) {
      if (e.Code() != static_cast<int>(keel::StatusCode::kNotFound)) throw;  // already finished
    }

    auto result = client.GetResult<std::string>(kWorkflowId);
    std::printf("\nresult: %s\n\nhistory:\n%s", result.c_str(), client.GetHistory(kWorkflowId).Timeline().c_str());
  } catch (const std::exception& e) {
    worker.Stop();
    if (sleep_watcher.joinable()) sleep_watcher.detach();
    return Fail(e.what());
  }
  if (sleep_watcher.joinable()) sleep_watcher.join();  // it ends with the run
  worker.Stop();

  std::map<std::string, int> runs;
  std::ifstream in(ledger);
  std::string activity, key;
  while (in >> activity >> key) ++runs[activity];
  std::printf("\nactivity executions:");
  for (const auto& [a, n] : runs) std::printf(" %s x%d", a.c_str(), n);
  std::printf("\n");

  if (!temp_dir.empty()) std::filesystem::remove_all(temp_dir);
  return 0;
}
