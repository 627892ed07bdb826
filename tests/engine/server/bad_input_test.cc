// Bad input to every RPC of keel.v1.WorkflowService, through a real keeld Server on
// loopback (so the engine → gRPC status mapping is covered): each case asserts the gRPC
// code, a message that names what is wrong, and that the database is byte-for-byte
// unchanged afterwards (a snapshot of every row of every table).
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <future>
#include <set>

#include "keel/v1/execution_state.pb.h"
#include "tests/engine/server/server_fixture.h"

namespace keel::testing {
namespace {

using grpc::StatusCode;
using Message = google::protobuf::Message;

struct Case {
  std::string rpc;
  std::string what;
  std::function<std::unique_ptr<Message>()> request;
  StatusCode code;
  std::string message;  // a part of the expected message
};

v1::Payloads Bytes(size_t n) {
  v1::Payloads p;
  p.add_payloads()->set_data(std::string(n, 'x'));
  return p;
}

std::string Token(v1::TaskToken::Kind kind, const std::string& workflow_id,
                  const std::string& run_id, int64_t scheduled_event_id = 0, uint64_t lease_id = 1,
                  uint64_t query_id = 0) {
  v1::TaskToken t;
  t.set_kind(kind);
  t.set_workflow_id(workflow_id);
  t.set_run_id(run_id);
  t.set_scheduled_event_id(scheduled_event_id);
  t.set_lease_id(lease_id);
  t.set_query_id(query_id);
  return t.SerializeAsString();
}

template <typename T>
std::function<std::unique_ptr<Message>()> Req(std::function<void(T&)> fill) {
  return [fill] {
    auto r = std::make_unique<T>();
    fill(*r);
    return std::unique_ptr<Message>(std::move(r));
  };
}

class BadInputTest : public ServerFixture {
 protected:
  void SetUp() override {
    server::ServerOptions o;
    o.engine.poll_timeout = std::chrono::milliseconds(200);
    StartServer(o);
    // w1: its first workflow task scheduled an activity, which a worker now runs (act_token_).
    w1_run_ = Start("w1");
    v1::PollWorkflowTaskQueueRequest poll;
    poll.set_identity("tester");
    v1::PollWorkflowTaskQueueResponse task;
    {
      auto c = Context();
      ASSERT_TRUE(stub_->PollWorkflowTaskQueue(c.get(), poll, &task).ok());
    }
    ASSERT_FALSE(task.task_token().empty());
    v1::RespondWorkflowTaskCompletedRequest done;
    done.set_task_token(task.task_token());
    auto* a = done.add_commands()->mutable_schedule_activity_task();
    a->set_activity_id("1");
    a->set_activity_type("upper");
    a->mutable_start_to_close_timeout()->set_seconds(3600);
    {
      v1::RespondWorkflowTaskCompletedResponse resp;
      auto c = Context();
      grpc::Status st = stub_->RespondWorkflowTaskCompleted(c.get(), done, &resp);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
    v1::PollActivityTaskQueueRequest apoll;
    apoll.set_identity("tester");
    v1::PollActivityTaskQueueResponse atask;
    {
      auto c = Context();
      ASSERT_TRUE(stub_->PollActivityTaskQueue(c.get(), apoll, &atask).ok());
    }
    ASSERT_FALSE(atask.task_token().empty());
    act_token_ = atask.task_token();
    // w2: its first workflow task is with a worker (wf_token_).
    Start("w2");
    {
      auto c = Context();
      ASSERT_TRUE(stub_->PollWorkflowTaskQueue(c.get(), poll, &task).ok());
    }
    ASSERT_EQ(task.workflow_execution().workflow_id(), "w2");
    wf_token_ = task.task_token();
  }

  std::string Start(const std::string& id) {
    v1::StartWorkflowExecutionRequest start;
    start.set_workflow_id(id);
    start.set_workflow_type("t");
    start.mutable_workflow_task_timeout()->set_seconds(3600);  // no lease expires during the test
    v1::StartWorkflowExecutionResponse resp;
    auto c = Context();
    grpc::Status st = stub_->StartWorkflowExecution(c.get(), start, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.run_id();
  }

  void Check(const std::vector<Case>& cases) {
    for (const auto& c : cases) {
      SCOPED_TRACE(c.rpc + ": " + c.what);
      const std::string before = SnapshotDatabase(DbPath());
      auto request = c.request();
      grpc::Status st = Call(Rpc(c.rpc), *request);
      EXPECT_EQ(st.error_code(), c.code) << st.error_message();
      EXPECT_NE(st.error_message().find(c.message), std::string::npos) << st.error_message();
      EXPECT_EQ(SnapshotDatabase(DbPath()), before) << "a rejected request wrote to the database";
      covered_.insert(c.rpc);
    }
  }

  std::string w1_run_, wf_token_, act_token_;
  std::set<std::string> covered_;
};

constexpr size_t kTooBig = 2 * 1024 * 1024 + 1;  // EngineOptions::max_payload_bytes is 2 MiB

TEST_F(BadInputTest, ClientRpcs) {
  using Start = v1::StartWorkflowExecutionRequest;
  auto start = [](std::function<void(Start&)> more) {
    return Req<Start>([more](Start& r) {
      r.set_workflow_id("new");
      r.set_workflow_type("t");
      more(r);
    });
  };
  const auto IA = StatusCode::INVALID_ARGUMENT;
  std::vector<Case> cases = {
      {"StartWorkflowExecution", "no id", start([](Start& r) { r.clear_workflow_id(); }), IA,
       "workflow_id is required"},
      {"StartWorkflowExecution", "long id",
       start([](Start& r) { r.set_workflow_id(std::string(256, 'a')); }), IA,
       "workflow_id is 256 bytes; the limit is 255"},
      {"StartWorkflowExecution", "control character",
       start([](Start& r) { r.set_workflow_id("a\nb"); }), IA,
       "workflow_id contains a control character"},
      {"StartWorkflowExecution", "no type", start([](Start& r) { r.clear_workflow_type(); }), IA,
       "workflow_type is required"},
      {"StartWorkflowExecution", "long task queue",
       start([](Start& r) { r.set_task_queue(std::string(300, 'q')); }), IA,
       "task_queue is 300 bytes"},
      {"StartWorkflowExecution", "big input",
       start([](Start& r) { *r.mutable_input() = Bytes(kTooBig); }), IA,
       "workflow input is 2097163 bytes, over the limit of 2097152 bytes"},
      {"StartWorkflowExecution", "negative timeout",
       start([](Start& r) { r.mutable_workflow_run_timeout()->set_seconds(-1); }), IA,
       "workflow_run_timeout must not be negative"},
      {"StartWorkflowExecution", "huge timeout",
       start([](Start& r) { r.mutable_workflow_execution_timeout()->set_seconds(315576000000); }),
       IA, "workflow_execution_timeout is 315576000000 s; the limit is 100 years"},
      {"StartWorkflowExecution", "bad nanos",
       start([](Start& r) { r.mutable_workflow_task_timeout()->set_nanos(1000000000); }), IA,
       "workflow_task_timeout has nanos over 999999999"},
      {"StartWorkflowExecution", "unknown reuse policy", start([](Start& r) {
         r.set_workflow_id_reuse_policy(static_cast<v1::WorkflowIdReusePolicy>(77));
       }),
       IA, "unknown workflow_id_reuse_policy 77"},
      {"StartWorkflowExecution", "backoff below 1",
       start([](Start& r) { r.mutable_retry_policy()->set_backoff_coefficient(0.5); }), IA,
       "retry_policy backoff_coefficient must be at least 1"},
      {"StartWorkflowExecution", "NaN backoff",
       start([](Start& r) { r.mutable_retry_policy()->set_backoff_coefficient(std::nan("")); }), IA,
       "backoff_coefficient"},
      {"StartWorkflowExecution", "negative attempts",
       start([](Start& r) { r.mutable_retry_policy()->set_maximum_attempts(-3); }), IA,
       "retry_policy maximum_attempts must not be negative"},
      {"StartWorkflowExecution", "big memo",
       start([](Start& r) { (*r.mutable_memo())["m"].set_data(std::string(kTooBig, 'm')); }), IA,
       "memo is 2097"},
      {"StartWorkflowExecution", "bad search attribute name",
       start([](Start& r) { (*r.mutable_search_attributes())[""].set_data("1"); }), IA,
       "search attribute name is required"},
      {"StartWorkflowExecution", "bad identity",
       start([](Start& r) { r.set_identity(std::string(256, 'i')); }), IA, "identity is 256 bytes"},
      {"StartWorkflowExecution", "running duplicate",
       start([](Start& r) { r.set_workflow_id("w1"); }), StatusCode::ALREADY_EXISTS,
       "workflow 'w1' is already running"},

      {"SignalWorkflowExecution", "no id",
       Req<v1::SignalWorkflowExecutionRequest>([](auto& r) { r.set_signal_name("s"); }), IA,
       "workflow_id is required"},
      {"SignalWorkflowExecution", "no signal name",
       Req<v1::SignalWorkflowExecutionRequest>(
           [](auto& r) { r.mutable_workflow_execution()->set_workflow_id("w1"); }),
       IA, "signal_name is required"},
      {"SignalWorkflowExecution", "big input", Req<v1::SignalWorkflowExecutionRequest>([](auto& r) {
         r.mutable_workflow_execution()->set_workflow_id("w1");
         r.set_signal_name("s");
         *r.mutable_input() = Bytes(kTooBig);
       }),
       IA, "signal input is 2097"},
      {"SignalWorkflowExecution", "unknown id",
       Req<v1::SignalWorkflowExecutionRequest>([](auto& r) {
         r.mutable_workflow_execution()->set_workflow_id("nope");
         r.set_signal_name("s");
       }),
       StatusCode::NOT_FOUND, "no workflow with id 'nope'"},
      {"SignalWorkflowExecution", "unknown run",
       Req<v1::SignalWorkflowExecutionRequest>([](auto& r) {
         r.mutable_workflow_execution()->set_workflow_id("w1");
         r.mutable_workflow_execution()->set_run_id("no-such-run");
         r.set_signal_name("s");
       }),
       StatusCode::NOT_FOUND, "no workflow run 'no-such-run'"},
      {"SignalWorkflowExecution", "run of another workflow",
       Req<v1::SignalWorkflowExecutionRequest>([this](auto& r) {
         r.mutable_workflow_execution()->set_workflow_id("w2");
         r.mutable_workflow_execution()->set_run_id(w1_run_);
         r.set_signal_name("s");
       }),
       StatusCode::NOT_FOUND, "with id 'w2'"},

      {"SignalWithStartWorkflowExecution", "no signal name",
       Req<v1::SignalWithStartWorkflowExecutionRequest>([](auto& r) {
         r.mutable_start()->set_workflow_id("new");
         r.mutable_start()->set_workflow_type("t");
       }),
       IA, "signal_name is required"},
      {"SignalWithStartWorkflowExecution", "no type",
       Req<v1::SignalWithStartWorkflowExecutionRequest>([](auto& r) {
         r.mutable_start()->set_workflow_id("new");
         r.set_signal_name("s");
       }),
       IA, "workflow_type is required"},
      {"SignalWithStartWorkflowExecution", "waits for the result",
       Req<v1::SignalWithStartWorkflowExecutionRequest>([](auto& r) {
         r.mutable_start()->set_workflow_id("new");
         r.mutable_start()->set_workflow_type("t");
         r.mutable_start()->set_wait_for_result(true);
         r.set_signal_name("s");
       }),
       IA, "wait_for_result is for StartWorkflowExecution only"},
      {"SignalWithStartWorkflowExecution", "big signal",
       Req<v1::SignalWithStartWorkflowExecutionRequest>([](auto& r) {
         r.mutable_start()->set_workflow_id("w1");
         r.mutable_start()->set_workflow_type("t");
         r.set_signal_name("s");
         *r.mutable_signal_input() = Bytes(kTooBig);
       }),
       IA, "signal input is 2097"},

      {"RequestCancelWorkflowExecution", "no id",
       Req<v1::RequestCancelWorkflowExecutionRequest>([](auto&) {}), IA, "workflow_id is required"},
      {"RequestCancelWorkflowExecution", "unknown id",
       Req<v1::RequestCancelWorkflowExecutionRequest>(
           [](auto& r) { r.mutable_workflow_execution()->set_workflow_id("nope"); }),
       StatusCode::NOT_FOUND, "no workflow with id 'nope'"},
      {"RequestCancelWorkflowExecution", "long reason",
       Req<v1::RequestCancelWorkflowExecutionRequest>([](auto& r) {
         r.mutable_workflow_execution()->set_workflow_id("w1");
         r.set_reason(std::string(5000, 'r'));
       }),
       IA, "reason is 5000 bytes; the limit is 4096"},

      {"TerminateWorkflowExecution", "no id",
       Req<v1::TerminateWorkflowExecutionRequest>([](auto&) {}), IA, "workflow_id is required"},
      {"TerminateWorkflowExecution", "unknown id",
       Req<v1::TerminateWorkflowExecutionRequest>(
           [](auto& r) { r.mutable_workflow_execution()->set_workflow_id("nope"); }),
       StatusCode::NOT_FOUND, "no workflow with id 'nope'"},
      {"TerminateWorkflowExecution", "big details",
       Req<v1::TerminateWorkflowExecutionRequest>([](auto& r) {
         r.mutable_workflow_execution()->set_workflow_id("w1");
         *r.mutable_details() = Bytes(kTooBig);
       }),
       IA, "terminate details is 2097"},
      {"TerminateWorkflowExecution", "control character in run id",
       Req<v1::TerminateWorkflowExecutionRequest>([](auto& r) {
         r.mutable_workflow_execution()->set_workflow_id("w1");
         r.mutable_workflow_execution()->set_run_id(std::string("r\0n", 3));
       }),
       IA, "run_id contains a control character"},
  };
  Check(cases);
  // A duplicate after the first run closed, with a reuse policy that rejects it.
  v1::TerminateWorkflowExecutionRequest terminate;
  terminate.mutable_workflow_execution()->set_workflow_id("w1");
  ASSERT_TRUE(Call(Rpc("TerminateWorkflowExecution"), terminate).ok());
  Check({
      {"StartWorkflowExecution", "closed duplicate", start([](Start& r) {
         r.set_workflow_id("w1");
         r.set_workflow_id_reuse_policy(v1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE);
       }),
       StatusCode::ALREADY_EXISTS, "the reuse policy rejects duplicates"},
      {"SignalWorkflowExecution", "closed run",
       Req<v1::SignalWorkflowExecutionRequest>([](auto& r) {
         r.mutable_workflow_execution()->set_workflow_id("w1");
         r.set_signal_name("s");
       }),
       StatusCode::NOT_FOUND, "is not running; it is terminated"},
      {"RequestCancelWorkflowExecution", "closed run",
       Req<v1::RequestCancelWorkflowExecutionRequest>(
           [](auto& r) { r.mutable_workflow_execution()->set_workflow_id("w1"); }),
       StatusCode::NOT_FOUND, "is not running"},
      {"TerminateWorkflowExecution", "closed run",
       Req<v1::TerminateWorkflowExecutionRequest>(
           [](auto& r) { r.mutable_workflow_execution()->set_workflow_id("w1"); }),
       StatusCode::NOT_FOUND, "is not running"},
  });
  EXPECT_EQ(covered_.size(), 5u);
}

TEST_F(BadInputTest, ReadRpcs) {
  const auto IA = StatusCode::INVALID_ARGUMENT;
  using List = v1::ListWorkflowExecutionsRequest;
  using History = v1::GetWorkflowExecutionHistoryRequest;
  std::vector<Case> cases = {
      {"DescribeWorkflowExecution", "no id",
       Req<v1::DescribeWorkflowExecutionRequest>([](auto&) {}), IA, "workflow_id is required"},
      {"DescribeWorkflowExecution", "unknown id",
       Req<v1::DescribeWorkflowExecutionRequest>(
           [](auto& r) { r.mutable_workflow_execution()->set_workflow_id("nope"); }),
       StatusCode::NOT_FOUND, "no workflow with id 'nope'"},
      {"DescribeWorkflowExecution", "other namespace",
       Req<v1::DescribeWorkflowExecutionRequest>([](auto& r) {
         r.set_namespace_("elsewhere");
         r.mutable_workflow_execution()->set_workflow_id("w1");
       }),
       StatusCode::NOT_FOUND, "no workflow with id 'w1'"},
      {"DescribeWorkflowExecution", "long namespace",
       Req<v1::DescribeWorkflowExecutionRequest>([](auto& r) {
         r.set_namespace_(std::string(256, 'n'));
         r.mutable_workflow_execution()->set_workflow_id("w1");
       }),
       IA, "namespace is 256 bytes"},

      {"ListWorkflowExecutions", "negative page size",
       Req<List>([](List& r) { r.set_page_size(-1); }), IA,
       "page_size must be between 0 and 10000"},
      {"ListWorkflowExecutions", "huge page size",
       Req<List>([](List& r) { r.set_page_size(10001); }), IA,
       "page_size must be between 0 and 10000"},
      {"ListWorkflowExecutions", "unknown status",
       Req<List>([](List& r) { r.set_status(static_cast<v1::WorkflowExecutionStatus>(42)); }), IA,
       "unknown status"},
      {"ListWorkflowExecutions", "page token not a number",
       Req<List>([](List& r) { r.set_next_page_token("abc"); }), IA, "malformed next_page_token"},
      {"ListWorkflowExecutions", "negative page token",
       Req<List>([](List& r) { r.set_next_page_token("-5"); }), IA, "malformed next_page_token"},
      {"ListWorkflowExecutions", "page token with junk",
       Req<List>([](List& r) { r.set_next_page_token("12x"); }), IA, "malformed next_page_token"},
      {"ListWorkflowExecutions", "overflowing page token",
       Req<List>([](List& r) { r.set_next_page_token("99999999999999999999999"); }), IA,
       "malformed next_page_token"},
      {"ListWorkflowExecutions", "time out of range",
       Req<List>([](List& r) { r.mutable_start_time_min()->set_seconds(253402300799); }), IA,
       "start_time_min must be between 1970 and 2200"},
      {"ListWorkflowExecutions", "negative time",
       Req<List>([](List& r) { r.mutable_start_time_max()->set_seconds(-1); }), IA,
       "start_time_max must be between 1970 and 2200"},
      {"ListWorkflowExecutions", "search attribute not JSON",
       Req<List>([](List& r) { (*r.mutable_search_attributes())["k"].set_data("{not json"); }), IA,
       "search attribute 'k' filter value is not JSON"},
      {"ListWorkflowExecutions", "long workflow type",
       Req<List>([](List& r) { r.set_workflow_type(std::string(256, 't')); }), IA,
       "workflow_type is 256 bytes"},

      {"GetWorkflowExecutionHistory", "no id", Req<History>([](History&) {}), IA,
       "workflow_id is required"},
      {"GetWorkflowExecutionHistory", "unknown id",
       Req<History>([](History& r) { r.mutable_workflow_execution()->set_workflow_id("nope"); }),
       StatusCode::NOT_FOUND, "no workflow with id 'nope'"},
      {"GetWorkflowExecutionHistory", "negative event id", Req<History>([](History& r) {
         r.mutable_workflow_execution()->set_workflow_id("w1");
         r.set_first_event_id(-1);
       }),
       IA, "event ids and page size must not be negative"},
      {"GetWorkflowExecutionHistory", "malformed page token", Req<History>([](History& r) {
         r.mutable_workflow_execution()->set_workflow_id("w1");
         r.set_next_page_token("-3");
       }),
       IA, "malformed next_page_token"},

      {"GetWorkflowExecutionResult", "no id",
       Req<v1::GetWorkflowExecutionResultRequest>([](auto&) {}), IA, "workflow_id is required"},
      {"GetWorkflowExecutionResult", "unknown run",
       Req<v1::GetWorkflowExecutionResultRequest>(
           [](auto& r) { r.mutable_workflow_execution()->set_run_id("no-such-run"); }),
       StatusCode::NOT_FOUND, "no workflow run 'no-such-run'"},

      {"QueryWorkflow", "no query type", Req<v1::QueryWorkflowRequest>([](auto& r) {
         r.mutable_workflow_execution()->set_workflow_id("w1");
       }),
       IA, "query_type is required"},
      {"QueryWorkflow", "unknown id", Req<v1::QueryWorkflowRequest>([](auto& r) {
         r.mutable_workflow_execution()->set_workflow_id("nope");
         r.set_query_type("q");
       }),
       StatusCode::NOT_FOUND, "no workflow with id 'nope'"},
      {"QueryWorkflow", "big arguments", Req<v1::QueryWorkflowRequest>([](auto& r) {
         r.mutable_workflow_execution()->set_workflow_id("w1");
         r.set_query_type("q");
         *r.mutable_query_args() = Bytes(kTooBig);
       }),
       IA, "query arguments is 2097"},
      {"QueryWorkflow", "before the first workflow task",
       Req<v1::QueryWorkflowRequest>([](auto& r) {
         r.mutable_workflow_execution()->set_workflow_id("w2");
         r.set_query_type("q");
       }),
       StatusCode::FAILED_PRECONDITION, "has not completed its first workflow task"},
  };
  Check(cases);
  EXPECT_EQ(covered_.size(), 5u);
}

TEST_F(BadInputTest, WorkerRpcs) {
  const auto IA = StatusCode::INVALID_ARGUMENT;
  const auto NF = StatusCode::NOT_FOUND;
  const std::string wf = wf_token_, act = act_token_, run = w1_run_;
  const std::string unknown_wf = Token(v1::TaskToken::KIND_WORKFLOW, "w9", "no-such-run");
  const std::string unknown_act = Token(v1::TaskToken::KIND_ACTIVITY, "w1", run, 5, 12345);
  std::vector<Case> cases = {
      {"PollWorkflowTaskQueue", "no identity", Req<v1::PollWorkflowTaskQueueRequest>([](auto&) {}),
       IA, "identity is required"},
      {"PollWorkflowTaskQueue", "long task queue",
       Req<v1::PollWorkflowTaskQueueRequest>([](auto& r) {
         r.set_identity("x");
         r.set_task_queue(std::string(256, 'q'));
       }),
       IA, "task_queue is 256 bytes"},
      {"PollActivityTaskQueue", "no identity", Req<v1::PollActivityTaskQueueRequest>([](auto&) {}),
       IA, "identity is required"},
      {"PollActivityTaskQueue", "control character",
       Req<v1::PollActivityTaskQueueRequest>([](auto& r) { r.set_identity("a\tb"); }), IA,
       "identity contains a control character"},

      {"RespondWorkflowTaskCompleted", "no token",
       Req<v1::RespondWorkflowTaskCompletedRequest>([](auto&) {}), IA,
       "malformed workflow task token"},
      {"RespondWorkflowTaskCompleted", "garbage token",
       Req<v1::RespondWorkflowTaskCompletedRequest>(
           [](auto& r) { r.set_task_token("\xff\xff\xff garbage"); }),
       IA, "malformed workflow task token"},
      {"RespondWorkflowTaskCompleted", "an activity token",
       Req<v1::RespondWorkflowTaskCompletedRequest>([act](auto& r) { r.set_task_token(act); }), IA,
       "malformed workflow task token"},
      {"RespondWorkflowTaskCompleted", "unknown run",
       Req<v1::RespondWorkflowTaskCompletedRequest>(
           [unknown_wf](auto& r) { r.set_task_token(unknown_wf); }),
       NF, "no workflow run 'no-such-run'"},
      {"RespondWorkflowTaskCompleted", "stale lease",
       Req<v1::RespondWorkflowTaskCompletedRequest>(
           [run](auto& r) { r.set_task_token(Token(v1::TaskToken::KIND_WORKFLOW, "w1", run)); }),
       NF, "workflow task not found"},
      {"RespondWorkflowTaskCompleted", "long identity",
       Req<v1::RespondWorkflowTaskCompletedRequest>([wf](auto& r) {
         r.set_task_token(wf);
         r.set_identity(std::string(256, 'i'));
       }),
       IA, "identity is 256 bytes"},

      {"RespondWorkflowTaskFailed", "garbage token",
       Req<v1::RespondWorkflowTaskFailedRequest>([](auto& r) { r.set_task_token("garbage"); }), IA,
       "malformed workflow task token"},
      {"RespondWorkflowTaskFailed", "unknown cause",
       Req<v1::RespondWorkflowTaskFailedRequest>([wf](auto& r) {
         r.set_task_token(wf);
         r.set_cause(static_cast<v1::WorkflowTaskFailedCause>(999));
       }),
       IA, "unknown workflow task failure cause 999"},
      {"RespondWorkflowTaskFailed", "big failure",
       Req<v1::RespondWorkflowTaskFailedRequest>([wf](auto& r) {
         r.set_task_token(wf);
         r.mutable_failure()->set_stack_trace(std::string(kTooBig, 's'));
       }),
       IA, "failure is 2097"},
      {"RespondWorkflowTaskFailed", "stale lease",
       Req<v1::RespondWorkflowTaskFailedRequest>([run](auto& r) {
         r.set_task_token(Token(v1::TaskToken::KIND_WORKFLOW, "w1", run, 0, 777));
       }),
       NF, "workflow task not found"},

      {"RespondQueryTaskCompleted", "workflow token",
       Req<v1::RespondQueryTaskCompletedRequest>([wf](auto& r) { r.set_task_token(wf); }), IA,
       "malformed query task token"},
      {"RespondQueryTaskCompleted", "unknown query",
       Req<v1::RespondQueryTaskCompletedRequest>([run](auto& r) {
         r.set_task_token(Token(v1::TaskToken::KIND_QUERY, "w1", run, 0, 0, 4242));
       }),
       NF, "query not found"},
      {"RespondQueryTaskCompleted", "long error",
       Req<v1::RespondQueryTaskCompletedRequest>([run](auto& r) {
         r.set_task_token(Token(v1::TaskToken::KIND_QUERY, "w1", run, 0, 0, 4242));
         r.set_error_message(std::string(5000, 'e'));
       }),
       IA, "error_message is 5000 bytes"},

      {"RecordActivityTaskHeartbeat", "garbage token",
       Req<v1::RecordActivityTaskHeartbeatRequest>([](auto& r) { r.set_task_token("x"); }), IA,
       "malformed activity task token"},
      {"RecordActivityTaskHeartbeat", "big details",
       Req<v1::RecordActivityTaskHeartbeatRequest>([act](auto& r) {
         r.set_task_token(act);
         *r.mutable_details() = Bytes(kTooBig);
       }),
       IA, "heartbeat details is 2097"},
      {"RecordActivityTaskHeartbeat", "unknown attempt",
       Req<v1::RecordActivityTaskHeartbeatRequest>([unknown_act](auto& r) {
         r.set_task_token(unknown_act);
         *r.mutable_details() = Bytes(10);
       }),
       NF, "activity task not found"},

      {"RespondActivityTaskCompleted", "a workflow token",
       Req<v1::RespondActivityTaskCompletedRequest>([wf](auto& r) { r.set_task_token(wf); }), IA,
       "malformed activity task token"},
      {"RespondActivityTaskCompleted", "big result",
       Req<v1::RespondActivityTaskCompletedRequest>([act](auto& r) {
         r.set_task_token(act);
         *r.mutable_result() = Bytes(kTooBig);
       }),
       IA, "activity result is 2097"},
      {"RespondActivityTaskCompleted", "unknown attempt",
       Req<v1::RespondActivityTaskCompletedRequest>(
           [unknown_act](auto& r) { r.set_task_token(unknown_act); }),
       NF, "activity task not found"},
      {"RespondActivityTaskCompleted", "long identity",
       Req<v1::RespondActivityTaskCompletedRequest>([act](auto& r) {
         r.set_task_token(act);
         r.set_identity(std::string(256, 'i'));
       }),
       IA, "identity is 256 bytes"},

      {"RespondActivityTaskFailed", "garbage token",
       Req<v1::RespondActivityTaskFailedRequest>([](auto& r) { r.set_task_token("zz"); }), IA,
       "malformed activity task token"},
      {"RespondActivityTaskFailed", "big failure",
       Req<v1::RespondActivityTaskFailedRequest>([act](auto& r) {
         r.set_task_token(act);
         r.mutable_failure()->set_message(std::string(kTooBig, 'f'));
       }),
       IA, "failure is 2097"},
      {"RespondActivityTaskFailed", "negative retry delay",
       Req<v1::RespondActivityTaskFailedRequest>([act](auto& r) {
         r.set_task_token(act);
         r.mutable_failure()
             ->mutable_application_failure_info()
             ->mutable_next_retry_delay()
             ->set_seconds(-5);
       }),
       IA, "failure next_retry_delay must not be negative"},
      {"RespondActivityTaskFailed", "unknown attempt",
       Req<v1::RespondActivityTaskFailedRequest>(
           [unknown_act](auto& r) { r.set_task_token(unknown_act); }),
       NF, "activity task not found"},

      {"RespondActivityTaskCanceled", "no token",
       Req<v1::RespondActivityTaskCanceledRequest>([](auto&) {}), IA,
       "malformed activity task token"},
      {"RespondActivityTaskCanceled", "big details",
       Req<v1::RespondActivityTaskCanceledRequest>([act](auto& r) {
         r.set_task_token(act);
         *r.mutable_details() = Bytes(kTooBig);
       }),
       IA, "cancel details is 2097"},
      {"RespondActivityTaskCanceled", "unknown attempt",
       Req<v1::RespondActivityTaskCanceledRequest>(
           [unknown_act](auto& r) { r.set_task_token(unknown_act); }),
       NF, "activity task not found"},

      {"ShutdownWorker", "no identity", Req<v1::ShutdownWorkerRequest>([](auto&) {}), IA,
       "identity is required"},
      {"ShutdownWorker", "long identity",
       Req<v1::ShutdownWorkerRequest>([](auto& r) { r.set_identity(std::string(256, 'i')); }), IA,
       "identity is 256 bytes"},
  };
  Check(cases);
  EXPECT_EQ(covered_.size(), 10u);
  // The tokens used above are live: the same requests without the bad part succeed.
  v1::RespondActivityTaskCompletedRequest ok;
  ok.set_task_token(act);
  grpc::Status st = Call(Rpc("RespondActivityTaskCompleted"), ok);
  EXPECT_TRUE(st.ok()) << st.error_message();
}

// A completion whose commands cannot be applied is the workflow code's fault, not the
// request's: the engine answers INVALID_ARGUMENT and records the failed workflow task
// (BAD_COMMAND, shown by describe) so that it is retried, instead of writing the commands.
TEST_F(BadInputTest, BadCommandsFailTheWorkflowTaskAndWriteNoneOfThem) {
  v1::RespondWorkflowTaskCompletedRequest done;
  done.set_task_token(wf_token_);
  done.add_commands()->mutable_start_timer()->set_timer_id("t1");
  done.mutable_commands(0)->mutable_start_timer()->mutable_start_to_fire_timeout()->set_seconds(60);
  auto* bad = done.add_commands()->mutable_schedule_activity_task();
  bad->set_activity_id("a");
  bad->set_activity_type("upper");
  bad->mutable_start_to_close_timeout()->set_seconds(400LL * 365 * 24 * 3600);
  grpc::Status st = Call(Rpc("RespondWorkflowTaskCompleted"), done);
  EXPECT_EQ(st.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("activity timeouts is 12614400000 s; the limit is 100 years"),
            std::string::npos)
      << st.error_message();
  v1::DescribeWorkflowExecutionRequest describe;
  describe.mutable_workflow_execution()->set_workflow_id("w2");
  v1::DescribeWorkflowExecutionResponse d;
  auto c = Context();
  ASSERT_TRUE(stub_->DescribeWorkflowExecution(c.get(), describe, &d).ok());
  EXPECT_EQ(d.pending_timers_size(), 0);  // the good command before the bad one is not kept
  EXPECT_EQ(d.pending_workflow_task().last_failure_cause(),
            v1::WORKFLOW_TASK_FAILED_CAUSE_BAD_COMMAND);
  EXPECT_NE(d.pending_workflow_task().last_failure().message().find("100 years"),
            std::string::npos);
}

// Bytes that are no request at all (not protobuf, or a string that is not UTF-8, which
// proto3 forbids) never reach the engine. keeld parses the start and the two completions
// itself and refuses them with INVALID_ARGUMENT; for the other methods gRPC's C++ server
// refuses them while parsing, with INTERNAL (its fixed code for an unparsable message;
// no client built from the protos can send one). Nothing is written and the server goes
// on serving.
TEST_F(BadInputTest, UnparsableRequestsAreRefusedBeforeTheEngine) {
  grpc::GenericStub generic(
      grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  v1::StartWorkflowExecutionRequest valid;
  valid.set_workflow_id("ok-id");
  valid.set_workflow_type("t");
  std::string not_utf8 = valid.SerializeAsString();
  not_utf8[not_utf8.find("ok-id")] = '\xff';
  const std::string garbage("\xff\xff\xff\xff\x0f", 5);
  const struct {
    const char* method;
    std::string bytes;
    StatusCode code;
  } cases[] = {
      {"StartWorkflowExecution", garbage, StatusCode::INVALID_ARGUMENT},
      {"StartWorkflowExecution", not_utf8, StatusCode::INVALID_ARGUMENT},
      {"RespondWorkflowTaskCompleted", garbage, StatusCode::INVALID_ARGUMENT},
      {"RespondActivityTaskCompleted", garbage, StatusCode::INVALID_ARGUMENT},
      {"SignalWorkflowExecution", garbage, StatusCode::INTERNAL},
  };
  for (const auto& k : cases) {
    const std::string before = SnapshotDatabase(DbPath());
    grpc::Slice slice(k.bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    auto c = Context();
    std::promise<grpc::Status> done;
    generic.UnaryCall(c.get(), std::string("/keel.v1.WorkflowService/") + k.method, {}, &request, &response,
                      [&done](grpc::Status st) { done.set_value(st); });
    grpc::Status st = done.get_future().get();
    EXPECT_EQ(st.error_code(), k.code) << k.method << ": " << st.error_message();
    EXPECT_EQ(SnapshotDatabase(DbPath()), before);
  }
  EXPECT_TRUE(Call(Rpc("StartWorkflowExecution"), valid).ok());
}

// A request over keeld's message limit (16 MiB) is refused by gRPC before it is parsed,
// whichever method it is for.
TEST_F(BadInputTest, RequestsOverTheMessageLimitAreRefused) {
  grpc::GenericStub generic(
      grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  v1::StartWorkflowExecutionRequest huge;
  huge.set_workflow_id("huge");
  huge.set_workflow_type("t");
  huge.mutable_input()->add_payloads()->set_data(std::string(17 * 1024 * 1024, 'x'));
  for (const char* method : {"StartWorkflowExecution", "SignalWorkflowExecution"}) {
    const std::string before = SnapshotDatabase(DbPath());
    grpc::Slice slice(huge.SerializeAsString());
    grpc::ByteBuffer request(&slice, 1), response;
    auto c = Context();
    std::promise<grpc::Status> done;
    generic.UnaryCall(c.get(), std::string("/keel.v1.WorkflowService/") + method, {}, &request, &response,
                      [&done](grpc::Status st) { done.set_value(st); });
    grpc::Status st = done.get_future().get();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << method << ": " << st.error_message();
    EXPECT_EQ(SnapshotDatabase(DbPath()), before);
  }
}

}  // namespace
}  // namespace keel::testing
