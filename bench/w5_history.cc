#include "bench/w5_history.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "bench/workflows.h"
#include "engine/payload.h"
#include "engine/testing/history_builder.h"

namespace keel::bench {

History BuildW5History(int n) {
  testing::HistoryBuilder b(kBatches, "w5-replay");
  b.Started({ToPayload(int64_t{n})}).WorkflowTask();
  std::map<int64_t, int64_t> started_of;  // scheduled event id -> its started event id
  int64_t sum = 0;
  for (int first = 0; first < n; first += kBatchSize) {
    const int last = std::min(first + kBatchSize, n);
    std::vector<int64_t> scheduled;
    for (int x = first; x < last; ++x) {
      b.ActivityScheduled(kIncrement, {ToPayload(int64_t{x})});
      scheduled.push_back(b.last_event_id());
    }
    for (int x = first; x < last; ++x) {
      const std::string id = std::to_string(x + 1);  // the code's activity ids count from 1
      b.ActivityStarted(id);
      started_of[scheduled[x - first]] = b.last_event_id();
      if (x == first) b.WorkflowTaskScheduled();
      b.ActivityCompleted(id, {ToPayload(int64_t{x + 1})});
      sum += x + 1;
    }
    b.WorkflowTaskStarted().WorkflowTaskCompleted();
  }
  b.Completed({ToPayload(sum)});
  History h = b.Build();
  // The builder points an outcome at the event just before it; the engine points it at
  // the attempt's ActivityTaskStarted, which for a batch's first outcome is one earlier.
  for (auto& e : *h.mutable_proto().mutable_events()) {
    if (!e.has_activity_task_completed()) continue;
    auto* c = e.mutable_activity_task_completed();
    c->set_started_event_id(started_of.at(c->scheduled_event_id()));
  }
  return h;
}

}  // namespace keel::bench
