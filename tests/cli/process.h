// Child processes for the CLI's integration tests: RunCommand runs a program to its end
// and captures stdout, stderr and the exit code; Process keeps one running (keeld, a
// worker, `keel workflow history --follow`) with its stdout readable line by line. Every
// child dies with the test: Process's destructor kills it, and PR_SET_PDEATHSIG kills it
// if the test process itself dies. Owned by one thread.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace keel::testing {

// Environment changes for a child: a value sets the variable, nullopt unsets it.
using EnvChanges = std::map<std::string, std::optional<std::string>>;

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
  std::string Describe() const;  // for failure messages
};

// Runs argv to its end (stdin /dev/null). A child still running after `limit_seconds`
// is killed (exit_code -1): a safety net against a hanging CLI, not a timing check.
CommandResult RunCommand(const std::vector<std::string>& argv, const EnvChanges& env = {},
                         int limit_seconds = 120);

class Process {
 public:
  // Starts argv; its stderr is appended to `stderr_path`. Throws std::runtime_error.
  Process(const std::vector<std::string>& argv, const std::string& stderr_path,
          const EnvChanges& env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // The next stdout line (without "\n"); false at end of file or after `limit_seconds`.
  bool ReadLine(std::string* line, int limit_seconds = 120);
  // Reads lines until one contains `text`; false at end of file or after the limit.
  bool WaitForLine(const std::string& text, std::string* line = nullptr, int limit_seconds = 120);
  // Sends `sig` (SIGTERM: ask it to stop) to the process.
  void Signal(int sig);
  // Everything printed since the last ReadLine, up to the end of the output; then reaps
  // the process and returns its exit code (-1: killed, or still running after the limit).
  int Wait(std::string* rest, int limit_seconds = 120);

 private:
  void KillAndReap();

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
};

}  // namespace keel::testing
