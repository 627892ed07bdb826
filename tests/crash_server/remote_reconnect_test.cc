// ConnectToServer while keeld is away: worker polls wait for it instead of failing (so a
// worker does not back off further and further while keeld restarts), ShutdownWorker
// ends them even when keeld is unreachable, other calls get through as soon as keeld is
// back, a worker goes on with a keeld restarted on the same port and database, and a
// worker's result made while keeld is away waits for it instead of being lost.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <atomic>
#include <functional>
#include <future>
#include <string>

#include <grpcpp/grpcpp.h>

#include "engine/client.h"
#include "engine/grpc_frontend.h"
#include "engine/server/server.h"
#include "engine/worker.h"
#include "keel/v1/workflow_service.grpc.pb.h"
#include "tests/support/log_lines.h"
#include "tests/support/tcp_forwarder.h"
#include "tests/support/temp_dir.h"

namespace keel {
namespace {

using namespace std::chrono_literals;

// A loopback address nothing listens on (the port was free a moment ago).
std::string UnusedAddress() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

std::unique_ptr<Frontend> Connect(const std::string& address, Duration poll_timeout = 70s) {
  ConnectOptions o;
  o.address = address;
  o.poll_timeout = poll_timeout;
  auto f = ConnectToServer(o);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return std::move(f).value();
}

// A keeld on a file in `dir`, on an ephemeral loopback port, whose waits end after 2 s.
server::ServerOptions LoopbackKeeld(const keel::testing::TempDir& dir) {
  server::ServerOptions so;
  so.engine.db_path = dir.File("keel.db");
  so.engine.poll_timeout = 2s;
  so.listen = "127.0.0.1:0";
  return so;
}

Task<std::string> Echo(WorkflowContext& ctx, std::string text) {
  ActivityOptions o;
  o.start_to_close = 30s;
  co_return co_await ctx.ExecuteActivity<std::string>("echo", o, text);
}

TEST(RemoteReconnectTest, APollWaitsForAnUnreachableKeeldUntilShutdownWorker) {
  // An hour: the poll must end by ShutdownWorker, not by its deadline.
  auto frontend = Connect(UnusedAddress(), std::chrono::hours(1));
  v1::PollActivityTaskQueueRequest poll;
  poll.set_task_queue("default");
  poll.set_identity("worker-1");
  auto pending = std::async(std::launch::async, [&] { return frontend->PollActivityTaskQueue(poll); });

  // Other calls fail at once: their caller decides whether to retry.
  v1::DescribeWorkflowExecutionRequest describe;
  describe.mutable_workflow_execution()->set_workflow_id("w");
  EXPECT_EQ(frontend->DescribeWorkflowExecution(describe).status().code(), StatusCode::kUnavailable);

  v1::ShutdownWorkerRequest shutdown;
  shutdown.set_identity("worker-1");
  EXPECT_FALSE(frontend->ShutdownWorker(shutdown).ok());  // keeld is not there to hear it
  auto ended = pending.get();
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_TRUE(ended->task_token().empty());
  // Later polls of that worker end at once, as on the engine.
  auto later = frontend->PollActivityTaskQueue(poll);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_TRUE(later->task_token().empty());
}

TEST(RemoteReconnectTest, ACallReachesKeeldAsSoonAsItIsBack) {
  keel::testing::TempDir dir;
  server::ServerOptions so;
  so.engine.db_path = dir.File("keel.db");
  so.listen = UnusedAddress();
  ConnectOptions o;
  o.address = so.listen;
  o.call_timeout = 100ms;  // Describe gives up soon...
  o.poll_timeout = 1min;   // ...a result request waits for the connection
  o.connect_wait = 1min;
  auto connected = ConnectToServer(o);
  ASSERT_TRUE(connected.ok());
  Frontend& frontend = **connected;
  v1::DescribeWorkflowExecutionRequest describe;
  describe.mutable_workflow_execution()->set_workflow_id("w");
  ASSERT_EQ(frontend.DescribeWorkflowExecution(describe).status().code(), StatusCode::kUnavailable);

  // The channel has failed to connect; keeld comes up. The next call gets through
  // instead of failing until gRPC's background poller (every 5 s) sees the connection.
  auto server = server::Server::Start(so);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  v1::GetWorkflowExecutionResultRequest result;
  result.mutable_workflow_execution()->set_workflow_id("w");
  EXPECT_EQ(frontend.GetWorkflowExecutionResult(result).status().code(), StatusCode::kNotFound);
}

TEST(RemoteReconnectTest, AWorkerStopsWhileKeeldIsUnreachable) {
  auto frontend = Connect(UnusedAddress(), std::chrono::hours(1));
  Registry r;
  r.RegisterWorkflow("echo", Echo);
  r.RegisterActivity("echo", [](std::string s) { return s; });
  Worker worker(*frontend, r);
  worker.Start();
  worker.Stop();  // returns: its polls end although keeld never answered
}

TEST(RemoteReconnectTest, AWorkerGoesOnWithKeeldRestartedOnTheSamePort) {
  keel::testing::TempDir dir;
  server::ServerOptions so = LoopbackKeeld(dir);
  auto first = server::Server::Start(so);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  so.listen = (*first)->address();

  Registry r;
  r.RegisterWorkflow("echo", Echo);
  r.RegisterActivity("echo", [](std::string s) { return s; });
  auto worker_frontend = Connect(so.listen);
  Worker worker(*worker_frontend, r);
  worker.Start();
  {
    auto client_frontend = Connect(so.listen);
    Client client(*client_frontend);
    client.StartWorkflow("echo", {.id = "before"}, std::string("one"));
    EXPECT_EQ(client.GetResult<std::string>("before"), "one");
  }
  (*first)->Shutdown(1s);
  first->reset();

  auto second = server::Server::Start(so);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto client_frontend = Connect(so.listen);
  Client client(*client_frontend);
  client.StartWorkflow("echo", {.id = "after"}, std::string("two"));
  EXPECT_EQ(client.GetResult<std::string>("after"), "two");
  worker.Stop();
}

// One activity with an hour's timeout: a result that was lost would leave the workflow
// waiting, and the activity would not run again within the test.
Task<std::string> Hold(WorkflowContext& ctx, std::string text) {
  ActivityOptions o;
  o.start_to_close = std::chrono::hours(1);
  co_return co_await ctx.ExecuteActivity<std::string>("hold", o, text);
}

// Waits, event by event (keeld's poll timeout, 2 s, at most 30 times), for an event of
// run "w" that `wanted` picks; false when none came.
bool AwaitEvent(Frontend& f, const std::function<bool(const v1::HistoryEvent&)>& wanted) {
  v1::GetWorkflowExecutionHistoryRequest hr;
  hr.mutable_workflow_execution()->set_workflow_id("w");
  hr.set_first_event_id(1);
  hr.set_wait_new_event(true);
  for (int i = 0; i < 30; ++i) {
    auto page = f.GetWorkflowExecutionHistory(hr);
    if (!page.ok()) return false;
    for (const auto& e : page->history().events()) {
      if (wanted(e)) return true;
      hr.set_first_event_id(e.event_id() + 1);
    }
  }
  return false;
}

// Run "w" completed, with its one activity's result recorded once. Waits of keeld's poll
// timeout (2 s), at most 30: a lost result fails the test.
void ExpectCompletedOnce(Frontend& f) {
  v1::GetWorkflowExecutionResultRequest wait;
  wait.mutable_workflow_execution()->set_workflow_id("w");
  wait.set_wait(true);
  auto result = f.GetWorkflowExecutionResult(wait);
  for (int i = 0; i < 30 && result.ok() && result->status() == v1::WORKFLOW_EXECUTION_STATUS_RUNNING; ++i) {
    result = f.GetWorkflowExecutionResult(wait);
  }
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  int completed = 0;
  const History history = Client(f).GetHistory("w");
  for (const auto& e : history.proto().events()) completed += e.has_activity_task_completed();
  EXPECT_EQ(completed, 1);
}

// The activity "hold": it runs until the test releases it, and counts its runs.
class HoldActivity {
 public:
  void RegisterIn(Registry& registry) {
    registry.RegisterActivity("hold", [this](std::string s) {
      if (runs_++ == 0) started_.set_value();
      released_.wait();
      return s;
    });
  }
  bool AwaitStarted() { return started_.get_future().wait_for(1min) == std::future_status::ready; }
  void Release() {  // (again: nothing)
    if (!released_set_) release_.set_value();
    released_set_ = true;
  }
  int runs() const { return runs_.load(); }

 private:
  std::atomic<int> runs_{0};
  std::promise<void> started_, release_;
  std::shared_future<void> released_ = release_.get_future().share();
  bool released_set_ = false;
};

// keeld on a file, restarted by the test, and a worker whose one activity ("hold") runs
// until the test releases it.
class HeldActivityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    so_ = LoopbackKeeld(dir_);
    auto first = server::Server::Start(so_);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    server_ = std::move(first).value();
    so_.listen = server_->address();  // the restart binds the same port

    Registry& activities = activity_worker_of_its_own_ ? activity_registry_ : registry_;
    registry_.RegisterWorkflow("hold", Hold);
    hold_.RegisterIn(activities);
    ConnectOptions o;
    o.address = so_.listen;
    o.connect_wait = 10ms;  // a result notices soon that keeld is away
    auto frontend = ConnectToServer(o);
    ASSERT_TRUE(frontend.ok());
    worker_frontend_ = std::move(frontend).value();
    worker_ = std::make_unique<Worker>(*worker_frontend_, registry_);
    worker_->Start();
    if (activity_worker_of_its_own_) {
      // One activity slot, busy with "hold": this worker has no call under way that would
      // make its channel connect again after keeld is back.
      auto own = ConnectToServer(o);
      ASSERT_TRUE(own.ok());
      activity_frontend_ = std::move(own).value();
      activity_worker_ = std::make_unique<Worker>(*activity_frontend_, activity_registry_,
                                                  WorkerOptions{.max_concurrent_activities = 1});
      activity_worker_->Start();
    }
    auto client_frontend = Connect(so_.listen);
    Client(*client_frontend).StartWorkflow("hold", {.id = "w"}, std::string("kept"));
    ASSERT_TRUE(hold_.AwaitStarted());
  }
  void TearDown() override {
    Release();
    if (activity_worker_) activity_worker_->Stop();
    if (worker_) worker_->Stop();
  }
  void StopKeeld() {
    server_->Shutdown(1s);
    server_.reset();
  }
  void RestartKeeld() {
    auto again = server::Server::Start(so_);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    server_ = std::move(again).value();
  }
  void Release() { hold_.Release(); }
  // The run completed with its one activity completed once, and the activity ran once.
  void ExpectCompletedOnce() {
    auto client_frontend = Connect(so_.listen, 30s);
    keel::ExpectCompletedOnce(*client_frontend);
    EXPECT_EQ(hold_.runs(), 1);
  }

  keel::testing::LogLines lines_;  // before any thread that logs starts
  keel::testing::TempDir dir_;
  server::ServerOptions so_;  // keeld's default hold after a restart: 10 s
  std::unique_ptr<server::Server> server_;
  Registry registry_;
  HoldActivity hold_;
  std::unique_ptr<Frontend> worker_frontend_;
  std::unique_ptr<Worker> worker_;
  bool activity_worker_of_its_own_ = false;  // set before SetUp: "hold" runs on a worker of its own
  Registry activity_registry_;
  std::unique_ptr<Frontend> activity_frontend_;
  std::unique_ptr<Worker> activity_worker_;
};

// The activity ends while keeld is away: its result waits for keeld and is recorded when
// keeld is back.
TEST_F(HeldActivityTest, AResultMadeWhileKeeldIsAwayReachesItWhenItIsBack) {
  StopKeeld();
  Release();
  ASSERT_TRUE(lines_.WaitFor("results wait for it"));  // the result found keeld away
  RestartKeeld();
  ExpectCompletedOnce();
  EXPECT_TRUE(lines_.WaitFor("is back"));
}

// The activity runs on through the restart: its worker reports it as soon as keeld is
// back, so the restarted keeld does not hand it out again, however long it runs.
TEST_F(HeldActivityTest, AWorkerReportsItsRunningActivityWhenKeeldIsBack) {
  StopKeeld();
  RestartKeeld();
  // Taken back while it still runs (without the report, only its result would do it).
  ASSERT_TRUE(lines_.WaitFor("ran across the restart", 1, 30s));
  EXPECT_TRUE(lines_.WaitFor("reported 1 running activities"));
  Release();
  ExpectCompletedOnce();
}

// The same with the activity on a worker of its own whose one activity slot it fills.
class HeldActivityOnItsOwnWorkerTest : public HeldActivityTest {
 protected:
  void SetUp() override {
    activity_worker_of_its_own_ = true;
    HeldActivityTest::SetUp();
  }
};

TEST_F(HeldActivityOnItsOwnWorkerTest, AWorkerWithNoCallUnderWayReportsItsActivityToo) {
  StopKeeld();
  RestartKeeld();
  ASSERT_TRUE(lines_.WaitFor("ran across the restart", 1, 30s));
  Release();
  ExpectCompletedOnce();
}

// keeld stopped cleanly while an activity task waited for a worker: no attempt of it can
// be running, so the restarted keeld hands it out at once, even with an hour's hold.
TEST(RemoteReconnectTest, AnActivityTaskNoWorkerTookIsNotHeldAfterACleanStop) {
  keel::testing::TempDir dir;
  server::ServerOptions so = LoopbackKeeld(dir);
  so.engine.recovered_activity_hold = 1h;
  auto first = server::Server::Start(so);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  so.listen = (*first)->address();
  {
    Registry workflows;  // the workflow only: its activity waits for a worker
    workflows.RegisterWorkflow("hold", Hold);
    auto frontend = Connect(so.listen);
    Worker worker(*frontend, workflows);
    worker.Start();
    Client(*frontend).StartWorkflow("hold", {.id = "w"}, std::string("kept"));
    ASSERT_TRUE(AwaitEvent(*frontend, [](const v1::HistoryEvent& e) { return e.has_activity_task_scheduled(); }));
    worker.Stop();
  }
  (*first)->Shutdown(1s);
  first->reset();
  auto second = server::Server::Start(so);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  Registry registry;
  registry.RegisterWorkflow("hold", Hold);
  registry.RegisterActivity("hold", [](std::string s) { return s; });
  auto frontend = Connect(so.listen, 30s);
  Worker worker(*frontend, registry);
  worker.Start();
  ExpectCompletedOnce(*frontend);  // a held task fails it
  worker.Stop();
}

// keeld's connection dies without a word (as when its host goes away): a call under way
// fails with UNAVAILABLE once a keepalive ping goes unanswered, instead of waiting out
// its timeout (here an hour).
TEST(RemoteReconnectTest, ACallOnAConnectionThatDiedWithoutAWordFailsByKeepalive) {
  keel::testing::TempDir dir;
  server::ServerOptions so = LoopbackKeeld(dir);
  auto server = server::Server::Start(so);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  keel::testing::TcpForwarder forwarder((*server)->address());
  ConnectOptions o;
  o.address = forwarder.address();
  o.call_timeout = 1h;
  o.poll_timeout = 1h;
  o.keepalive = 200ms;
  o.keepalive_timeout = 200ms;
  auto frontend = ConnectToServer(o);
  ASSERT_TRUE(frontend.ok()) << frontend.status().ToString();
  Client(**frontend).StartWorkflow("wf", {.id = "w"}, std::string("x"));  // connected
  forwarder.Freeze();
  v1::GetWorkflowExecutionHistoryRequest next_event;  // a long poll: no data for a while
  next_event.mutable_workflow_execution()->set_workflow_id("w");
  next_event.set_first_event_id(100);
  next_event.set_wait_new_event(true);
  auto call = std::async(std::launch::async, [&] { return (*frontend)->GetWorkflowExecutionHistory(next_event); });
  // A guard, not a measurement: without the keepalive the call would wait an hour (the
  // cut then ends it, so that the test fails rather than hangs).
  if (call.wait_for(2min) != std::future_status::ready) {
    forwarder.Cut();
    FAIL() << "the call on the silent connection did not end";
  }
  EXPECT_EQ(call.get().status().code(), StatusCode::kUnavailable);
}

// A worker connected to keeld through a forwarder the test breaks while the worker's one
// activity ("hold", until the test releases it) runs; the test reads through a connection
// of its own.
class BrokenConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    so_ = LoopbackKeeld(dir_);
    auto server = server::Server::Start(so_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    forwarder_ = std::make_unique<keel::testing::TcpForwarder>(server_->address());
    registry_.RegisterWorkflow("hold", Hold);
    hold_.RegisterIn(registry_);
    ConnectOptions o;
    o.address = forwarder_->address();
    o.keepalive = keepalive_;
    o.keepalive_timeout = 200ms;
    auto frontend = ConnectToServer(o);
    ASSERT_TRUE(frontend.ok()) << frontend.status().ToString();
    worker_frontend_ = std::move(frontend).value();
    worker_ = std::make_unique<Worker>(*worker_frontend_, registry_);
    worker_->Start();
    // Its streams opened ahead on all its connections: the forwarder breaks each of them.
    ASSERT_TRUE(forwarder_->AwaitAccepted(static_cast<size_t>(o.stream_connections), 30s));
    direct_ = Connect(server_->address(), 30s);
    Client(*direct_).StartWorkflow("hold", {.id = "w"}, std::string("kept"));
    ASSERT_TRUE(hold_.AwaitStarted());
  }
  void TearDown() override {
    hold_.Release();
    if (worker_) worker_->Stop();
  }
  void Release() { hold_.Release(); }
  // The run completed, its activity ran once and its result is recorded once.
  void ExpectCompletedOnce() {
    keel::ExpectCompletedOnce(*direct_);
    EXPECT_EQ(hold_.runs(), 1);
  }

  Duration keepalive_ = 200ms;  // set before SetUp; a frozen connection ends soon
  keel::testing::TempDir dir_;
  server::ServerOptions so_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<keel::testing::TcpForwarder> forwarder_;
  Registry registry_;
  HoldActivity hold_;
  std::unique_ptr<Frontend> worker_frontend_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<Frontend> direct_;
};

// keeld records the activity's result, and the connection breaks before the answer
// reaches the worker (keeld did not mark the message unprocessed: it may have been). The
// worker sends the result again by a call of its own; keeld refuses the repeat.
class AnswerLostTest : public BrokenConnectionTest {
 protected:
  void SetUp() override {
    keepalive_ = Duration::zero();  // the cut, not a ping, breaks the connection
    BrokenConnectionTest::SetUp();
  }
};

TEST_F(AnswerLostTest, AResultWhoseAnswerWasLostIsRecordedOnce) {
  forwarder_->FreezeReplies();
  Release();
  ASSERT_TRUE(AwaitEvent(*direct_, [](const v1::HistoryEvent& e) { return e.has_activity_task_completed(); }));
  forwarder_->Cut();
  ExpectCompletedOnce();
}

// The connection goes silent before the result reaches keeld: the keepalive ends it, and
// the worker sends the result again on a new connection. It is not lost.
TEST_F(BrokenConnectionTest, AResultSentIntoADeadConnectionIsNotLost) {
  forwarder_->Freeze();
  Release();
  ExpectCompletedOnce();
}

// A keeld that answers every activity result with `refusals` RESOURCE_EXHAUSTED first (its
// disk is full) and then takes it; it has no WorkerStream, so results come as calls.
class DiskFullKeeld final : public v1::WorkflowService::Service {
 public:
  explicit DiskFullKeeld(int refusals) : refusals_(refusals) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);
    server_ = builder.BuildAndStart();
  }
  ~DiskFullKeeld() override { server_->Shutdown(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int calls() const { return calls_.load(); }

  grpc::Status RespondActivityTaskCompleted(grpc::ServerContext*, const v1::RespondActivityTaskCompletedRequest*,
                                            v1::RespondActivityTaskCompletedResponse*) override {
    if (calls_.fetch_add(1) < refusals_) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "database or disk is full (SQLITE_FULL)");
    }
    return grpc::Status::OK;
  }

 private:
  const int refusals_;
  std::atomic<int> calls_{0};
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// keeld cannot write a result (disk full): the worker sends it again until keeld takes
// it, rather than dropping it and having the activity run again.
TEST(RemoteReconnectTest, AResultKeeldCannotWriteYetIsSentAgain) {
  DiskFullKeeld keeld(/*refusals=*/2);
  auto frontend = Connect(keeld.address());
  v1::RespondActivityTaskCompletedRequest done;
  done.set_task_token("token");
  auto answer = frontend->RespondActivityTaskCompleted(done);
  EXPECT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(keeld.calls(), 3);
}

// A result over gRPC's send limit (which gRPC would refuse on the worker's side with
// RESOURCE_EXHAUSTED, as for a full disk) never could be sent: it is refused at once as
// bad input, and not tried again.
TEST(RemoteReconnectTest, AResultTooLargeToSendIsRefusedAtOnce) {
  DiskFullKeeld keeld(/*refusals=*/0);
  auto frontend = Connect(keeld.address());
  v1::RespondActivityTaskCompletedRequest done;
  done.set_task_token("token");
  done.mutable_result()->add_payloads()->set_data(std::string(17 * 1024 * 1024, 'x'));
  auto answer = frontend->RespondActivityTaskCompleted(done);
  EXPECT_EQ(answer.status().code(), StatusCode::kInvalidArgument) << answer.status().ToString();
  EXPECT_NE(answer.status().message().find("over gRPC's send limit"), std::string::npos) << answer.status().ToString();
  EXPECT_EQ(keeld.calls(), 0);
}

// A result that cannot reach keeld within deliver_wait fails with UNAVAILABLE, and says so
// in the worker's log (keeld runs the task again when its timeout expires).
TEST(RemoteReconnectTest, AResultGivesUpAfterDeliverWait) {
  keel::testing::LogLines lines;
  ConnectOptions o;
  o.address = UnusedAddress();
  o.connect_wait = 10ms;
  o.deliver_wait = 100ms;
  auto frontend = ConnectToServer(o);
  ASSERT_TRUE(frontend.ok());
  v1::RespondActivityTaskFailedRequest failed;
  failed.set_task_token("token");
  auto answer = (*frontend)->RespondActivityTaskFailed(failed);
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(answer.status().message().find("did not take the result in time"), std::string::npos)
      << answer.status().ToString();
  EXPECT_EQ(lines.Count("results wait for it"), 1);
  EXPECT_EQ(lines.Count("was not delivered"), 1);
  EXPECT_EQ(lines.Count("is back"), 0);
}

}  // namespace
}  // namespace keel
