// Frontend: the one interface through which clients and workers talk to an engine.
// keel::Engine implements it in process (embedded); a gRPC client implements it against
// keeld. Client and Worker take a Frontend&, so the same code runs embedded or remote.
// Requests are the keel.v1 protos; implementations are thread-safe. Poll calls block up
// to the engine's poll timeout and return an empty task_token when nothing came.
#pragma once

#include <functional>

#include "engine/status.h"
#include "keel/v1/workflow_service.pb.h"

namespace keel {

namespace v1 = ::keel::v1;

class Frontend {
 public:
  virtual ~Frontend() = default;

  // ---- clients ----
  virtual Result<v1::StartWorkflowExecutionResponse> StartWorkflowExecution(
      const v1::StartWorkflowExecutionRequest& request) = 0;
  virtual Result<v1::SignalWorkflowExecutionResponse> SignalWorkflowExecution(
      const v1::SignalWorkflowExecutionRequest& request) = 0;
  virtual Result<v1::SignalWithStartWorkflowExecutionResponse> SignalWithStartWorkflowExecution(
      const v1::SignalWithStartWorkflowExecutionRequest& request) = 0;
  virtual Result<v1::RequestCancelWorkflowExecutionResponse> RequestCancelWorkflowExecution(
      const v1::RequestCancelWorkflowExecutionRequest& request) = 0;
  virtual Result<v1::TerminateWorkflowExecutionResponse> TerminateWorkflowExecution(
      const v1::TerminateWorkflowExecutionRequest& request) = 0;
  virtual Result<v1::DescribeWorkflowExecutionResponse> DescribeWorkflowExecution(
      const v1::DescribeWorkflowExecutionRequest& request) = 0;
  virtual Result<v1::ListWorkflowExecutionsResponse> ListWorkflowExecutions(
      const v1::ListWorkflowExecutionsRequest& request) = 0;
  virtual Result<v1::GetWorkflowExecutionHistoryResponse> GetWorkflowExecutionHistory(
      const v1::GetWorkflowExecutionHistoryRequest& request) = 0;
  virtual Result<v1::GetWorkflowExecutionResultResponse> GetWorkflowExecutionResult(
      const v1::GetWorkflowExecutionResultRequest& request) = 0;
  virtual Result<v1::QueryWorkflowResponse> QueryWorkflow(const v1::QueryWorkflowRequest& request) = 0;

  // ---- workers ----
  virtual Result<v1::PollWorkflowTaskQueueResponse> PollWorkflowTaskQueue(
      const v1::PollWorkflowTaskQueueRequest& request) = 0;
  virtual Result<v1::RespondWorkflowTaskCompletedResponse> RespondWorkflowTaskCompleted(
      const v1::RespondWorkflowTaskCompletedRequest& request) = 0;
  virtual Result<v1::RespondWorkflowTaskFailedResponse> RespondWorkflowTaskFailed(
      const v1::RespondWorkflowTaskFailedRequest& request) = 0;
  virtual Result<v1::RespondQueryTaskCompletedResponse> RespondQueryTaskCompleted(
      const v1::RespondQueryTaskCompletedRequest& request) = 0;
  virtual Result<v1::PollActivityTaskQueueResponse> PollActivityTaskQueue(
      const v1::PollActivityTaskQueueRequest& request) = 0;
  virtual Result<v1::RecordActivityTaskHeartbeatResponse> RecordActivityTaskHeartbeat(
      const v1::RecordActivityTaskHeartbeatRequest& request) = 0;
  virtual Result<v1::RespondActivityTaskCompletedResponse> RespondActivityTaskCompleted(
      const v1::RespondActivityTaskCompletedRequest& request) = 0;
  virtual Result<v1::RespondActivityTaskFailedResponse> RespondActivityTaskFailed(
      const v1::RespondActivityTaskFailedRequest& request) = 0;
  virtual Result<v1::RespondActivityTaskCanceledResponse> RespondActivityTaskCanceled(
      const v1::RespondActivityTaskCanceledRequest& request) = 0;
  virtual Result<v1::ShutdownWorkerResponse> ShutdownWorker(
      const v1::ShutdownWorkerRequest& request) = 0;

  // ---- reconnection ----
  // `fn` runs, on a thread of the frontend's, each time the connection to the engine is
  // back after it was lost (keeld restarted): a worker reports the activities it still
  // runs, so that the restarted keeld does not hand them out again. Returns a handle for
  // RemoveReconnectListener, which returns once `fn` is not running. An embedded engine
  // is never lost: the defaults do nothing.
  virtual int AddReconnectListener(std::function<void()> fn) {
    (void)fn;
    return 0;
  }
  virtual void RemoveReconnectListener(int handle) { (void)handle; }

  // A hint that up to `n` calls will be under way at once (a worker: one per thread). A
  // frontend over a connection (keeld's) opens what they need ahead, without waiting, so
  // that the first calls are not slower than later ones. The embedded engine needs none.
  virtual void PrepareConcurrentCalls(int n) { (void)n; }
};

}  // namespace keel
