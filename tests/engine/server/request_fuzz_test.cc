// Deterministic fuzzing of request validation: a few thousand seeded-random mutations of
// serialized requests of every WorkflowService RPC (bits flipped, bytes inserted, deleted,
// duplicated, truncated), parsed back and sent to a real keeld Server on loopback. Every
// answer must be one a client can act on (OK, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS,
// FAILED_PRECONDITION; DEADLINE_EXCEEDED for a query nobody answers), never INTERNAL or
// UNKNOWN, and the server must survive. Workflow and activity task completions are also
// fuzzed with live task tokens, so their commands and outcomes get past the token check.
// KEEL_FUZZ_SEED and KEEL_FUZZ_ROUNDS override the seed and the number of rounds.
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "keel/v1/execution_state.pb.h"
#include "tests/engine/server/server_fixture.h"

namespace keel::testing {
namespace {

using grpc::StatusCode;
using Message = google::protobuf::Message;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

// One to four byte-level mutations of `bytes`.
std::string Mutate(std::string bytes, std::mt19937_64& rng) {
  auto below = [&rng](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  const int count = 1 + static_cast<int>(below(4));
  for (int i = 0; i < count; ++i) {
    switch (below(7)) {
      case 0:  // flip a bit
        if (!bytes.empty()) bytes[below(bytes.size())] ^= static_cast<char>(1 << below(8));
        break;
      case 1:  // overwrite a byte, often with a value that matters in varints and tags
        if (!bytes.empty()) {
          static const unsigned char kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xff,
                                                       0x08, 0x10, 0x12, 0x1a, 0x22};
          bytes[below(bytes.size())] =
              static_cast<char>(below(2) ? kInteresting[below(sizeof(kInteresting))] : rng());
        }
        break;
      case 2: {  // insert random bytes
        std::string junk(1 + below(8), '\0');
        for (auto& c : junk) c = static_cast<char>(rng());
        bytes.insert(below(bytes.size() + 1), junk);
        break;
      }
      case 3:  // delete a range
        if (!bytes.empty()) {
          size_t at = below(bytes.size());
          bytes.erase(at, 1 + below(std::min<size_t>(16, bytes.size() - at)));
        }
        break;
      case 4:  // duplicate a range (repeats fields, grows strings)
        if (!bytes.empty()) {
          size_t at = below(bytes.size());
          std::string piece = bytes.substr(at, 1 + below(32));
          bytes.insert(below(bytes.size() + 1), piece);
        }
        break;
      case 5:  // truncate
        bytes.resize(below(bytes.size() + 1));
        break;
      case 6: {  // append a field with a random tag and a varint value
        uint32_t tag = static_cast<uint32_t>(1 + below(40)) << 3;
        bytes.push_back(static_cast<char>(tag & 0x7f));
        uint64_t v = rng() >> below(64);
        do {
          unsigned char b = v & 0x7f;
          v >>= 7;
          bytes.push_back(static_cast<char>(v ? (b | 0x80) : b));
        } while (v);
        break;
      }
    }
  }
  return bytes;
}

v1::Payloads Json(const std::string& data) {
  v1::Payloads p;
  auto* one = p.add_payloads();
  (*one->mutable_metadata())["encoding"] = "json/plain";
  one->set_data(data);
  return p;
}

class RequestFuzzTest : public ServerFixture {
 protected:
  void SetUp() override {
    google::protobuf::SetLogHandler(nullptr);  // mutated strings make the parser complain
    server::ServerOptions o;
    o.engine.poll_timeout = std::chrono::milliseconds(5);
    o.engine.durability = Durability::kOff;
    StartServer(o);
  }

  template <typename Resp, typename Req, typename Method>
  Resp Must(Method method, const Req& request) {
    Resp resp;
    auto c = Context();
    grpc::Status st = ((*stub_).*method)(c.get(), request, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }

  std::string StartOn(const std::string& id, const std::string& queue) {
    v1::StartWorkflowExecutionRequest r;
    r.set_workflow_id(id);
    r.set_workflow_type("t");
    r.set_task_queue(queue);
    return Must<v1::StartWorkflowExecutionResponse>(
               &v1::WorkflowService::Stub::StartWorkflowExecution, r)
        .run_id();
  }
  v1::PollWorkflowTaskQueueResponse PollWorkflow(const std::string& queue) {
    v1::PollWorkflowTaskQueueRequest r;
    r.set_task_queue(queue);
    r.set_identity("live-poller");
    return Must<v1::PollWorkflowTaskQueueResponse>(
        &v1::WorkflowService::Stub::PollWorkflowTaskQueue, r);
  }
  // A workflow on its own queue whose first task scheduled an activity; the activity's token.
  std::string LiveActivityToken(const std::string& id) {
    StartOn(id, id);
    auto task = PollWorkflow(id);
    v1::RespondWorkflowTaskCompletedRequest done;
    done.set_task_token(task.task_token());
    auto* a = done.add_commands()->mutable_schedule_activity_task();
    a->set_activity_id("a");
    a->set_activity_type("act");
    a->set_task_queue(id + "-act");
    a->mutable_start_to_close_timeout()->set_seconds(3600);
    a->mutable_heartbeat_timeout()->set_seconds(3600);
    a->mutable_retry_policy()->set_maximum_attempts(2);
    Must<v1::RespondWorkflowTaskCompletedResponse>(
        &v1::WorkflowService::Stub::RespondWorkflowTaskCompleted, done);
    v1::PollActivityTaskQueueRequest poll;
    poll.set_task_queue(id + "-act");
    poll.set_identity("live-poller");
    auto atask = Must<v1::PollActivityTaskQueueResponse>(
        &v1::WorkflowService::Stub::PollActivityTaskQueue, poll);
    EXPECT_FALSE(atask.task_token().empty());
    return atask.task_token();
  }

  // Sends a mutation of `bytes` that parses as a request of `rpc` (most do not: a string
  // must stay UTF-8, a length must fit), `bytes` itself when `mutate` is null; false when
  // no try parsed.
  bool Send(const RpcInfo& rpc, const std::string& bytes, std::mt19937_64* mutate, uint64_t seed,
            int round, const std::function<void(Message&)>& fix = nullptr) {
    auto request = rpc.new_request();
    bool parsed = false;
    for (int tries = 0; tries < 50 && !parsed; ++tries) {
      parsed = request->ParseFromString(mutate ? Mutate(bytes, *mutate) : bytes);
    }
    if (!parsed) return false;
    if (fix) fix(*request);
    grpc::Status st = Call(rpc, *request);
    static const std::set<StatusCode> kFine = {StatusCode::OK, StatusCode::INVALID_ARGUMENT,
                                               StatusCode::NOT_FOUND, StatusCode::ALREADY_EXISTS,
                                               StatusCode::FAILED_PRECONDITION};
    bool fine = kFine.count(st.error_code()) > 0 ||
                (rpc.name == "QueryWorkflow" && st.error_code() == StatusCode::DEADLINE_EXCEEDED);
    EXPECT_TRUE(fine) << rpc.name << " answered " << st.error_code() << " \"" << st.error_message()
                      << "\" (KEEL_FUZZ_SEED=" << seed << ", round " << round << ") to:\n"
                      << request->DebugString().substr(0, 2000);
    ++codes_[st.error_code()];
    return true;
  }

  std::map<StatusCode, int> codes_;
};

// Completions full of commands of every kind, for the live-token rounds.
std::vector<v1::RespondWorkflowTaskCompletedRequest> CompletionSeeds() {
  std::vector<v1::RespondWorkflowTaskCompletedRequest> seeds;
  v1::RespondWorkflowTaskCompletedRequest r;
  r.set_identity("live-poller");
  r.set_binary_checksum("build-1");
  auto* a = r.add_commands()->mutable_schedule_activity_task();
  a->set_activity_id("1");
  a->set_activity_type("act");
  *a->mutable_input() = Json("[1]");
  a->mutable_start_to_close_timeout()->set_seconds(30);
  a->mutable_retry_policy()->set_backoff_coefficient(2);
  a->mutable_retry_policy()->mutable_initial_interval()->set_seconds(1);
  auto* t = r.add_commands()->mutable_start_timer();
  t->set_timer_id("t1");
  t->mutable_start_to_fire_timeout()->set_seconds(60);
  auto* m = r.add_commands()->mutable_record_marker();
  m->set_marker_name("side_effect");
  (*m->mutable_details())["data"] = Json("42");
  (*r.add_commands()->mutable_upsert_workflow_search_attributes()->mutable_search_attributes())["k"]
      .set_data("7");
  seeds.push_back(r);

  v1::RespondWorkflowTaskCompletedRequest c;
  auto* child = c.add_commands()->mutable_start_child_workflow_execution();
  child->set_workflow_id("child");
  child->set_workflow_type("t");
  child->mutable_workflow_run_timeout()->set_seconds(100);
  auto* sig = c.add_commands()->mutable_signal_external_workflow_execution();
  sig->mutable_execution()->set_workflow_id("w-main");
  sig->set_signal_name("s");
  *sig->mutable_input() = Json("1");
  c.add_commands()->mutable_cancel_timer()->set_timer_id("t1");
  c.add_commands()->mutable_request_cancel_activity_task()->set_scheduled_event_id(5);
  seeds.push_back(c);

  v1::RespondWorkflowTaskCompletedRequest done;
  *done.add_commands()->mutable_complete_workflow_execution()->mutable_result() = Json("\"ok\"");
  seeds.push_back(done);
  v1::RespondWorkflowTaskCompletedRequest fail;
  auto* f = fail.add_commands()->mutable_fail_workflow_execution()->mutable_failure();
  f->set_message("boom");
  f->mutable_application_failure_info()->set_type("E");
  seeds.push_back(fail);
  v1::RespondWorkflowTaskCompletedRequest can;
  auto* cn = can.add_commands()->mutable_continue_as_new_workflow_execution();
  cn->set_workflow_type("t");
  *cn->mutable_input() = Json("2");
  cn->mutable_workflow_run_timeout()->set_seconds(100);
  seeds.push_back(can);
  return seeds;
}

TEST_F(RequestFuzzTest, MutatedRequestsGetClearAnswers) {
  const uint64_t seed = EnvOr("KEEL_FUZZ_SEED", 20261122);
  const int rounds = static_cast<int>(EnvOr("KEEL_FUZZ_ROUNDS", 150));
  std::mt19937_64 rng(seed);
  SCOPED_TRACE("KEEL_FUZZ_SEED=" + std::to_string(seed));

  // Something to aim at: a running workflow past its first task, and live tokens.
  const std::string main_run = StartOn("w-main", "main");
  auto first = PollWorkflow("main");
  v1::RespondWorkflowTaskCompletedRequest nothing;
  nothing.set_task_token(first.task_token());
  Must<v1::RespondWorkflowTaskCompletedResponse>(
      &v1::WorkflowService::Stub::RespondWorkflowTaskCompleted, nothing);
  const std::string activity_token = LiveActivityToken("w-act");
  StartOn("w-task", "task");
  const std::string workflow_token = PollWorkflow("task").task_token();
  v1::TaskToken query_token;
  query_token.set_kind(v1::TaskToken::KIND_QUERY);
  query_token.set_workflow_id("w-main");
  query_token.set_run_id(main_run);
  query_token.set_query_id(1);

  v1::WorkflowExecution main;
  main.set_workflow_id("w-main");
  main.set_run_id(main_run);
  std::map<std::string, std::vector<std::string>> seeds;
  auto add = [&seeds](const std::string& rpc, const Message& m) {
    seeds[rpc].push_back(m.SerializeAsString());
  };
  v1::StartWorkflowExecutionRequest start_seed;  // also sent on the stream
  {
    v1::StartWorkflowExecutionRequest r;
    r.set_workflow_id("f-start");
    r.set_workflow_type("t");
    r.set_task_queue("fuzz");
    *r.mutable_input() = Json("[\"x\"]");
    r.mutable_workflow_execution_timeout()->set_seconds(3600);
    r.mutable_workflow_run_timeout()->set_seconds(600);
    r.mutable_workflow_task_timeout()->set_seconds(10);
    r.set_identity("fuzzer");
    r.set_request_id("req-1");
    r.set_workflow_id_reuse_policy(v1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE);
    auto* p = r.mutable_retry_policy();
    p->mutable_initial_interval()->set_seconds(1);
    p->set_backoff_coefficient(2);
    p->mutable_maximum_interval()->set_seconds(10);
    p->set_maximum_attempts(3);
    p->add_non_retryable_error_types("Fatal");
    (*r.mutable_memo())["note"].set_data("\"hi\"");
    (*r.mutable_search_attributes())["CustomerId"].set_data("\"c-1\"");
    add("StartWorkflowExecution", r);
    start_seed = r;
    v1::SignalWithStartWorkflowExecutionRequest sw;
    *sw.mutable_start() = r;
    sw.set_signal_name("go");
    *sw.mutable_signal_input() = Json("1");
    add("SignalWithStartWorkflowExecution", sw);
    sw.mutable_start()->set_workflow_id("w-main");
    add("SignalWithStartWorkflowExecution", sw);
  }
  {
    v1::SignalWorkflowExecutionRequest r;
    *r.mutable_workflow_execution() = main;
    r.set_signal_name("s");
    *r.mutable_input() = Json("{\"a\":1}");
    r.set_identity("fuzzer");
    r.set_request_id("sig-1");
    add("SignalWorkflowExecution", r);
  }
  {
    v1::RequestCancelWorkflowExecutionRequest r;
    r.mutable_workflow_execution()->set_workflow_id("f-start");
    r.set_reason("because");
    r.set_identity("fuzzer");
    add("RequestCancelWorkflowExecution", r);
    v1::TerminateWorkflowExecutionRequest t;
    t.mutable_workflow_execution()->set_workflow_id("f-start");
    t.set_reason("enough");
    *t.mutable_details() = Json("0");
    add("TerminateWorkflowExecution", t);
  }
  {
    v1::DescribeWorkflowExecutionRequest d;
    *d.mutable_workflow_execution() = main;
    add("DescribeWorkflowExecution", d);
    v1::ListWorkflowExecutionsRequest l;
    l.set_page_size(5);
    l.set_workflow_type("t");
    l.set_status(v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
    l.mutable_start_time_min()->set_seconds(1700000000);
    l.set_next_page_token("100");
    (*l.mutable_search_attributes())["CustomerId"].set_data("\"c-1\"");
    add("ListWorkflowExecutions", l);
    v1::GetWorkflowExecutionHistoryRequest h;
    *h.mutable_workflow_execution() = main;
    h.set_first_event_id(2);
    h.set_maximum_page_size(3);
    h.set_next_page_token("2");
    add("GetWorkflowExecutionHistory", h);
    h.set_wait_new_event(true);
    h.set_first_event_id(100);
    add("GetWorkflowExecutionHistory", h);
    v1::GetWorkflowExecutionResultRequest res;
    *res.mutable_workflow_execution() = main;
    res.set_wait(true);
    res.set_follow_runs(true);
    add("GetWorkflowExecutionResult", res);
    v1::QueryWorkflowRequest q;
    *q.mutable_workflow_execution() = main;
    q.set_query_type("state");
    *q.mutable_query_args() = Json("[]");
    add("QueryWorkflow", q);
  }
  {
    v1::PollWorkflowTaskQueueRequest pw;
    pw.set_task_queue("fuzz");
    pw.set_identity("fuzzer");
    add("PollWorkflowTaskQueue", pw);
    v1::PollActivityTaskQueueRequest pa;
    pa.set_task_queue("fuzz");
    pa.set_identity("fuzzer");
    add("PollActivityTaskQueue", pa);
    v1::ShutdownWorkerRequest s;
    s.set_identity("fuzzer-gone");
    add("ShutdownWorker", s);
    for (auto c : CompletionSeeds()) {
      c.set_task_token(workflow_token);
      add("RespondWorkflowTaskCompleted", c);
    }
    v1::RespondWorkflowTaskFailedRequest wf;
    wf.set_task_token(workflow_token);
    wf.set_cause(v1::WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR);
    wf.mutable_failure()->set_message("nondeterminism");
    wf.mutable_failure()->mutable_cause()->set_message("inner");
    wf.set_identity("fuzzer");
    add("RespondWorkflowTaskFailed", wf);
    v1::RespondQueryTaskCompletedRequest qr;
    qr.set_task_token(query_token.SerializeAsString());
    *qr.mutable_query_result() = Json("1");
    qr.set_error_message("no such query");
    add("RespondQueryTaskCompleted", qr);
    v1::RecordActivityTaskHeartbeatRequest hb;
    hb.set_task_token(activity_token);
    *hb.mutable_details() = Json("3");
    add("RecordActivityTaskHeartbeat", hb);
    v1::RespondActivityTaskCompletedRequest ac;
    ac.set_task_token(activity_token);
    *ac.mutable_result() = Json("\"done\"");
    add("RespondActivityTaskCompleted", ac);
    v1::RespondActivityTaskFailedRequest af;
    af.set_task_token(activity_token);
    af.mutable_failure()->set_message("failed");
    af.mutable_failure()
        ->mutable_application_failure_info()
        ->mutable_next_retry_delay()
        ->set_seconds(5);
    *af.mutable_last_heartbeat_details() = Json("4");
    add("RespondActivityTaskFailed", af);
    v1::RespondActivityTaskCanceledRequest cc;
    cc.set_task_token(activity_token);
    *cc.mutable_details() = Json("5");
    add("RespondActivityTaskCanceled", cc);
    // The stream carries the two polls, the two completions and the start.
    v1::WorkerStreamRequest ws;
    *ws.mutable_poll_workflow_task_queue() = pw;
    ws.mutable_max_wait()->set_nanos(1000000);
    add("WorkerStream", ws);
    *ws.mutable_poll_activity_task_queue() = pa;
    add("WorkerStream", ws);
    ws.clear_max_wait();
    *ws.mutable_respond_workflow_task_completed() = CompletionSeeds()[0];
    ws.mutable_respond_workflow_task_completed()->set_task_token(workflow_token);
    add("WorkerStream", ws);
    *ws.mutable_respond_activity_task_completed() = ac;
    add("WorkerStream", ws);
    *ws.mutable_start_workflow_execution() = start_seed;
    ws.mutable_max_wait()->set_nanos(1000000);
    add("WorkerStream", ws);
  }
  ASSERT_EQ(seeds.size(), AllRpcs().size());

  // 1. Every RPC, mutated requests (the seeds themselves first).
  int sent = 0;
  for (const auto& rpc : AllRpcs()) {
    for (const auto& s : seeds[rpc.name]) sent += Send(rpc, s, nullptr, seed, -1);
    for (int round = 0; round < rounds; ++round) {
      const auto& options = seeds[rpc.name];
      sent += Send(rpc, options[rng() % options.size()], &rng, seed, round);
    }
  }
  // 2. Completions and activity outcomes with live tokens: the fuzz reaches the commands.
  const auto completions = CompletionSeeds();
  for (int round = 0; round < rounds; ++round) {
    const std::string id = "live-" + std::to_string(round);
    StartOn(id, id);
    const std::string token = PollWorkflow(id).task_token();
    const auto& base = completions[rng() % completions.size()];
    const bool failed = rng() % 4 == 0;
    auto set_token = [&token](Message& m) {
      m.GetReflection()->SetString(&m, m.GetDescriptor()->FindFieldByName("task_token"), token);
    };
    const std::string bytes =
        failed ? seeds["RespondWorkflowTaskFailed"][0] : base.SerializeAsString();
    sent += Send(Rpc(failed ? "RespondWorkflowTaskFailed" : "RespondWorkflowTaskCompleted"), bytes,
                 &rng, seed, round, set_token);
  }
  static const char* kActivityRpcs[] = {"RecordActivityTaskHeartbeat",
                                        "RespondActivityTaskCompleted", "RespondActivityTaskFailed",
                                        "RespondActivityTaskCanceled"};
  for (int round = 0; round < rounds / 2; ++round) {
    const std::string token = LiveActivityToken("act-" + std::to_string(round));
    auto set_token = [&token](Message& m) {
      m.GetReflection()->SetString(&m, m.GetDescriptor()->FindFieldByName("task_token"), token);
    };
    const std::string name = kActivityRpcs[rng() % 4];
    sent += Send(Rpc(name), seeds[name][0], &rng, seed, round, set_token);
  }

  // The server still serves, and the fuzz reached past validation (not everything rejected).
  v1::DescribeWorkflowExecutionRequest d;
  d.mutable_workflow_execution()->set_workflow_id("w-main");
  Must<v1::DescribeWorkflowExecutionResponse>(&v1::WorkflowService::Stub::DescribeWorkflowExecution,
                                              d);
  std::string summary;
  for (const auto& [code, n] : codes_)
    summary += " " + std::to_string(code) + ":" + std::to_string(n);
  std::printf("sent %d parsed requests; answers by gRPC code:%s\n", sent, summary.c_str());
  EXPECT_GT(sent, rounds * 20);
  EXPECT_GT(codes_[StatusCode::OK], rounds);
  EXPECT_GT(codes_[StatusCode::INVALID_ARGUMENT], rounds);
}

}  // namespace
}  // namespace keel::testing
