// ForwardingFrontend: a Frontend that passes every call to another one (an embedded
// engine). A test derives from it and overrides the calls it wants to change or count,
// e.g. to make a call fail as a remote one would.
#pragma once

#include <functional>
#include <utility>

#include "engine/frontend.h"

namespace keel::testing {

class ForwardingFrontend : public Frontend {
 public:
  explicit ForwardingFrontend(Frontend& inner) : inner_(inner) {}

#define KEEL_FORWARD(Name) \
  Result<v1::Name##Response> Name(const v1::Name##Request& r) override { return inner_.Name(r); }
  KEEL_FORWARD(StartWorkflowExecution)
  KEEL_FORWARD(SignalWorkflowExecution)
  KEEL_FORWARD(SignalWithStartWorkflowExecution)
  KEEL_FORWARD(RequestCancelWorkflowExecution)
  KEEL_FORWARD(TerminateWorkflowExecution)
  KEEL_FORWARD(DescribeWorkflowExecution)
  KEEL_FORWARD(ListWorkflowExecutions)
  KEEL_FORWARD(GetWorkflowExecutionHistory)
  KEEL_FORWARD(GetWorkflowExecutionResult)
  KEEL_FORWARD(QueryWorkflow)
  KEEL_FORWARD(PollWorkflowTaskQueue)
  KEEL_FORWARD(RespondWorkflowTaskCompleted)
  KEEL_FORWARD(RespondWorkflowTaskFailed)
  KEEL_FORWARD(RespondQueryTaskCompleted)
  KEEL_FORWARD(PollActivityTaskQueue)
  KEEL_FORWARD(RecordActivityTaskHeartbeat)
  KEEL_FORWARD(RespondActivityTaskCompleted)
  KEEL_FORWARD(RespondActivityTaskFailed)
  KEEL_FORWARD(RespondActivityTaskCanceled)
  KEEL_FORWARD(ShutdownWorker)
#undef KEEL_FORWARD
  int AddReconnectListener(std::function<void()> fn) override {
    return inner_.AddReconnectListener(std::move(fn));
  }
  void RemoveReconnectListener(int handle) override { inner_.RemoveReconnectListener(handle); }
  void PrepareConcurrentCalls(int n) override { inner_.PrepareConcurrentCalls(n); }

 protected:
  Frontend& inner_;
};

}  // namespace keel::testing
