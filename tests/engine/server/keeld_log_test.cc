// keeld as a child process with a tokens file and debug logging: after refused and
// accepted calls made with tokens, neither its stdout nor its stderr holds any token
// (or a piece of one), while they do hold the principals' names. Also: keeld without a
// tokens file warns that authentication is off, and refuses a non-loopback address; bad
// flags are one line on stderr and exit 2, creating nothing.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/crash/child_process.h"
#include "tests/engine/server/server_fixture.h"

namespace keel::testing {
namespace {

const std::string kClient = "client-secret-7c1f9a2b44d0e5";
const std::string kWorker = "worker-secret-91be03d7a6c2f8";
const std::string kWrong = "wrong-secret-5a5e0c3b1f77d2";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts keeld and returns the address from its "keeld listening on ADDRESS (db ...)" line.
std::string AwaitListening(ChildProcess& keeld, std::string* stdout_text) {
  std::string line;
  while (keeld.ReadLine(&line)) {
    *stdout_text += line + "\n";
    const std::string prefix = "keeld listening on ";
    if (line.rfind(prefix, 0) == 0)
      return line.substr(prefix.size(), line.find(' ', prefix.size()) - prefix.size());
  }
  return "";
}

grpc::ClientContext* WithToken(grpc::ClientContext* context, const std::string& token) {
  context->set_deadline(Clock::System().Now() + std::chrono::seconds(30));
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

TEST(KeeldLogTest, TokensNeverAppearInKeeldsOutput) {
  TempDir dir;
  const std::string tokens = dir.File("tokens");
  std::ofstream(tokens) << kClient << " alice client\n" << kWorker << " bot worker\n";
  const std::string err_path = dir.File("keeld.err");
  setenv("KEEL_LOG_LEVEL", "debug", 1);
  ChildProcess keeld(
      {KEEL_KEELD, "--db", dir.File("keel.db"), "--listen", "127.0.0.1:0", "--tokens", tokens},
      err_path);
  std::string out;
  const std::string address = AwaitListening(keeld, &out);
  ASSERT_FALSE(address.empty()) << out << ReadAll(err_path);
  auto stub = v1::WorkflowService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));

  v1::StartWorkflowExecutionRequest start;
  start.set_workflow_id("w1");
  start.set_workflow_type("t");
  v1::StartWorkflowExecutionResponse started;
  v1::ListWorkflowExecutionsRequest list;
  v1::ListWorkflowExecutionsResponse listed;
  v1::PollActivityTaskQueueRequest poll;
  v1::PollActivityTaskQueueResponse polled;
  v1::DescribeWorkflowExecutionRequest describe;
  v1::DescribeWorkflowExecutionResponse described;
  {
    grpc::ClientContext c;
    EXPECT_TRUE(stub->StartWorkflowExecution(WithToken(&c, kClient), start, &started).ok());
  }
  {
    grpc::ClientContext c;  // a duplicate: an engine error, logged at debug level
    EXPECT_EQ(stub->StartWorkflowExecution(WithToken(&c, kClient), start, &started).error_code(),
              grpc::StatusCode::ALREADY_EXISTS);
  }
  {
    grpc::ClientContext c;
    EXPECT_TRUE(stub->ListWorkflowExecutions(WithToken(&c, kWorker), list, &listed).ok());
  }
  {
    grpc::ClientContext c;  // the wrong role
    EXPECT_EQ(stub->PollActivityTaskQueue(WithToken(&c, kClient), poll, &polled).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext c;  // an unknown token
    EXPECT_EQ(stub->ListWorkflowExecutions(WithToken(&c, kWrong), list, &listed).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext c;  // a token without "Bearer "
    c.AddMetadata("authorization", kClient);
    EXPECT_EQ(stub->ListWorkflowExecutions(&c, list, &listed).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext c;  // no token
    EXPECT_EQ(stub->DescribeWorkflowExecution(WithToken(&c, ""), describe, &described).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext c;  // accepted, then INVALID_ARGUMENT from the engine
    EXPECT_EQ(
        stub->DescribeWorkflowExecution(WithToken(&c, kWorker), describe, &described).error_code(),
        grpc::StatusCode::INVALID_ARGUMENT);
  }
  // Each call's log line is written before its response is sent, so everything is in.
  keeld.Kill();
  std::string line;
  while (keeld.ReadLine(&line)) out += line + "\n";
  keeld.Wait();
  const std::string all = out + ReadAll(err_path);

  // What keeld did log: the refusals and the engine errors, with principals' names.
  EXPECT_NE(all.find("PollActivityTaskQueue refused"), std::string::npos) << all;
  EXPECT_NE(all.find("principal 'alice'"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown token"), std::string::npos) << all;
  EXPECT_NE(all.find("StartWorkflowExecution by alice"), std::string::npos) << all;
  EXPECT_NE(all.find("DescribeWorkflowExecution by bot"), std::string::npos) << all;
  for (const auto& token : {kClient, kWorker, kWrong}) {
    // Any 8-byte piece of a token's secret part would be a leak.
    for (size_t i = token.find("secret"); i + 8 <= token.size(); ++i) {
      EXPECT_EQ(all.find(token.substr(i, 8)), std::string::npos)
          << "a piece of " << token << " leaked:\n"
          << all;
    }
  }
}

TEST(KeeldLogTest, WithoutTokensKeeldWarnsAndServesLoopbackOnly) {
  TempDir dir;
  {
    const std::string err_path = dir.File("open.err");
    ChildProcess keeld({KEEL_KEELD, "--db", dir.File("keel.db"), "--listen", "127.0.0.1:0"},
                       err_path);
    std::string out;
    ASSERT_FALSE(AwaitListening(keeld, &out).empty()) << ReadAll(err_path);
    keeld.Kill();
    keeld.Wait();
    EXPECT_NE(ReadAll(err_path).find("authentication is off; listening on loopback only"),
              std::string::npos)
        << ReadAll(err_path);
  }
  {
    const std::string err_path = dir.File("public.err");
    ChildProcess keeld({KEEL_KEELD, "--db", dir.File("keel.db"), "--listen", "0.0.0.0:0"},
                       err_path);
    std::string out, line;
    while (keeld.ReadLine(&line)) out += line + "\n";
    auto exit = keeld.Wait();
    EXPECT_TRUE(exit.exited && exit.code == 1) << exit.ToString();
    EXPECT_EQ(out.find("listening"), std::string::npos) << out;
    EXPECT_NE(ReadAll(err_path).find("refusing to listen on 0.0.0.0:0 without --tokens"),
              std::string::npos)
        << ReadAll(err_path);
  }
}

TEST(KeeldLogTest, BadFlagsAreOneLineAndExitTwo) {
  TempDir dir;
  const std::vector<std::vector<std::string>> bad = {
      {"--poll-timeout", "abc"}, {"--poll-timeout", "0"}, {"--poll-timeout", "5x"},
      {"--timer-threads", "-1"}, {"--durability", "sometimes"}, {"--no-such-flag"}, {"--db"},
      {"--recovery-hold", "-1"}, {"--recovery-hold", "3601"}, {"--recovery-hold", "10s"}};
  int i = 0;
  for (const auto& flags : bad) {
    const std::string err_path = dir.File("bad" + std::to_string(i++) + ".err");
    std::vector<std::string> argv = {KEEL_KEELD, "--db", dir.File("keel.db"), "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    ChildProcess keeld(argv, err_path);
    std::string out, line;
    while (keeld.ReadLine(&line)) out += line + "\n";
    auto exit = keeld.Wait();
    SCOPED_TRACE(flags[0]);
    EXPECT_TRUE(exit.exited && exit.code == 2) << exit.ToString();
    EXPECT_EQ(out, "");
    const std::string err = ReadAll(err_path);
    EXPECT_EQ(err.rfind("keeld: ", 0), 0u) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_NE(err.find(flags[0]), std::string::npos) << err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.File("keel.db")));  // nothing was created
}

}  // namespace
}  // namespace keel::testing
