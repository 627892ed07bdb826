// Subprocess: a child process started with posix_spawn in its own process group, with
// pipes for stdin, stdout and stderr (the parent's ends are non-blocking and close-on-
// exec). Waiting uses a pidfd with the injected Clock for deadlines; signals go to the
// whole group (a launcher such as npx and the server it starts). The destructor kills
// and reaps a child that is still running. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/status.h"
#include "tools/internal/unique_fd.h"

namespace keel::tools::mcp {

class Subprocess {
 public:
  // argv[0] is looked up on PATH. `env` holds "NAME=value" entries (the child's whole
  // environment). Errors: kNotFound (no such program), kUnavailable (spawn failed).
  static Result<std::unique_ptr<Subprocess>> Spawn(const std::vector<std::string>& argv,
                                                   const std::vector<std::string>& env,
                                                   const std::string& working_directory);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  int pid() const { return pid_; }
  int stdin_fd() const { return stdin_.get(); }  // -1 once closed
  int stdout_fd() const { return stdout_.get(); }
  int stderr_fd() const { return stderr_.get(); }
  void CloseStdin() { stdin_.Reset(); }

  // Waits until the child has exited (and reaps it) or `deadline` passes by `clock`.
  // Returns true when it has exited. Time::max() waits as long as it takes.
  bool WaitUntil(Time deadline, Clock& clock);
  // The wait status once reaped.
  std::optional<int> ExitStatus() const;
  // Sends `signal` to the child's process group, unless the child was already reaped.
  void Signal(int signal);

  // "exited with status 3", "was killed by signal 9 (Killed)".
  static std::string DescribeExit(int wait_status);

 private:
  Subprocess() = default;
  bool TryReap();  // true once reaped

  int pid_ = -1;
  internal::UniqueFd pidfd_;
  internal::UniqueFd stdin_;
  internal::UniqueFd stdout_;
  internal::UniqueFd stderr_;
  mutable std::mutex mu_;
  std::optional<int> exit_status_;
};

}  // namespace keel::tools::mcp
