// The worker's activity threads: which of them polls, and the hand-over of an activity
// that a workflow task thread received with its task's completion (eager activity).
//
// There are as many activity threads as max_concurrent_activities, so at most that many
// activities run at once. At most `pollers` of them are in a poll at a time; the others
// wait here. A workflow task thread may ask the engine for the activity its task
// schedules only after reserving a waiting thread (Reserve), which then runs it (Deliver)
// or goes back to waiting (Release). So a run's first activity starts on this worker
// without a poll, after the run's state is cached here, and the limit still holds.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "keel/v1/workflow_service.pb.h"

namespace keel::internal {

class ActivitySlots {
 public:
  using Task = v1::PollActivityTaskQueueResponse;
  explicit ActivitySlots(int pollers) : pollers_(pollers < 1 ? 1 : pollers) {}

  // An activity thread between activities: returns a handed-over task, or nullopt with
  // *poll set when the thread should poll (then call PollDone after the poll), or
  // nullopt with *poll clear when the worker stops. Handed-over tasks are still run
  // while stopping: the engine has leased them to this worker.
  std::optional<Task> Next(bool* poll) {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    // Only waiting threads beyond those reserved may go and poll.
    cv_.wait(lock, [&] {
      return !handed_.empty() || (stopping_ && reserved_ == 0) ||
             (!stopping_ && polling_ < pollers_ && waiting_ > reserved_);
    });
    --waiting_;
    *poll = false;
    if (!handed_.empty()) {
      Task task = std::move(handed_.front());
      handed_.pop_front();
      return task;
    }
    if (stopping_) return std::nullopt;
    ++polling_;
    *poll = true;
    return std::nullopt;
  }

  // Threads in Next now, waiting or about to poll (for tests).
  int waiting() const {
    std::lock_guard<std::mutex> g(mu_);
    return waiting_;
  }

  void PollDone() {
    {
      std::lock_guard<std::mutex> g(mu_);
      --polling_;
    }
    cv_.notify_one();  // a waiting thread may poll in its place
  }

  // A workflow task thread: true if a waiting thread is kept free for an activity it
  // asks the engine for. Each true is followed by one Deliver or Release.
  bool Reserve() {
    std::lock_guard<std::mutex> g(mu_);
    if (stopping_ || waiting_ <= reserved_) return false;
    ++reserved_;
    return true;
  }
  void Deliver(Task task) {
    std::unique_lock<std::mutex> lock(mu_);
    --reserved_;
    handed_.push_back(std::move(task));
    Notify(lock);
  }
  void Release() {
    std::unique_lock<std::mutex> lock(mu_);
    --reserved_;
    Notify(lock);
  }

  // One Reserve (when `slots` is given and a thread is free), ended by Deliver or, if
  // the task does not come, by the destructor's Release.
  class Reservation {
   public:
    explicit Reservation(ActivitySlots* slots)
        : slots_(slots && slots->Reserve() ? slots : nullptr) {}
    ~Reservation() {
      if (slots_) slots_->Release();
    }
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    bool reserved() const { return slots_ != nullptr; }
    void Deliver(Task task) {
      slots_->Deliver(std::move(task));
      slots_ = nullptr;
    }

   private:
    ActivitySlots* slots_;
  };

  void Stop() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
  }

 private:
  // After one reservation ends, one waiting thread has something new to do (take the
  // task, or poll in the reserved thread's place); while stopping, all may leave. The
  // lock is released first, so that the thread woken does not wait for it.
  void Notify(std::unique_lock<std::mutex>& lock) {
    const bool all = stopping_;
    lock.unlock();
    if (all) {
      cv_.notify_all();
    } else {
      cv_.notify_one();
    }
  }

  const int pollers_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> handed_;  // delivered, not yet taken
  int waiting_ = 0;          // threads in Next
  int polling_ = 0;          // threads in a poll
  int reserved_ = 0;         // reservations not yet delivered or released
  bool stopping_ = false;
};

}  // namespace keel::internal
