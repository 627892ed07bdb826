// ConnectToServer while keeld is away: worker polls wait for it instead of failing (so a
// worker does not back off further and further while keeld restarts), ShutdownWorker
// ends them even when keeld is unreachable, other calls get through as soon as keeld is
// back, and a worker goes on with a keeld restarted on the same port and database.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>

#include "engine/client.h"
#include "engine/grpc_frontend.h"
#include "engine/server/server.h"
#include "engine/worker.h"
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
  server::ServerOptions so;
  so.engine.db_path = dir.File("keel.db");
  so.engine.poll_timeout = 2s;
  so.listen = "127.0.0.1:0";
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

}  // namespace
}  // namespace keel
