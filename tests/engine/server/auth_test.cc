// Authentication and authorization of every WorkflowService RPC, table-driven over the
// service: no token, a wrong token or a malformed authorization header → UNAUTHENTICATED;
// a principal without the role the RPC's kind needs → PERMISSION_DENIED naming the
// principal (never the token); the right role passes authentication. Nothing a refused
// call sends is written.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "engine/remote/worker_stream_client.h"
#include "tests/engine/server/server_fixture.h"

namespace keel::testing {
namespace {

using server::Access;

const std::string kAdmin = "admin-token-0123456789abcdef";
const std::string kClient = "client-token-0123456789abcdef";
const std::string kWorker = "worker-token-0123456789abcdef";
const std::string kReviewer = "reviewer-token-0123456789abcdef";
const std::string kAll[] = {kAdmin, kClient, kWorker, kReviewer};

class AuthTest : public ServerFixture {
 protected:
  void SetUp() override {
    std::string tokens = dir_.File("tokens");
    std::ofstream(tokens) << "# token principal roles\n"
                          << kAdmin << " root admin\n"
                          << kClient << " alice client\n"
                          << kWorker << " bot worker\n"
                          << kReviewer << " carol reviewer:legal\n";
    server::ServerOptions o;
    o.tokens_file = tokens;
    o.engine.poll_timeout = std::chrono::milliseconds(100);
    StartServer(o);
    // One running workflow, so that refused calls have something they could change.
    v1::StartWorkflowExecutionRequest start;
    start.set_workflow_id("w1");
    start.set_workflow_type("t");
    ASSERT_TRUE(Call(Rpc("StartWorkflowExecution"), start, kClient).ok());
  }

  // Tokens of principals that may not call an RPC of this kind (reading is open to every role).
  static std::vector<std::pair<std::string, std::string>> Refused(Access access) {
    switch (access) {
      case Access::kClient:
        return {{kWorker, "bot"}, {kReviewer, "carol"}};
      case Access::kWorker:
        return {{kClient, "alice"}, {kReviewer, "carol"}};
      case Access::kRead:
        return {};
      case Access::kClientOrWorker:
        return {{kReviewer, "carol"}};
    }
    return {};
  }
  // Tokens that may.
  static std::vector<std::string> Allowed(Access access) {
    switch (access) {
      case Access::kClient:
        return {kAdmin, kClient};
      case Access::kWorker:
        return {kAdmin, kWorker};
      case Access::kRead:
        return {kAdmin, kClient, kWorker, kReviewer};
      case Access::kClientOrWorker:
        return {kAdmin, kClient, kWorker};
    }
    return {};
  }
};

void ExpectNoToken(const grpc::Status& st) {
  for (const auto& token : kAll) {
    EXPECT_EQ(st.error_message().find(token), std::string::npos)
        << "a token leaked: " << st.error_message();
  }
}

TEST_F(AuthTest, TheTableCoversEveryRpcOfTheService) {
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      "keel.v1.WorkflowService");
  ASSERT_NE(service, nullptr);
  std::set<std::string> in_service, in_table;
  for (int i = 0; i < service->method_count(); ++i) in_service.insert(service->method(i)->name());
  for (const auto& rpc : AllRpcs()) in_table.insert(rpc.name);
  EXPECT_EQ(in_service, in_table);
}

TEST_F(AuthTest, EveryRpcRefusesCallsWithoutAValidToken) {
  const std::string before = SnapshotDatabase(DbPath());
  for (const auto& rpc : AllRpcs()) {
    SCOPED_TRACE(rpc.name);
    auto request = rpc.new_request();
    struct Case {
      const char* what;
      std::vector<std::string> metadata;  // authorization values; empty = none
      const char* message;
    };
    const Case cases[] = {
        {"no token", {}, "missing"},
        {"wrong token", {"Bearer wrong-token-0123456789abcdef"}, "unknown token"},
        {"a token's prefix", {"Bearer " + kAdmin.substr(0, 20)}, "unknown token"},
        {"not a bearer header", {"Basic " + kAdmin}, "Bearer <token>"},
        {"lower-case scheme", {"bearer " + kAdmin}, "Bearer <token>"},
        {"the token alone", {kAdmin}, "Bearer <token>"},
    };
    for (const auto& c : cases) {
      SCOPED_TRACE(c.what);
      auto context = Context();
      for (const auto& m : c.metadata) context->AddMetadata("authorization", m);
      grpc::Status st = rpc.call(*stub_, context.get(), *request);
      EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
      EXPECT_NE(st.error_message().find(c.message), std::string::npos) << st.error_message();
      ExpectNoToken(st);
    }
  }
  EXPECT_EQ(SnapshotDatabase(DbPath()), before);
}

TEST_F(AuthTest, EveryRpcRefusesPrincipalsWithoutItsRole) {
  // Requests that would change something if they were let through.
  v1::StartWorkflowExecutionRequest start;
  start.set_workflow_id("w2");
  start.set_workflow_type("t");
  v1::SignalWorkflowExecutionRequest signal;
  signal.mutable_workflow_execution()->set_workflow_id("w1");
  signal.set_signal_name("s");
  v1::TerminateWorkflowExecutionRequest terminate;
  terminate.mutable_workflow_execution()->set_workflow_id("w1");
  v1::RequestCancelWorkflowExecutionRequest cancel;
  cancel.mutable_workflow_execution()->set_workflow_id("w1");
  // A client may open the stream (for its starts) but not poll on it.
  v1::WorkerStreamRequest stream_poll;
  stream_poll.mutable_poll_workflow_task_queue()->set_task_queue("default");
  stream_poll.mutable_max_wait()->set_nanos(1000000);
  const std::map<std::string, const google::protobuf::Message*> meaningful = {
      {"StartWorkflowExecution", &start},
      {"SignalWorkflowExecution", &signal},
      {"TerminateWorkflowExecution", &terminate},
      {"RequestCancelWorkflowExecution", &cancel},
      {"WorkerStream", &stream_poll},
  };
  const std::string before = SnapshotDatabase(DbPath());
  int refusals = 0;
  for (const auto& rpc : AllRpcs()) {
    SCOPED_TRACE(rpc.name);
    auto empty = rpc.new_request();
    auto it = meaningful.find(rpc.name);
    const google::protobuf::Message& request = it != meaningful.end() ? *it->second : *empty;
    for (const auto& [token, principal] : Refused(rpc.access)) {
      SCOPED_TRACE(principal);
      grpc::Status st = Call(rpc, request, token);
      EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
      EXPECT_NE(st.error_message().find("principal '" + principal + "'"), std::string::npos)
          << st.error_message();
      // A message on an open stream is refused as the call it carries.
      const std::string call = rpc.name == "WorkerStream" && principal == "alice" ? "PollWorkflowTaskQueue" : rpc.name;
      EXPECT_NE(st.error_message().find("may not call " + call), std::string::npos) << st.error_message();
      ExpectNoToken(st);
      ++refusals;
    }
  }
  EXPECT_EQ(refusals, 2 * 5 + 2 * 11);  // client RPCs: 5, worker RPCs: 11 (with WorkerStream); reading is open to all
  EXPECT_EQ(SnapshotDatabase(DbPath()), before);
}

TEST_F(AuthTest, EveryRpcLetsPrincipalsWithItsRoleThrough) {
  for (const auto& rpc : AllRpcs()) {
    SCOPED_TRACE(rpc.name);
    auto request =
        rpc.new_request();  // empty: the engine answers INVALID_ARGUMENT (or OK for List)
    for (const auto& token : Allowed(rpc.access)) {
      grpc::Status st = Call(rpc, *request, token);
      EXPECT_NE(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
      EXPECT_NE(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
      EXPECT_TRUE(st.ok() || st.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
          << st.error_code() << " " << st.error_message();
    }
  }
}

TEST_F(AuthTest, ARefusedClientChangesNothingAndAnAllowedOneDoes) {
  v1::TerminateWorkflowExecutionRequest terminate;
  terminate.mutable_workflow_execution()->set_workflow_id("w1");
  const std::string before = SnapshotDatabase(DbPath());
  EXPECT_EQ(Call(Rpc("TerminateWorkflowExecution"), terminate, kWorker).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(SnapshotDatabase(DbPath()), before);
  // The snapshot does see a write: the same call by a client terminates the run.
  EXPECT_TRUE(Call(Rpc("TerminateWorkflowExecution"), terminate, kClient).ok());
  EXPECT_NE(SnapshotDatabase(DbPath()), before);
}

// A WorkerStream opens for a client or a worker; each message then needs the role of the
// call of its name. A refused message is answered with PERMISSION_DENIED, writes nothing,
// and the stream goes on.
TEST_F(AuthTest, EachWorkerStreamMessageNeedsTheRoleOfItsCall) {
  v1::WorkerStreamRequest start;
  start.mutable_start_workflow_execution()->set_workflow_id("w2");
  start.mutable_start_workflow_execution()->set_workflow_type("t");
  start.mutable_start_workflow_execution()->set_request_id("r-w2");
  v1::WorkerStreamRequest poll;
  poll.mutable_poll_workflow_task_queue()->set_task_queue("nothing-here");
  poll.mutable_poll_workflow_task_queue()->set_identity("bot-1");
  poll.mutable_max_wait()->set_nanos(1000000);
  auto exchange = [](auto& stream, const v1::WorkerStreamRequest& request) {
    v1::WorkerStreamResponse response;
    EXPECT_TRUE(stream->Write(request));
    EXPECT_TRUE(stream->Read(&response));
    return response;
  };
  const std::string before = SnapshotDatabase(DbPath());
  {
    auto context = Context(kWorker);
    auto stream = stub_->WorkerStream(context.get());
    auto refused = exchange(stream, start);
    EXPECT_EQ(refused.code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
    EXPECT_NE(refused.message().find("principal 'bot'"), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("may not call StartWorkflowExecution"), std::string::npos)
        << refused.message();
    ExpectNoToken(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, refused.message()));
    EXPECT_EQ(exchange(stream, poll).code(), 0);  // the stream goes on; a poll is the worker's
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
  EXPECT_EQ(SnapshotDatabase(DbPath()), before);
  {
    auto context = Context(kClient);
    auto stream = stub_->WorkerStream(context.get());
    auto refused = exchange(stream, poll);
    EXPECT_EQ(refused.code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
    EXPECT_NE(refused.message().find("principal 'alice'"), std::string::npos) << refused.message();
    auto started = exchange(stream, start);  // a start is the client's
    EXPECT_EQ(started.code(), 0) << started.message();
    EXPECT_FALSE(started.start_workflow_execution().run_id().empty());
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
  EXPECT_NE(SnapshotDatabase(DbPath()), before);
}

// The worker's stream client sees a refused message as the refusal of its call (it was
// sent: nothing to retry), and a refused stream as not sent, with the refusal.
TEST_F(AuthTest, TheStreamClientReportsRefusals) {
  auto with = [](const std::string& token) {
    return [token](grpc::ClientContext& c) { c.AddMetadata("authorization", "Bearer " + token); };
  };
  v1::WorkerStreamRequest start;
  start.mutable_start_workflow_execution()->set_workflow_id("w3");
  start.mutable_start_workflow_execution()->set_workflow_type("t");
  v1::WorkerStreamRequest poll;
  poll.mutable_poll_workflow_task_queue()->set_task_queue("nothing-here");
  poll.mutable_poll_workflow_task_queue()->set_identity("bot-1");
  poll.mutable_max_wait()->set_nanos(1000000);
  const std::string before = SnapshotDatabase(DbPath());
  {
    remote::WorkerStreamClient worker(*stub_, with(kWorker));
    bool sent = false;
    auto refused = worker.Call(start, std::chrono::seconds(30), &sent);
    EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << refused.status().ToString();
    EXPECT_NE(refused.status().message().find("may not call StartWorkflowExecution"), std::string::npos);
    EXPECT_TRUE(sent);
    auto polled = worker.Call(poll, std::chrono::seconds(30), &sent);  // the stream goes on
    EXPECT_TRUE(polled.ok()) << polled.status().ToString();
  }
  {
    remote::WorkerStreamClient reviewer(*stub_, with(kReviewer));
    bool sent = true;
    auto refused = reviewer.Call(poll, std::chrono::seconds(30), &sent);
    EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << refused.status().ToString();
    EXPECT_NE(refused.status().message().find("may not call WorkerStream"), std::string::npos);
    EXPECT_FALSE(sent);
    ExpectNoToken(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, refused.status().message()));
  }
  EXPECT_EQ(SnapshotDatabase(DbPath()), before);
}

TEST(TokensFileTest, BadFilesGetClearErrorsWithoutTheToken) {
  TempDir dir;
  struct Case {
    const char* content;
    const char* message;
  };
  const Case cases[] = {
      {"secret-token-0123456789 alice\n", "expected `TOKEN PRINCIPAL ROLE[,ROLE...]`"},
      {"secret-token-0123456789 alice client extra\n", "expected `TOKEN PRINCIPAL ROLE[,ROLE...]`"},
      {"short alice client\n", "at least 16 characters"},
      {"secret-token-0123456789 alice superuser\n", "unknown role 'superuser'"},
      {"secret-token-0123456789 alice reviewer:\n", "unknown role 'reviewer:'"},
      {"secret-token-0123456789 a client\nsecret-token-0123456789 b worker\n",
       "the same token appears twice"},
      {"# only a comment\n\n", "holds no tokens"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.content);
    std::string path = dir.File("tokens");
    std::ofstream(path) << c.content;
    auto auth = server::TokenAuth::Load(path);
    ASSERT_FALSE(auth.ok());
    EXPECT_EQ(auth.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(auth.status().message().find(c.message), std::string::npos)
        << auth.status().message();
    EXPECT_EQ(auth.status().message().find("secret-token"), std::string::npos)
        << auth.status().message();
  }
  auto missing = server::TokenAuth::Load(dir.File("no-such-file"));
  EXPECT_EQ(missing.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace keel::testing
