// EventQueue: what the crash_server test's main thread waits on: the stdout lines and
// ends of its child processes and the reports of its client threads, in arrival order.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "engine/clock.h"

namespace keel::testing::crash_server {

struct Event {
  enum class Kind {
    kLine,    // a stdout line of process `source`
    kEnd,     // process `source` closed its stdout (it is gone)
    kResult,  // the client has the result of workflow `source` (`text`: the signals it got, as JSON)
    kError,   // a client call failed for good (`text`)
  };
  Kind kind = Kind::kLine;
  int source = 0;      // a process slot, or a workflow index
  int generation = 0;  // which start of the process slot
  std::string text;
};

class EventQueue {
 public:
  void Push(Event event) {
    {
      std::lock_guard<std::mutex> g(mu_);
      events_.push_back(std::move(event));
    }
    cv_.notify_one();
  }

  // The next event; nullopt when `deadline` passes first.
  std::optional<Event> Pop(Time deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!Clock::System().WaitUntil(lock, cv_, deadline, [this] { return !events_.empty(); })) {
      return std::nullopt;
    }
    Event e = std::move(events_.front());
    events_.pop_front();
    return e;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
};

}  // namespace keel::testing::crash_server
