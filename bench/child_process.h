// ChildProcess: a program keel-bench runs beside itself in server mode (keeld, the
// worker). stdin is /dev/null, stdout is a pipe read line by line (the child's "ready"
// and report lines), stderr is keel-bench's own. The child gets SIGKILL if keel-bench
// dies (PR_SET_PDEATHSIG) and is killed by the signal cleanup of exit_cleanup.h; the
// destructor kills and reaps it if Stop() was not called. Create it on the main thread
// (the death signal follows the thread that forked). Owned by one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace keel::bench {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with `argv`. Throws std::runtime_error when it cannot.
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next stdout line (without "\n"); nullopt at end of file (the child is gone).
  // Throws std::runtime_error when no whole line came within `timeout`.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);

  // Sends `sig` and collects the rest of stdout until the child exits; after `grace`
  // it is killed with SIGKILL. Reaps it. Returns the lines read and sets `how` (e.g.
  // "exited with code 0") when given. Idempotent.
  std::vector<std::string> Stop(int sig, std::chrono::milliseconds grace,
                                std::string* how = nullptr);

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }

 private:
  std::string Reap();

  std::string name_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
};

}  // namespace keel::bench
