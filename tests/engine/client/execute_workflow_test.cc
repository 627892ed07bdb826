// Client::ExecuteWorkflow: start and result in one call. It returns the result or throws
// as GetResult does, a retried call (same request id) returns the first run's result,
// and when the start's wait ends before the run closes the client waits again.
#include <gtest/gtest.h>

#include <atomic>

#include "engine/errors.h"
#include "engine/testing/test_environment.h"
#include "engine/workflow.h"
#include "tests/support/forwarding_frontend.h"

namespace keel {
namespace {

using namespace std::chrono_literals;
using testing::TestEnvironment;

Task<std::string> Greet(WorkflowContext& ctx, std::string name) {
  ActivityOptions o;
  o.start_to_close = 30s;
  co_return "hello " + co_await ctx.ExecuteActivity<std::string>("upper", o, name);
}

Task<int> Fail(WorkflowContext&, int) {
  throw ApplicationError("Refused", "no, thank you");
  co_return 0;
}

Registry MakeRegistry() {
  Registry r;
  r.RegisterWorkflow("greet", Greet);
  r.RegisterWorkflow("fail", Fail);
  r.RegisterActivity("upper", [](std::string s) {
    for (auto& c : s) c = static_cast<char>(toupper(c));
    return s;
  });
  return r;
}

TEST(ExecuteWorkflowTest, StartsAndReturnsTheResult) {
  Registry r = MakeRegistry();
  TestEnvironment env(r);
  EXPECT_EQ(env.client().ExecuteWorkflow<std::string>("greet", {.id = "e1"}, std::string("ann")),
            "hello ANN");
  EXPECT_EQ(env.client().DescribeWorkflow("e1").status, WorkflowStatus::kCompleted);
}

TEST(ExecuteWorkflowTest, ThrowsWhenTheWorkflowFails) {
  Registry r = MakeRegistry();
  TestEnvironment env(r);
  try {
    env.client().ExecuteWorkflow<int>("fail", {.id = "f1"}, 1);
    FAIL() << "no exception";
  } catch (const WorkflowFailedError& e) {
    EXPECT_NE(std::string(e.what()).find("no, thank you"), std::string::npos) << e.what();
  }
}

TEST(ExecuteWorkflowTest, ARetriedCallReturnsTheFirstRunsResult) {
  Registry r = MakeRegistry();
  TestEnvironment env(r);
  StartWorkflowOptions o{.id = "e2", .request_id = "req-1"};
  EXPECT_EQ(env.client().ExecuteWorkflow<std::string>("greet", o, std::string("bo")), "hello BO");
  EXPECT_EQ(env.client().ExecuteWorkflow<std::string>("greet", o, std::string("bo")), "hello BO");
  ListOptions list;
  list.workflow_id = "e2";
  EXPECT_EQ(env.client().ListWorkflows(list).size(), 1u);  // one run, not two
}

TEST(ExecuteWorkflowTest, SignalWithStartCannotWaitForTheResult) {
  Registry r = MakeRegistry();
  TestEnvironment env(r);
  v1::SignalWithStartWorkflowExecutionRequest req;
  req.mutable_start()->set_workflow_id("s1");
  req.mutable_start()->set_workflow_type("greet");
  req.mutable_start()->set_wait_for_result(true);
  req.set_signal_name("go");
  auto resp = env.engine().SignalWithStartWorkflowExecution(req);
  EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument) << resp.status().ToString();
  EXPECT_TRUE(env.client().ListWorkflows().empty());  // nothing was started
}

// The engine, except that a start's wait always ends before the run closes (as a long
// poll that ran out), so that the client must wait again with GetWorkflowExecutionResult.
class StartWaitEndsFirst : public testing::ForwardingFrontend {
 public:
  using ForwardingFrontend::ForwardingFrontend;
  Result<v1::StartWorkflowExecutionResponse> StartWorkflowExecution(
      const v1::StartWorkflowExecutionRequest& request) override {
    v1::StartWorkflowExecutionRequest no_wait = request;
    no_wait.set_wait_for_result(false);
    auto resp = inner_.StartWorkflowExecution(no_wait);
    if (resp.ok() && request.wait_for_result()) {
      resp->mutable_result()->set_status(v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
      resp->mutable_result()->set_run_id(resp->run_id());
    }
    return resp;
  }
  Result<v1::GetWorkflowExecutionResultResponse> GetWorkflowExecutionResult(
      const v1::GetWorkflowExecutionResultRequest& request) override {
    ++result_calls;
    return inner_.GetWorkflowExecutionResult(request);
  }

  std::atomic<int> result_calls{0};
};

TEST(ExecuteWorkflowTest, WaitsAgainWhenTheStartsWaitEndsFirst) {
  Registry r = MakeRegistry();
  TestEnvironment env(r);
  StartWaitEndsFirst frontend(env.engine());
  Client client(frontend);
  EXPECT_EQ(client.ExecuteWorkflow<std::string>("greet", {.id = "e3"}, std::string("cy")),
            "hello CY");
  EXPECT_GE(frontend.result_calls.load(), 1);
}

}  // namespace
}  // namespace keel
