// Workflow and activity types no running worker knows, through keeld: the task stays
// pending (retried with backoff) and describe says why, naming the unknown type and the
// types the worker does have; the workflow does not fail. Once a worker with the type
// polls, it completes. Engine time is a ManualClock, so the retry backoff passes at once.
#include <gtest/gtest.h>

#include <thread>

#include "engine/client.h"
#include "engine/grpc_frontend.h"
#include "engine/worker.h"
#include "tests/engine/server/server_fixture.h"

namespace keel::testing {
namespace {

using namespace std::chrono_literals;

Task<std::string> Hello(WorkflowContext&, std::string name) { co_return "hello " + name; }

// One attempt only: a worker without the type must not use it up.
Task<std::string> CallsShout(WorkflowContext& ctx, std::string name) {
  ActivityOptions o;
  o.start_to_close = 30s;
  o.retry.maximum_attempts = 1;
  auto loud = co_await ctx.ExecuteActivity<std::string>("shout", o, name);
  co_return loud;
}

class UnknownTypeTest : public ServerFixture {
 protected:
  void SetUp() override {
    server::ServerOptions o;
    o.engine.clock = &clock_;
    StartServer(o);
    ConnectOptions co;
    co.address = server_->address();
    auto f = ConnectToServer(co);
    ASSERT_TRUE(f.ok());
    frontend_ = std::move(f).value();
  }
  // The engine's threads use clock_, which (a member of this class) goes before the
  // base's server_: stop the server first.
  void TearDown() override {
    frontend_.reset();
    server_.reset();
  }

  v1::DescribeWorkflowExecutionResponse Describe(const std::string& id) {
    v1::DescribeWorkflowExecutionRequest r;
    r.mutable_workflow_execution()->set_workflow_id(id);
    auto d = frontend_->DescribeWorkflowExecution(r);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : v1::DescribeWorkflowExecutionResponse();
  }

  // Describes `id` until `done` holds (a worker is working on it), for up to 60 s.
  v1::DescribeWorkflowExecutionResponse DescribeUntil(
      const std::string& id,
      const std::function<bool(const v1::DescribeWorkflowExecutionResponse&)>& done) {
    const Time deadline = Clock::System().Now() + 60s;
    v1::DescribeWorkflowExecutionResponse d;
    do {
      d = Describe(id);
      if (done(d)) return d;
      std::this_thread::yield();
    } while (Clock::System().Now() < deadline);
    ADD_FAILURE() << "gave up waiting; last describe: " << d.DebugString();
    return d;
  }

  ManualClock clock_;
  std::unique_ptr<Frontend> frontend_;
};

TEST_F(UnknownTypeTest, AnUnknownWorkflowTypeWaitsForAWorkerThatHasIt) {
  Registry without;
  without.RegisterWorkflow("other", Hello);
  without.RegisterActivity("noop", [](std::string s) { return s; });
  auto old_worker = std::make_unique<Worker>(*frontend_, without);
  old_worker->Start();
  Client client(*frontend_);
  client.StartWorkflow("hello", {.id = "u1"}, std::string("ada"));

  auto d = DescribeUntil("u1", [](const auto& d) {
    return d.pending_workflow_task().state() == v1::PendingWorkflowTaskInfo::STATE_BACKING_OFF;
  });
  EXPECT_EQ(d.info().status(), v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(d.pending_workflow_task().last_failure_cause(),
            v1::WORKFLOW_TASK_FAILED_CAUSE_UNKNOWN_WORKFLOW_TYPE);
  const std::string& why = d.pending_workflow_task().last_failure().message();
  EXPECT_NE(why.find("workflow type 'hello' is not registered"), std::string::npos) << why;
  EXPECT_NE(why.find("registered: other"), std::string::npos) << why;
  old_worker->Stop();

  Registry with;
  with.RegisterWorkflow("hello", Hello);
  Worker new_worker(*frontend_, with);
  new_worker.Start();
  clock_.Advance(1h);  // past the retry backoff
  EXPECT_EQ(client.GetResult<std::string>("u1"), "hello ada");
  new_worker.Stop();
}

TEST_F(UnknownTypeTest, AnUnknownActivityTypeWaitsForAWorkerThatHasIt) {
  Registry without;
  without.RegisterWorkflow("calls_shout", CallsShout);
  without.RegisterActivity("whisper", [](std::string s) { return s; });
  auto old_worker = std::make_unique<Worker>(*frontend_, without);
  old_worker->Start();
  Client client(*frontend_);
  client.StartWorkflow("calls_shout", {.id = "a1"}, std::string("ada"));

  auto d = DescribeUntil("a1", [](const auto& d) {
    return d.pending_activities_size() == 1 &&
           d.pending_activities(0).state() == v1::PendingActivityInfo::STATE_BACKING_OFF;
  });
  EXPECT_EQ(d.info().status(), v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  const auto& a = d.pending_activities(0);
  EXPECT_EQ(a.activity_type(), "shout");
  EXPECT_EQ(a.attempt(), 1);  // not counted: the worker could not run it
  EXPECT_EQ(a.last_failure().application_failure_info().type(), "ActivityTypeNotRegistered");
  EXPECT_NE(a.last_failure().message().find("activity type 'shout' is not registered"),
            std::string::npos)
      << a.last_failure().message();
  EXPECT_NE(a.last_failure().message().find("registered: whisper"), std::string::npos)
      << a.last_failure().message();
  old_worker->Stop();

  Registry with;
  with.RegisterWorkflow("calls_shout", CallsShout);
  with.RegisterActivity("shout", [](std::string s) {
    for (auto& c : s) c = static_cast<char>(toupper(c));
    return s;
  });
  Worker new_worker(*frontend_, with);
  new_worker.Start();
  clock_.Advance(1h);  // past the retry backoff
  EXPECT_EQ(client.GetResult<std::string>("a1"), "ADA");
  new_worker.Stop();
}

}  // namespace
}  // namespace keel::testing
