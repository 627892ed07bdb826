// EngineTest: an embedded engine on a temporary file and a ManualClock, driven through
// its Frontend with the test playing the worker. Shared by the engine's unit tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/history/convert.h"
#include "engine/history/event_util.h"
#include "engine/store/sqlite_store.h"
#include "tests/support/temp_dir.h"

namespace keel {

using namespace std::chrono_literals;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    EngineOptions o;
    o.db_path = dir_.File("keel.db");
    o.clock = &clock_;
    o.random = &random_;
    o.recovered_activity_hold = recovered_activity_hold_;
    o.poll_timeout = poll_timeout_;
    // The store is opened here, so that a test can read what is written (store_).
    store::SqliteStoreOptions so;
    so.path = o.db_path;
    so.caller_writes_lone_async_commit = !every_async_commit_on_writer_thread_;
    auto opened = store::SqliteStore::Open(so);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = opened->get();
    auto e = Engine::Open(o, std::move(opened).value());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }
  void Reopen() {
    store_ = nullptr;
    engine_.reset();
    Open();
  }

  Result<v1::StartWorkflowExecutionResponse> Start(
      const std::string& id, const std::string& request_id = "",
      v1::WorkflowIdReusePolicy policy = v1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
      Duration run_timeout = Duration::zero()) {
    v1::StartWorkflowExecutionRequest r;
    r.set_workflow_id(id);
    r.set_workflow_type("wf");
    r.set_request_id(request_id);
    r.set_workflow_id_reuse_policy(policy);
    if (run_timeout > Duration::zero()) *r.mutable_workflow_run_timeout() = ToProtoDuration(run_timeout);
    return engine_->StartWorkflowExecution(r);
  }

  v1::PollWorkflowTaskQueueResponse PollWorkflowTask() {
    v1::PollWorkflowTaskQueueRequest r;
    r.set_identity("test-worker");
    auto resp = engine_->PollWorkflowTaskQueue(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return *resp;
  }
  v1::PollActivityTaskQueueResponse PollActivity() {
    v1::PollActivityTaskQueueRequest r;
    r.set_identity("test-worker");
    auto resp = engine_->PollActivityTaskQueue(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return *resp;
  }

  Status Complete(const std::string& token, std::vector<v1::Command> commands) {
    v1::RespondWorkflowTaskCompletedRequest r;
    r.set_task_token(token);
    r.set_identity("test-worker");
    for (auto& c : commands) *r.add_commands() = std::move(c);
    return engine_->RespondWorkflowTaskCompleted(r).status();
  }
  Status CompleteActivity(const std::string& token, const std::string& json) {
    v1::RespondActivityTaskCompletedRequest r;
    r.set_task_token(token);
    *r.mutable_result()->add_payloads() = ToProto(JsonPayload(nlohmann::json::parse(json)));
    return engine_->RespondActivityTaskCompleted(r).status();
  }
  Status FailActivity(const std::string& token, const std::string& type, bool non_retryable = false) {
    v1::RespondActivityTaskFailedRequest r;
    r.set_task_token(token);
    r.mutable_failure()->set_message("failed: " + type);
    r.mutable_failure()->mutable_application_failure_info()->set_type(type);
    r.mutable_failure()->mutable_application_failure_info()->set_non_retryable(non_retryable);
    return engine_->RespondActivityTaskFailed(r).status();
  }
  Status Signal(const std::string& id, const std::string& name, const std::string& request_id = "") {
    v1::SignalWorkflowExecutionRequest r;
    r.mutable_workflow_execution()->set_workflow_id(id);
    r.set_signal_name(name);
    r.set_request_id(request_id);
    return engine_->SignalWorkflowExecution(r).status();
  }

  static v1::Command ScheduleActivity(const std::string& id, Duration start_to_close, int max_attempts = 0,
                                      Duration schedule_to_close = Duration::zero()) {
    v1::Command c;
    auto* a = c.mutable_schedule_activity_task();
    a->set_activity_id(id);
    a->set_activity_type("act");
    *a->mutable_start_to_close_timeout() = ToProtoDuration(start_to_close);
    *a->mutable_schedule_to_close_timeout() = ToProtoDuration(schedule_to_close);
    a->mutable_retry_policy()->set_maximum_attempts(max_attempts);
    return c;
  }
  static v1::Command StartTimer(const std::string& id, Duration d) {
    v1::Command c;
    c.mutable_start_timer()->set_timer_id(id);
    *c.mutable_start_timer()->mutable_start_to_fire_timeout() = ToProtoDuration(d);
    return c;
  }
  static v1::Command CompleteWorkflow() {
    v1::Command c;
    c.mutable_complete_workflow_execution();
    return c;
  }

  std::vector<v1::HistoryEvent> Events(const std::string& id) {
    v1::GetWorkflowExecutionHistoryRequest r;
    r.mutable_workflow_execution()->set_workflow_id(id);
    auto resp = engine_->GetWorkflowExecutionHistory(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return {resp->history().events().begin(), resp->history().events().end()};
  }
  static int Count(const std::vector<v1::HistoryEvent>& events, v1::HistoryEvent::AttributesCase kind) {
    int n = 0;
    for (const auto& e : events) n += e.attributes_case() == kind;
    return n;
  }
  v1::DescribeWorkflowExecutionResponse Describe(const std::string& id) {
    v1::DescribeWorkflowExecutionRequest r;
    r.mutable_workflow_execution()->set_workflow_id(id);
    auto resp = engine_->DescribeWorkflowExecution(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return *resp;
  }
  int ExecutionCount() {
    v1::ListWorkflowExecutionsRequest r;
    auto resp = engine_->ListWorkflowExecutions(r);
    EXPECT_TRUE(resp.ok());
    return resp->executions_size();
  }
  // Runs the first workflow task of `id` to completion of the workflow.
  void FinishWorkflow() {
    auto t = PollWorkflowTask();
    ASSERT_TRUE(Complete(t.task_token(), {CompleteWorkflow()}).ok());
  }

  keel::testing::TempDir dir_;
  // Set before Open: the store sends every CommitAsync to its writer thread, so that the
  // Callback API answers from there even when nothing else is being written.
  bool every_async_commit_on_writer_thread_ = false;
  Duration recovered_activity_hold_ = Duration::zero();  // EngineOptions, set before Open
  Duration poll_timeout_ = std::chrono::seconds(60);
  ManualClock clock_;
  SeededRandom random_{7};
  std::unique_ptr<Engine> engine_;
  store::Store* store_ = nullptr;  // the engine's, for reading what it wrote
};

}  // namespace keel
