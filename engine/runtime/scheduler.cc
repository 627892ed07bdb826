#include "engine/runtime/scheduler.h"

namespace keel::internal {

void Scheduler::RunUntilIdle() {
  while (!ready_.empty()) {
    auto next = std::move(ready_.front());
    ready_.pop_front();
    if (auto* h = std::get_if<std::coroutine_handle<>>(&next)) {
      h->resume();
    } else {
      std::get<std::function<void()>>(next)();
    }
  }
}

}  // namespace keel::internal
