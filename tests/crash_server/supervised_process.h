// SupervisedProcess: one process slot of the crash_server test (keeld, or a worker): the
// test starts it, SIGKILLs it and starts it again. While a process of the slot runs, a
// reader thread posts its stdout lines to the EventQueue (Kind::kLine) and then its end
// (Kind::kEnd), tagged with the slot and the start's generation, so lines of a killed
// process are told apart from those of its successor. Stderr goes to a log file shared
// by every generation. Owned by one thread (the test's main thread).
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/crash/child_process.h"
#include "tests/crash_server/event_queue.h"

namespace keel::testing::crash_server {

class SupervisedProcess {
 public:
  SupervisedProcess(int slot, EventQueue& events, std::string log_path);
  // Kills and reaps a running process.
  ~SupervisedProcess();
  SupervisedProcess(const SupervisedProcess&) = delete;
  SupervisedProcess& operator=(const SupervisedProcess&) = delete;

  // Starts `argv` as the next generation. The previous process must have been reaped.
  void Start(const std::vector<std::string>& argv);
  // SIGKILLs the process and reaps it. Returns how it ended.
  ChildProcess::Exit Kill();
  // Reaps a process that ended by itself (after its kEnd event).
  ChildProcess::Exit Reap();

  bool running() const { return child_ != nullptr; }
  int generation() const { return generation_; }
  const std::string& log_path() const { return log_path_; }

 private:
  ChildProcess::Exit Join();

  const int slot_;
  EventQueue& events_;
  const std::string log_path_;
  int generation_ = 0;
  std::unique_ptr<ChildProcess> child_;
  std::thread reader_;
};

}  // namespace keel::testing::crash_server
