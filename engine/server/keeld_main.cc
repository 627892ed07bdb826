// keeld: the Keel server. Serves the engine over gRPC (WorkflowService) on one SQLite
// file; SIGTERM or SIGINT drains in-flight calls and exits cleanly; a restart on the same
// file continues every workflow.
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "engine/log.h"
#include "engine/server/server.h"

namespace {

void Usage(std::FILE* out) {
  std::fprintf(out,
               "usage: keeld [--db PATH] [--listen HOST:PORT] [--tokens FILE]\n"
               "             [--tls-cert FILE --tls-key FILE] [--poll-timeout SECONDS]\n"
               "             [--durability full|normal|off] [--timer-threads N]\n"
               "             [--max-payload-bytes N] [--recovery-hold SECONDS]\n"
               "\n"
               "Serves Keel's engine over gRPC.\n"
               "\n"
               "  --db PATH              SQLite database (default ./keel-data/keel.db; created if missing)\n"
               "  --listen HOST:PORT     address to serve (default 127.0.0.1:7070; port 0 picks one)\n"
               "  --tokens FILE          bearer tokens: lines `TOKEN PRINCIPAL ROLE[,ROLE...]`, roles\n"
               "                         admin, client, worker, reviewer:<group>. Without it,\n"
               "                         authentication is off and only loopback addresses are allowed\n"
               "  --tls-cert, --tls-key  PEM certificate chain and key: serve TLS\n"
               "  --poll-timeout S       how long worker polls and waiting requests wait (default 60, max 3600)\n"
               "  --timer-threads N      threads applying due timers (default 4; more fire many at once sooner)\n"
               "  --max-payload-bytes N  the largest input, result, signal or failure accepted\n"
               "                         (default 2097152 = 2 MiB, at most 15 MiB)\n"
               "  --durability MODE      full (default): a completed step survives power loss\n"
               "  --recovery-hold S      after a restart, hold the activity tasks whose attempts may still\n"
               "                         run this long (default 10, 0 to 3600): a worker still running one\n"
               "                         across the restart reports it, by heartbeat or result, and it is\n"
               "                         not run twice. After a clean stop only those that ran on workers\n"
               "                         are held; after a crash, every pending activity task\n"
               "\n"
               "Prints \"keeld listening on HOST:PORT\" once it serves. Logs go to stderr\n"
               "(KEEL_LOG_LEVEL=debug for more).\n");
}

// A whole number in [min, max] or a clear error naming the flag.
int IntIn(const std::string& text, const char* flag, int min, int max) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    throw std::invalid_argument(std::string(flag) + " takes a whole number from " + std::to_string(min) + " to " +
                                std::to_string(max) + ", not '" + text + "'");
  }
  return v;
}
int PositiveInt(const std::string& text, const char* flag, int max) { return IntIn(text, flag, 1, max); }

int Fail(const std::string& message) {
  std::fprintf(stderr, "keeld: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  keel::server::ServerOptions options;
  options.engine.db_path = "keel-data/keel.db";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(flag) + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "-h" || a == "--help") {
        Usage(stdout);
        return 0;
      } else if (a == "--db") {
        options.engine.db_path = value("--db");
      } else if (a == "--listen") {
        options.listen = value("--listen");
      } else if (a == "--tokens") {
        options.tokens_file = value("--tokens");
      } else if (a == "--tls-cert") {
        options.tls_cert_file = value("--tls-cert");
      } else if (a == "--tls-key") {
        options.tls_key_file = value("--tls-key");
      } else if (a == "--poll-timeout") {
        options.engine.poll_timeout = std::chrono::seconds(PositiveInt(value("--poll-timeout"), "--poll-timeout", 3600));
      } else if (a == "--recovery-hold") {
        options.engine.recovered_activity_hold = std::chrono::seconds(IntIn(value("--recovery-hold"), "--recovery-hold", 0, 3600));
      } else if (a == "--timer-threads") {
        options.engine.timer_threads = PositiveInt(value("--timer-threads"), "--timer-threads", 256);
      } else if (a == "--max-payload-bytes") {
        // gRPC's receive limit is 16 MiB; a request carries a payload and a little more.
        options.engine.max_payload_bytes =
            PositiveInt(value("--max-payload-bytes"), "--max-payload-bytes", 15 * 1024 * 1024);
      } else if (a == "--durability") {
        std::string d = value("--durability");
        if (d == "full") options.engine.durability = keel::Durability::kFull;
        else if (d == "normal") options.engine.durability = keel::Durability::kNormal;
        else if (d == "off") options.engine.durability = keel::Durability::kOff;
        else throw std::invalid_argument("--durability is full, normal or off");
      } else {
        throw std::invalid_argument("unknown argument '" + a + "' (see --help)");
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "keeld: %s\n", e.what());
      return 2;
    }
  }

  // Signals are taken by one thread with sigwait, so no handler runs inside gRPC or SQLite.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = keel::server::Server::Start(options);
  if (!server.ok()) return Fail(server.status().message());
  std::printf("keeld listening on %s (db %s)\n", (*server)->address().c_str(), options.engine.db_path.c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  keel::Log().info("keeld: {} received; draining in-flight calls", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Shutdown(std::chrono::seconds(10));
  keel::Log().info("keeld: stopped");
  return 0;
}
