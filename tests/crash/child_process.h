// ChildProcess: a program run by a crash test, with its stdout readable line by line
// through a pipe (the events the test synchronises on) and its stderr appended to a log
// file. The test decides when to SIGKILL it; Wait() reaps it. Owned by one thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace keel::testing {

class ChildProcess {
 public:
  // How the process ended, from waitpid.
  struct Exit {
    bool exited = false;  // true: exit `code`; false: killed by `signal`
    int code = 0;
    int signal = 0;
    std::string ToString() const;
  };

  // Starts `argv[0]` with `argv`; stdin is /dev/null. Throws std::runtime_error.
  ChildProcess(const std::vector<std::string>& argv, const std::string& stderr_path);
  // Kills and reaps the process if the test did not (an assertion failed midway).
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next stdout line (without "\n"); false at end of file (the process is gone,
  // or closed its stdout). Blocks until a whole line or the end arrives.
  bool ReadLine(std::string* line);
  void Kill();
  // Closes the pipe and reaps the process.
  Exit Wait();

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
};

}  // namespace keel::testing
