// PollCancel: lets a server end a waiting poll early when its caller hangs up, so that no
// task is handed to a worker that is gone (it would hold the task until the task's
// timeout). The server calls Cancel; the engine sets the hook that ends its wait.
// Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <utility>

namespace keel {

class PollCancel {
 public:
  // Runs the hook once (a later SetHook runs its hook at once).
  void Cancel() {
    cancelled_.store(true);
    std::function<void()> hook;
    {
      std::lock_guard<std::mutex> g(mu_);
      hook = std::exchange(hook_, nullptr);
    }
    if (hook) hook();
  }

  bool cancelled() const { return cancelled_.load(); }

  // For the engine: `hook` ends the poll's wait. It runs at once, on this thread, when
  // the poll was cancelled already.
  void SetHook(std::function<void()> hook) {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (!cancelled_.load()) {
        hook_ = std::move(hook);
        return;
      }
    }
    hook();
  }

 private:
  std::mutex mu_;
  std::atomic<bool> cancelled_{false};
  std::function<void()> hook_;
};

}  // namespace keel
