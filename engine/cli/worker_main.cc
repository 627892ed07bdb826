#include "engine/cli/worker_main.h"

#include <signal.h>

#include <charconv>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>

#include "engine/grpc_frontend.h"
#include "engine/history.h"
#include "engine/log.h"
#include "engine/replayer.h"
#include "engine/server/server.h"
#include "engine/worker.h"

namespace keel::cli {

namespace {

struct Flags {
  std::string server = "127.0.0.1:7070";
  std::string token;
  std::string tls_ca;
  std::string db = "keel-data/keel.db";
  std::string listen = "127.0.0.1:7070";
  WorkerOptions worker;
  std::string history_file;
};

void Usage(std::FILE* out, const char* program) {
  std::fprintf(out,
               "usage: %s worker [--server HOST:PORT] [--token T] [--tls-ca FILE] [--task-queue Q]\n"
               "                 [--namespace N] [--identity ID] [--workflow-pollers N]\n"
               "                 [--max-activities N]\n"
               "       %s replay HISTORY.json\n"
               "       %s run [--db PATH] [--listen HOST:PORT] [--task-queue Q]\n"
               "\n"
               "  worker   poll keeld (default 127.0.0.1:7070) and run this program's workflows and\n"
               "           activities; the token defaults to $KEEL_TOKEN; SIGTERM stops it gracefully\n"
               "  replay   replay an exported history against this build: exit 0 when it replays\n"
               "           cleanly, 1 with the first divergence (its event id) otherwise\n"
               "  run      an engine, a gRPC server and a worker in this process (development):\n"
               "           `keel --server HOST:PORT workflow start ...` talks to it\n"
               "\n"
               "Task queue default: 'default' (the same as `keel workflow start`).\n",
               program, program, program);
}

// Blocks SIGTERM/SIGINT in every thread created after this, and returns when one arrives.
class StopSignal {
 public:
  StopSignal() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  int Wait() {
    int sig = 0;
    sigwait(&set_, &sig);
    return sig;
  }

 private:
  sigset_t set_;
};

int Worker(const Flags& f, const Registry& registry) {
  StopSignal stop;
  ConnectOptions co;
  co.address = f.server;
  co.token = f.token;
  co.tls_ca_file = f.tls_ca;
  auto frontend = ConnectToServer(co);
  if (!frontend.ok()) {
    std::fprintf(stderr, "worker: %s\n", frontend.status().message().c_str());
    return 1;
  }
  // Say at once when keeld does not answer or refuses this worker's token, instead of
  // polling in silence. The probe is a worker's call, so that a token without the worker
  // role is refused here: a heartbeat without a task token, which keeld checks for the
  // role first and then refuses as INVALID_ARGUMENT, changing nothing.
  v1::RecordActivityTaskHeartbeatRequest probe;
  auto reached = (*frontend)->RecordActivityTaskHeartbeat(probe);
  if (!reached.ok() && reached.status().code() != StatusCode::kInvalidArgument) {
    const StatusCode code = reached.status().code();
    if (code == StatusCode::kUnauthenticated || code == StatusCode::kPermissionDenied) {
      std::fprintf(stderr, "worker: keeld at %s refused this worker: %s\n", f.server.c_str(),
                   reached.status().message().c_str());
      return 1;
    }
    std::fprintf(stderr, "worker: keeld at %s does not answer yet (%s); the worker keeps trying\n",
                 f.server.c_str(), reached.status().message().c_str());
  }
  keel::Worker worker(**frontend, registry, f.worker);
  worker.Start();
  std::printf("worker %s polling task queue '%s' on %s\n", worker.identity().c_str(), f.worker.task_queue.c_str(),
              f.server.c_str());
  std::fflush(stdout);
  stop.Wait();
  Log().info("worker: stopping; finishing the tasks it runs");
  worker.Stop();
  return 0;
}

int Replay(const Flags& f, const Registry& registry) {
  auto history = History::FromJsonFile(f.history_file);
  if (!history.ok()) {
    // One line: the JSON parser's message may go on with the offending text and a caret.
    const std::string& m = history.status().message();
    std::fprintf(stderr, "replay: %s\n", m.substr(0, m.find('\n')).c_str());
    return 1;
  }
  ReplayResult r = ReplayHistory(*history, registry);
  if (!r.ok()) {
    std::fprintf(stderr, "replay: %s\n", r.status.ToString().c_str());
    if (r.event_id > 0) std::fprintf(stderr, "replay: first divergence at event %lld\n", static_cast<long long>(r.event_id));
    return 1;
  }
  std::printf("replayed %d events of workflow '%s' (id %s, run %s): OK\n", history->size(),
              history->WorkflowType().c_str(), history->WorkflowId().c_str(), history->RunId().c_str());
  return 0;
}

int Run(const Flags& f, const Registry& registry) {
  StopSignal stop;
  server::ServerOptions so;
  so.engine.db_path = f.db;
  so.engine.recovered_activity_hold = Duration::zero();  // the worker restarts with the engine
  so.listen = f.listen;
  auto server = server::Server::Start(so);
  if (!server.ok()) {
    std::fprintf(stderr, "run: %s\n", server.status().message().c_str());
    return 1;
  }
  keel::Worker worker((*server)->engine(), registry, f.worker);
  worker.Start();
  std::printf("serving on %s (db %s); worker polling task queue '%s'\n", (*server)->address().c_str(), f.db.c_str(),
              f.worker.task_queue.c_str());
  std::fflush(stdout);
  stop.Wait();
  worker.Stop();
  (*server)->Shutdown();
  return 0;
}

}  // namespace

bool IsWorkerMainCommand(std::string_view arg) { return arg == "worker" || arg == "replay" || arg == "run"; }

int WorkerMain(int argc, char** argv, const Registry& registry) {
  const char* program = argc > 0 ? argv[0] : "worker";
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    Usage(argc < 2 ? stderr : stdout, program);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  if (!IsWorkerMainCommand(command)) {
    std::fprintf(stderr, "%s: unknown command '%s' (see --help)\n", program, command.c_str());
    return 2;
  }
  Flags f;
  try {
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return argv[++i];
      };
      // Each option belongs to some commands; elsewhere it is refused, not ignored.
      auto only_for = [&](std::initializer_list<std::string_view> commands) {
        for (auto c : commands) {
          if (c == command) return;
        }
        std::string list;
        for (auto c : commands) list += std::string(list.empty() ? "" : " and ") + std::string(c);
        throw std::invalid_argument(a + " is an option of " + list + ", not of " + command);
      };
      auto count = [&]() -> int {
        std::string v = value();
        int n = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > 4096) {
          throw std::invalid_argument(a + " takes a number from 1 to 4096, not '" + v + "'");
        }
        return n;
      };
      if (a == "-h" || a == "--help") {
        Usage(stdout, program);
        return 0;
      }
      if (a == "--server" || a == "--token" || a == "--tls-ca") only_for({"worker"});
      if (a == "--db" || a == "--listen") only_for({"run"});
      if (a == "--task-queue" || a == "--namespace" || a == "--identity" || a == "--workflow-pollers" ||
          a == "--max-activities") {
        only_for({"worker", "run"});
      }
      if (a == "--server") {
        f.server = value();
      } else if (a == "--token") {
        f.token = value();
      } else if (a == "--tls-ca") {
        f.tls_ca = value();
      } else if (a == "--task-queue") {
        f.worker.task_queue = value();
      } else if (a == "--namespace") {
        f.worker.namespace_name = value();
      } else if (a == "--identity") {
        f.worker.identity = value();
      } else if (a == "--workflow-pollers") {
        f.worker.workflow_task_pollers = count();
      } else if (a == "--max-activities") {
        f.worker.max_concurrent_activities = count();
      } else if (a == "--db") {
        f.db = value();
      } else if (a == "--listen") {
        f.listen = value();
      } else if (command == "replay" && f.history_file.empty() && a[0] != '-') {
        f.history_file = a;
      } else {
        throw std::invalid_argument("unknown argument '" + a + "'");
      }
    }
    if (command == "replay" && f.history_file.empty()) throw std::invalid_argument("replay needs HISTORY.json");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s %s: %s (see --help)\n", program, command.c_str(), e.what());
    return 2;
  }
  if (command == "worker") return Worker(f, registry);
  if (command == "replay") return Replay(f, registry);
  return Run(f, registry);
}

}  // namespace keel::cli
