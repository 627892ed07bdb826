// The engine served over gRPC on loopback (a real keeld Server in this process), used by a
// remote Client and Worker through ConnectToServer: the same code as embedded.
#include <gtest/gtest.h>


#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>

#include "engine/client.h"
#include "engine/grpc_frontend.h"
#include "engine/log.h"
#include "engine/replayer.h"
#include "engine/server/server.h"
#include "engine/worker.h"
#include "tests/support/forwarding_frontend.h"
#include "tests/support/log_lines.h"
#include "tests/support/tcp_forwarder.h"
#include "tests/support/temp_dir.h"

namespace keel {
namespace {

using namespace std::chrono_literals;

Task<std::string> Greet(WorkflowContext& ctx, std::string name) {
  ActivityOptions o;
  o.start_to_close = 30s;
  auto upper = co_await ctx.ExecuteActivity<std::string>("upper", o, name);
  auto word = co_await ctx.WaitSignal<std::string>("word");
  co_return word + ", " + upper;
}

// Steps in a row: the worker runs each next step on the previous result
// (WorkflowTaskOnResult), and the history the engine writes must replay exactly.
Task<std::string> Steps(WorkflowContext& ctx, int n) {
  ActivityOptions o;
  o.start_to_close = 30s;
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += co_await ctx.ExecuteActivity<std::string>("step", o, i) + " ";
  }
  co_return out;
}

Task<std::vector<int>> FanOut(WorkflowContext& ctx, int n) {
  ActivityOptions o;
  o.start_to_close = 30s;
  std::vector<Future<int>> all;
  for (int i = 0; i < n; ++i) all.push_back(ctx.ExecuteActivity<int>("hold", o, i));
  co_return co_await WhenAll(all);
}

Registry StepsRegistry() {
  Registry r;
  r.RegisterWorkflow("steps", Steps);
  r.RegisterActivity("step", [](int i) { return "s" + std::to_string(i); });
  return r;
}

class RemoteTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& tokens_file = "", Duration poll_timeout = std::chrono::seconds(60)) {
    server::ServerOptions o;
    o.engine.db_path = dir_.File("keel.db");
    o.engine.poll_timeout = poll_timeout;
    o.listen = "127.0.0.1:0";
    o.tokens_file = tokens_file;
    auto s = server::Server::Start(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }
  std::unique_ptr<Frontend> Connect(const std::string& token = "", Duration poll_timeout = std::chrono::seconds(70)) {
    ConnectOptions co;
    co.address = server_->address();
    co.token = token;
    co.poll_timeout = poll_timeout;
    auto f = ConnectToServer(co);
    EXPECT_TRUE(f.ok());
    return std::move(f).value();
  }

  // A worker running `registry` on its own connection (stopped by the test, or at the
  // latest when the fixture ends, before the server).
  Worker& StartWorker(Registry registry, WorkerOptions options = {}) {
    registry_ = std::move(registry);
    worker_frontend_ = Connect();
    worker_ = std::make_unique<Worker>(*worker_frontend_, registry_, options);
    worker_->Start();
    return *worker_;
  }
  // A client on its own connection.
  Client& ConnectClient() {
    client_frontend_ = Connect();
    client_ = std::make_unique<Client>(*client_frontend_);
    return *client_;
  }

  // Destroyed in reverse: the client and worker go before the server they talk to.
  keel::testing::TempDir dir_;
  std::unique_ptr<server::Server> server_;
  Registry registry_;
  std::unique_ptr<Frontend> worker_frontend_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<Frontend> client_frontend_;
  std::unique_ptr<Client> client_;
};

TEST_F(RemoteTest, ClientAndWorkerRunAWorkflowOverGrpc) {
  StartServer();
  Registry r;
  r.RegisterWorkflow("greet", Greet);
  r.RegisterActivity("upper", [](std::string s) {
    for (auto& c : s) c = static_cast<char>(toupper(c));
    return s;
  });
  Worker& worker = StartWorker(std::move(r));
  Client& client = ConnectClient();
  client.StartWorkflow("greet", {.id = "g1"}, std::string("ada"));
  client.SignalWorkflow("g1", "word", std::string("hello"));
  EXPECT_EQ(client.GetResult<std::string>("g1"), "hello, ADA");
  EXPECT_EQ(client.DescribeWorkflow("g1").status, WorkflowStatus::kCompleted);
  EXPECT_GT(client.GetHistory("g1").size(), 10);
  try {
    client.StartWorkflow("greet", {.id = ""});
    FAIL();
  } catch (const ClientError& e) {
    EXPECT_EQ(e.Code(), static_cast<int>(StatusCode::kInvalidArgument));
  }
  worker.Stop();
}

// A query reaches the remote worker through its workflow-task polls (messages on its
// worker stream) and is answered from the cached run, and again, after the worker that
// cached it is gone, by a new worker that replays the run.
Task<std::string> Staged(WorkflowContext& ctx, std::string name) {
  auto stage = std::make_shared<std::string>("waiting for a word");
  ctx.OnQuery("stage", [stage] { return *stage; });
  auto word = co_await ctx.WaitSignal<std::string>("word");
  *stage = "greeting with " + word;
  auto again = co_await ctx.WaitSignal<std::string>("word");
  co_return word + " " + again + ", " + name;
}

TEST_F(RemoteTest, QueriesAreAnsweredByARemoteWorker) {
  StartServer();
  Registry r;
  r.RegisterWorkflow("staged", Staged);
  Worker& worker = StartWorker(r);
  Client& client = ConnectClient();
  client.StartWorkflow("staged", {.id = "q1"}, std::string("ada"));
  // The first workflow task registers the handler; until it ran, the query is refused.
  while (true) {
    try {
      EXPECT_EQ(client.Query<std::string>("q1", "stage"), "waiting for a word");
      break;
    } catch (const ClientError& e) {
      ASSERT_EQ(e.Code(), static_cast<int>(StatusCode::kFailedPrecondition)) << e.what();
    }
  }
  client.SignalWorkflow("q1", "word", std::string("hello"));
  while (client.Query<std::string>("q1", "stage") != "greeting with hello") {
  }
  worker.Stop();
  // A fresh worker holds nothing in its cache: it replays the run to answer.
  auto frontend = Connect();
  Worker second(*frontend, r);
  second.Start();
  EXPECT_EQ(client.Query<std::string>("q1", "stage"), "greeting with hello");
  second.Stop();
}

TEST_F(RemoteTest, ExecuteWorkflowStartsAndWaitsInOneCall) {
  StartServer();
  Registry r = StepsRegistry();
  Worker& worker = StartWorker(std::move(r));
  Client& client = ConnectClient();
  EXPECT_EQ(client.ExecuteWorkflow<std::string>("steps", {.id = "x1"}, 3), "s0 s1 s2 ");
  // A repeated start of the same id while it is closed starts a second run (the default
  // reuse policy) and returns that run's result.
  EXPECT_EQ(client.ExecuteWorkflow<std::string>("steps", {.id = "x1"}, 1), "s0 ");
  worker.Stop();
}

TEST_F(RemoteTest, WorkerRunsTheNextTaskOnEachResult) {
  StartServer();
  Registry r = StepsRegistry();
  Worker& worker = StartWorker(std::move(r));
  Client& client = ConnectClient();
  client.StartWorkflow("steps", {.id = "s1"}, 5);
  EXPECT_EQ(client.GetResult<std::string>("s1"), "s0 s1 s2 s3 s4 ");
  worker.Stop();
  // Steps ran on their predecessor's result, reported with it. Not necessarily all: when
  // no activity thread waited for a hand-over, the activity goes to a poll and may finish
  // before the worker has cached the run's state from the task that scheduled it; its
  // result is then reported alone (the next task is polled for, and its activity again
  // polled for). workflow_task_on_result_test covers each case exactly.
  auto stats = worker.stats();
  EXPECT_EQ(stats.workflow_tasks, 6u);
  EXPECT_GE(stats.workflow_tasks_on_result, 1u);
  // The history the engine wrote is the one the worker assumed.
  auto history = client.GetHistory("s1");
  auto replay = ReplayHistory(history, StepsRegistry());
  EXPECT_TRUE(replay.ok()) << replay.status.ToString();
}

// A workflow task thread may hand the activity it scheduled to a waiting activity thread
// (no poll); the activity threads' limit still bounds what runs at once. (A third
// activity running at once is seen if it starts before the test releases the first two;
// activity_slots_test covers the hand-over itself exactly.)
TEST_F(RemoteTest, HandedOverActivitiesStayWithinTheActivityLimit) {
  StartServer();
  std::mutex mu;
  std::condition_variable cv;
  int running = 0, most = 0, started = 0;
  bool released = false;
  Registry r;
  r.RegisterWorkflow("fan", FanOut);
  r.RegisterActivity("hold", [&](int i) {
    std::unique_lock<std::mutex> lock(mu);
    most = std::max(most, ++running);
    ++started;
    cv.notify_all();
    cv.wait(lock, [&] { return released; });
    --running;
    return i * 10;
  });
  WorkerOptions wo;
  wo.max_concurrent_activities = 2;
  wo.activity_task_pollers = 1;  // the other thread waits for hand-overs
  Worker& worker = StartWorker(std::move(r), wo);
  Client& client = ConnectClient();
  client.StartWorkflow("fan", {.id = "fan1"}, 6);
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return started == 2; });  // both threads are held, four wait
    EXPECT_EQ(running, 2);
    released = true;
    cv.notify_all();
  }
  EXPECT_EQ(client.GetResult<std::vector<int>>("fan1"), (std::vector<int>{0, 10, 20, 30, 40, 50}));
  worker.Stop();
  EXPECT_LE(most, 2);
  EXPECT_EQ(started, 6);
  EXPECT_EQ(worker.stats().activities, 6u);
}

TEST_F(RemoteTest, TokensAreRequiredAndRolesChecked) {
  std::string tokens = dir_.File("tokens");
  std::ofstream(tokens) << "# token principal roles\n"
                        << "client-token-0123456789 alice client\n"
                        << "worker-token-0123456789 bot worker\n";
  StartServer(tokens);
  v1::ListWorkflowExecutionsRequest list;
  EXPECT_EQ(Connect()->ListWorkflowExecutions(list).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Connect("wrong-token-0123456789")->ListWorkflowExecutions(list).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(Connect("client-token-0123456789")->ListWorkflowExecutions(list).ok());
  v1::PollActivityTaskQueueRequest poll;
  poll.set_identity("x");
  auto denied = Connect("client-token-0123456789")->PollActivityTaskQueue(poll);
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("alice"), std::string::npos);
  EXPECT_EQ(denied.status().message().find("client-token"), std::string::npos);  // never the token
  v1::StartWorkflowExecutionRequest start;
  start.set_workflow_id("w");
  start.set_workflow_type("t");
  EXPECT_EQ(Connect("worker-token-0123456789")->StartWorkflowExecution(start).status().code(),
            StatusCode::kPermissionDenied);
}

// A worker whose polls keeld keeps refusing (its token lacks the worker role) warns once
// per kind of poll, not once per failed poll of each of its threads.
TEST_F(RemoteTest, AWorkerWhosePollsAreRefusedWarnsOnce) {
  std::string tokens = dir_.File("tokens");
  std::ofstream(tokens) << "client-token-0123456789 alice client\n";
  StartServer(tokens);
  keel::testing::LogLines lines;
  {
    auto frontend = Connect("client-token-0123456789");
    Registry r = StepsRegistry();
    Worker worker(*frontend, r, {.workflow_task_pollers = 4, .max_concurrent_activities = 4});
    worker.Start();
    ASSERT_TRUE(lines.WaitFor("refused", 40));  // keeld's line for each refused poll
    worker.Stop();
  }
  EXPECT_EQ(lines.Count("warning worker"), 2);  // one for workflow polls, one for activity polls
}

// keeld --poll-timeout longer than a caller's own wait (ConnectOptions::poll_timeout): each
// long wait ends with nothing new, as keeld's timeout would end it, not with an error, so
// workers poll again and clients wait again. keeld ends a poll before its caller's
// deadline; the client maps a wait that ran out on a reachable keeld to "nothing yet".
TEST_F(RemoteTest, WaitsLongerThanTheCallersDeadlineEndEmptyNotInError) {
  StartServer("", 30s);
  auto f = Connect("", 3s);
  v1::PollWorkflowTaskQueueRequest pw;
  pw.set_identity("w");
  auto polled = f->PollWorkflowTaskQueue(pw);
  ASSERT_TRUE(polled.ok()) << polled.status().ToString();
  EXPECT_TRUE(polled->task_token().empty());
  v1::PollActivityTaskQueueRequest pa;
  pa.set_identity("w");
  auto activity = f->PollActivityTaskQueue(pa);
  ASSERT_TRUE(activity.ok()) << activity.status().ToString();
  EXPECT_TRUE(activity->task_token().empty());

  Client client(*f);
  client.StartWorkflow("greet", {.id = "g1"}, std::string("ada"));  // no worker: it stays open
  v1::GetWorkflowExecutionResultRequest rr;
  rr.mutable_workflow_execution()->set_workflow_id("g1");
  rr.set_wait(true);
  auto result = f->GetWorkflowExecutionResult(rr);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status(), v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  v1::GetWorkflowExecutionHistoryRequest hr;
  hr.mutable_workflow_execution()->set_workflow_id("g1");
  hr.set_first_event_id(client.GetHistory("g1").size() + 1);
  hr.set_wait_new_event(true);
  auto history = f->GetWorkflowExecutionHistory(hr);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  EXPECT_EQ(history->history().events_size(), 0);
  // A start that waits for its result: the run id comes back, with no result yet.
  v1::StartWorkflowExecutionRequest start;
  start.set_workflow_id("g2");
  start.set_workflow_type("greet");
  start.set_request_id("start-g2");
  start.set_wait_for_result(true);
  auto started = f->StartWorkflowExecution(start);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_FALSE(started->run_id().empty());
  EXPECT_NE(started->result().status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

Task<std::string> LargeResult(WorkflowContext& ctx, int mib) {
  ActivityOptions o;
  o.start_to_close = 1h;  // a refused result left alone would wait this long
  std::optional<ActivityFailure> failed;
  try {
    co_await ctx.ExecuteActivity<std::string>("large", o, mib);
  } catch (const ActivityFailure& f) {
    failed = f;
  }
  co_return failed ? failed->ErrorType() + ": " + failed->what() : "no failure";
}

// Against keeld, an activity whose result keeld refuses (over its 2 MiB payload limit)
// or that gRPC could not even send (over 16 MiB) fails at once, and runs once.
TEST_F(RemoteTest, AnActivityResultTooLargeFailsTheActivityAtOnce) {
  StartServer();
  Registry r;
  std::atomic<int> runs{0};
  r.RegisterWorkflow("large", LargeResult);
  r.RegisterActivity("large", [&](int mib) {
    ++runs;
    return std::string(static_cast<size_t>(mib) * 1024 * 1024, 'x');
  });
  keel::testing::LogLines lines;
  StartWorker(std::move(r));
  Client& client = ConnectClient();
  for (int mib : {3, 17}) {
    const std::string id = "l" + std::to_string(mib);
    client.StartWorkflow("large", {.id = id}, mib);
    const std::string result = client.GetResult<std::string>(id);
    EXPECT_EQ(result.rfind(std::string(kActivityResultRefused) + ": ", 0), 0u) << result;
  }
  EXPECT_EQ(runs, 2);
  // The stream that carried the 3 MiB result ends when the worker's connection closes.
  worker_->Stop();
  worker_.reset();
  worker_frontend_.reset();
  EXPECT_EQ(lines.Count("did not end after it was cancelled"), 0);
}

TEST(ConnectToServerTest, BadKeepaliveSettingsAreRefused) {
  ConnectOptions negative;
  negative.keepalive = -1s;
  EXPECT_EQ(ConnectToServer(negative).status().code(), StatusCode::kInvalidArgument);
  ConnectOptions no_timeout;
  no_timeout.keepalive_timeout = Duration::zero();
  EXPECT_EQ(ConnectToServer(no_timeout).status().code(), StatusCode::kInvalidArgument);
  no_timeout.keepalive = Duration::zero();  // no pings: no timeout needed
  EXPECT_TRUE(ConnectToServer(no_timeout).ok());
}

TEST(ConnectToServerTest, BadStreamConnectionsAreRefused) {
  for (int bad : {0, -1, 65}) {
    ConnectOptions options;
    options.stream_connections = bad;
    auto refused = ConnectToServer(options);
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(refused.status().message().find("stream_connections must be 1 to 64"), std::string::npos)
        << refused.status().ToString();
  }
}

// A starting worker opens a worker stream per thread ahead, on stream_connections
// connections in turn: they reach keeld on three connections (seen by a forwarder in
// between), and a workflow then runs over them.
TEST_F(RemoteTest, AStartingWorkerOpensItsStreamsOnEveryStreamConnection) {
  StartServer();
  keel::testing::TcpForwarder forwarder(server_->address());
  ConnectOptions options;
  options.address = forwarder.address();
  options.stream_connections = 3;
  auto connected = ConnectToServer(options);
  ASSERT_TRUE(connected.ok()) << connected.status().ToString();
  struct Hint : keel::testing::ForwardingFrontend {
    using ForwardingFrontend::ForwardingFrontend;
    void PrepareConcurrentCalls(int n) override {
      hinted = n;
      inner_.PrepareConcurrentCalls(n);
    }
    int hinted = 0;
  } frontend(**connected);
  Registry r = StepsRegistry();
  Worker worker(frontend, r, {.workflow_task_pollers = 2, .max_concurrent_activities = 3});
  worker.Start();
  EXPECT_EQ(frontend.hinted, 2 + 3);  // a call at a time per thread
  EXPECT_TRUE(forwarder.AwaitAccepted(3, std::chrono::seconds(30)));
  Client client(frontend);
  EXPECT_EQ(client.ExecuteWorkflow<std::string>("steps", {.id = "spread"}, 3), "s0 s1 s2 ");
  worker.Stop();
}

TEST(IsLoopbackTest, OnlyLoopbackAddressesAndLocalhost) {
  EXPECT_TRUE(server::IsLoopback("127.0.0.1:7070"));
  EXPECT_TRUE(server::IsLoopback("127.8.9.10:0"));
  EXPECT_TRUE(server::IsLoopback("localhost:7070"));
  EXPECT_TRUE(server::IsLoopback("[::1]:7070"));
  EXPECT_FALSE(server::IsLoopback("0.0.0.0:7070"));
  EXPECT_FALSE(server::IsLoopback("10.0.0.1:7070"));
  EXPECT_FALSE(server::IsLoopback("127.example.com:7070"));  // a name: it may resolve anywhere
  EXPECT_FALSE(server::IsLoopback("127.0.0.1.example.com:7070"));
}

TEST_F(RemoteTest, RefusesAPublicAddressWithoutTokens) {
  server::ServerOptions o;
  o.engine.db_path = dir_.File("keel.db");
  o.listen = "0.0.0.0:0";
  auto s = server::Server::Start(o);
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("without --tokens"), std::string::npos);
}

}  // namespace
}  // namespace keel
