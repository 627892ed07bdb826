#include "tests/crash_server/supervised_process.h"

#include <stdexcept>
#include <utility>

namespace keel::testing::crash_server {

SupervisedProcess::SupervisedProcess(int slot, EventQueue& events, std::string log_path)
    : slot_(slot), events_(events), log_path_(std::move(log_path)) {}

SupervisedProcess::~SupervisedProcess() {
  if (running()) Kill();
}

void SupervisedProcess::Start(const std::vector<std::string>& argv) {
  if (running()) throw std::logic_error("SupervisedProcess::Start: slot " + std::to_string(slot_) + " is running");
  child_ = std::make_unique<ChildProcess>(argv, log_path_);
  const int generation = ++generation_;
  // The reader owns the pipe's read side until it sees the end of file; Kill() and
  // Reap() join it before ChildProcess::Wait closes the pipe.
  reader_ = std::thread([this, child = child_.get(), generation] {
    std::string line;
    try {
      while (child->ReadLine(&line)) {
        events_.Push({Event::Kind::kLine, slot_, generation, std::move(line)});
      }
      events_.Push({Event::Kind::kEnd, slot_, generation, ""});
    } catch (const std::exception& e) {
      events_.Push({Event::Kind::kEnd, slot_, generation, e.what()});
    }
  });
}

ChildProcess::Exit SupervisedProcess::Kill() {
  if (!running()) return {};
  child_->Kill();
  return Join();
}

ChildProcess::Exit SupervisedProcess::Reap() { return running() ? Join() : ChildProcess::Exit{}; }

ChildProcess::Exit SupervisedProcess::Join() {
  reader_.join();  // ends at the end of file: the process is gone
  ChildProcess::Exit exit = child_->Wait();
  child_.reset();
  return exit;
}

}  // namespace keel::testing::crash_server
