// WorkerStream: a worker's polls and completions, and a client's starts, as messages on
// one open stream, served by keeld (engine/server/worker_stream.h) and used by the remote
// Frontend through remote::WorkerStreamClient. A real keeld Server on loopback, raw stubs.
#include <gtest/gtest.h>

#include <grpcpp/generic/generic_stub.h>

#include <future>
#include <thread>

#include "engine/remote/worker_stream_client.h"
#include "tests/engine/server/server_fixture.h"

namespace keel::testing {
namespace {

using grpc::StatusCode;
using namespace std::chrono_literals;
using Stream = grpc::ClientReaderWriter<v1::WorkerStreamRequest, v1::WorkerStreamResponse>;

class WorkerStreamTest : public ServerFixture {
 protected:
  void SetUp() override { StartServer(); }

  void Start(const std::string& id) {
    v1::StartWorkflowExecutionRequest start;
    start.set_workflow_id(id);
    start.set_workflow_type("t");
    start.set_task_queue("q");
    ASSERT_TRUE(Call(Rpc("StartWorkflowExecution"), start).ok());
  }

  static v1::WorkerStreamResponse Exchange(Stream& stream, const v1::WorkerStreamRequest& request) {
    v1::WorkerStreamResponse response;
    EXPECT_TRUE(stream.Write(request));
    EXPECT_TRUE(stream.Read(&response));
    return response;
  }

  static v1::WorkerStreamRequest PollWorkflow(Duration max_wait = 30s, const std::string& queue = "q") {
    v1::WorkerStreamRequest r;
    r.mutable_poll_workflow_task_queue()->set_task_queue(queue);
    r.mutable_poll_workflow_task_queue()->set_identity("stream-worker");
    r.mutable_max_wait()->set_seconds(std::chrono::duration_cast<std::chrono::seconds>(max_wait).count());
    r.mutable_max_wait()->set_nanos(
        static_cast<int32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(max_wait).count() % 1000000000));
    return r;
  }

  std::vector<v1::HistoryEvent::AttributesCase> Kinds(const std::string& id) {
    v1::GetWorkflowExecutionHistoryRequest r;
    r.mutable_workflow_execution()->set_workflow_id(id);
    v1::GetWorkflowExecutionHistoryResponse h;
    auto context = Context();
    EXPECT_TRUE(stub_->GetWorkflowExecutionHistory(context.get(), r, &h).ok());
    std::vector<v1::HistoryEvent::AttributesCase> kinds;
    for (const auto& e : h.history().events()) kinds.push_back(e.attributes_case());
    return kinds;
  }
};

// One stream carries a whole run: its workflow task, the activity it schedules, the
// activity's completion and the task that completes the workflow.
TEST_F(WorkerStreamTest, ARunsTasksAndCompletionsTravelOnOneStream) {
  Start("w1");
  auto context = Context();
  auto stream = stub_->WorkerStream(context.get());

  auto first = Exchange(*stream, PollWorkflow());
  ASSERT_EQ(first.code(), 0) << first.message();
  ASSERT_FALSE(first.poll_workflow_task_queue().task_token().empty());
  v1::WorkerStreamRequest schedule;
  auto* done = schedule.mutable_respond_workflow_task_completed();
  done->set_task_token(first.poll_workflow_task_queue().task_token());
  auto* a = done->add_commands()->mutable_schedule_activity_task();
  a->set_activity_id("1");
  a->set_activity_type("act");
  a->mutable_start_to_close_timeout()->set_seconds(30);
  auto scheduled = Exchange(*stream, schedule);
  ASSERT_EQ(scheduled.code(), 0) << scheduled.message();
  ASSERT_TRUE(scheduled.has_respond_workflow_task_completed());

  v1::WorkerStreamRequest poll_activity;
  poll_activity.mutable_poll_activity_task_queue()->set_task_queue("q");
  poll_activity.mutable_poll_activity_task_queue()->set_identity("stream-worker");
  auto activity = Exchange(*stream, poll_activity);
  ASSERT_EQ(activity.code(), 0) << activity.message();
  ASSERT_EQ(activity.poll_activity_task_queue().activity_type(), "act");
  v1::WorkerStreamRequest complete_activity;
  complete_activity.mutable_respond_activity_task_completed()->set_task_token(
      activity.poll_activity_task_queue().task_token());
  auto completed = Exchange(*stream, complete_activity);
  ASSERT_EQ(completed.code(), 0) << completed.message();

  auto last = Exchange(*stream, PollWorkflow());
  ASSERT_FALSE(last.poll_workflow_task_queue().task_token().empty());
  v1::WorkerStreamRequest finish;
  finish.mutable_respond_workflow_task_completed()->set_task_token(last.poll_workflow_task_queue().task_token());
  finish.mutable_respond_workflow_task_completed()->add_commands()->mutable_complete_workflow_execution();
  ASSERT_EQ(Exchange(*stream, finish).code(), 0);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  auto kinds = Kinds("w1");
  ASSERT_FALSE(kinds.empty());
  EXPECT_EQ(kinds.back(), v1::HistoryEvent::kWorkflowExecutionCompleted);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), v1::HistoryEvent::kActivityTaskCompleted), 1);
}

// A client's start travels on a stream too: one that waits gets the run's result when a
// worker (here on a second stream) completes it; a repeat with its request id gets the
// same run back.
TEST_F(WorkerStreamTest, AStartThatWaitsForItsResultTravelsOnAStream) {
  auto client_context = Context();
  auto client = stub_->WorkerStream(client_context.get());
  v1::WorkerStreamRequest start;
  auto* s = start.mutable_start_workflow_execution();
  s->set_workflow_id("w-start");
  s->set_workflow_type("t");
  s->set_task_queue("q");
  s->set_request_id("r-start");
  s->set_wait_for_result(true);
  start.mutable_max_wait()->set_seconds(30);
  ASSERT_TRUE(client->Write(start));

  auto worker_context = Context();
  auto worker = stub_->WorkerStream(worker_context.get());
  auto task = Exchange(*worker, PollWorkflow());
  ASSERT_FALSE(task.poll_workflow_task_queue().task_token().empty()) << task.message();
  v1::WorkerStreamRequest finish;
  finish.mutable_respond_workflow_task_completed()->set_task_token(task.poll_workflow_task_queue().task_token());
  auto* result = finish.mutable_respond_workflow_task_completed()
                     ->add_commands()
                     ->mutable_complete_workflow_execution()
                     ->mutable_result()
                     ->add_payloads();
  result->set_data("42");
  ASSERT_EQ(Exchange(*worker, finish).code(), 0);

  v1::WorkerStreamResponse answer;
  ASSERT_TRUE(client->Read(&answer));
  ASSERT_EQ(answer.code(), 0) << answer.message();
  const auto& started = answer.start_workflow_execution();
  EXPECT_TRUE(started.started());
  EXPECT_EQ(started.result().status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  ASSERT_EQ(started.result().result().payloads_size(), 1);
  EXPECT_EQ(started.result().result().payloads(0).data(), "42");

  s->set_wait_for_result(false);
  auto again = Exchange(*client, start);
  ASSERT_EQ(again.code(), 0) << again.message();
  EXPECT_FALSE(again.start_workflow_execution().started());
  EXPECT_EQ(again.start_workflow_execution().run_id(), started.run_id());
  client->WritesDone();
  EXPECT_TRUE(client->Finish().ok());
}

// A poll with nothing to do ends empty after its own max_wait, and the stream goes on.
TEST_F(WorkerStreamTest, APollEndsEmptyAfterItsMaxWait) {
  auto context = Context();
  auto stream = stub_->WorkerStream(context.get());
  auto empty = Exchange(*stream, PollWorkflow(1ms));
  EXPECT_EQ(empty.code(), 0);
  EXPECT_TRUE(empty.poll_workflow_task_queue().task_token().empty());
  Start("w2");
  auto task = Exchange(*stream, PollWorkflow());
  EXPECT_FALSE(task.poll_workflow_task_queue().task_token().empty());
}

// Bad requests are answered on the stream with the code a call of their own would get,
// write nothing, and the stream serves the next request.
TEST_F(WorkerStreamTest, BadRequestsAreAnsweredAndTheStreamGoesOn) {
  Start("w3");
  const std::string before = SnapshotDatabase(DbPath());
  auto context = Context();
  auto stream = stub_->WorkerStream(context.get());
  auto none = Exchange(*stream, v1::WorkerStreamRequest());
  EXPECT_EQ(none.code(), static_cast<int>(StatusCode::INVALID_ARGUMENT));
  EXPECT_NE(none.message().find("names no call"), std::string::npos) << none.message();
  v1::WorkerStreamRequest stale;
  stale.mutable_respond_activity_task_completed()->set_task_token("not a token");
  auto refused = Exchange(*stream, stale);
  EXPECT_EQ(refused.code(), static_cast<int>(StatusCode::INVALID_ARGUMENT)) << refused.message();
  EXPECT_EQ(SnapshotDatabase(DbPath()), before);
  auto task = Exchange(*stream, PollWorkflow());
  EXPECT_EQ(task.code(), 0);
  EXPECT_FALSE(task.poll_workflow_task_queue().task_token().empty());
}

// Bytes that are not a WorkerStreamRequest get INVALID_ARGUMENT on the stream (gRPC's own
// parsing would end the stream without saying why).
TEST_F(WorkerStreamTest, UnparsableBytesAreRefusedAndTheStreamGoesOn) {
  auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  grpc::internal::RpcMethod method("/keel.v1.WorkflowService/WorkerStream",
                                   grpc::internal::RpcMethod::BIDI_STREAMING, channel);
  auto context = Context();
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> raw(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          channel.get(), method, context.get()));
  const std::string before = SnapshotDatabase(DbPath());
  auto send = [&](const std::string& bytes) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), answer;
    EXPECT_TRUE(raw->Write(request));
    EXPECT_TRUE(raw->Read(&answer));
    v1::WorkerStreamResponse response;
    EXPECT_TRUE(grpc::SerializationTraits<v1::WorkerStreamResponse>::Deserialize(&answer, &response).ok());
    return response;
  };
  auto garbage = send(std::string("\xff\xff\xff\xff\x0f", 5));
  EXPECT_EQ(garbage.code(), static_cast<int>(StatusCode::INVALID_ARGUMENT));
  EXPECT_NE(garbage.message().find("not a valid message"), std::string::npos) << garbage.message();
  EXPECT_EQ(SnapshotDatabase(DbPath()), before);
  auto empty = send(PollWorkflow(1ms).SerializeAsString());
  EXPECT_EQ(empty.code(), 0) << empty.message();
}

// Stopping keeld ends idle streams at once with UNAVAILABLE; without that, gRPC's shutdown
// would wait its whole grace period (an hour here) for them.
TEST_F(WorkerStreamTest, StoppingKeeldEndsIdleStreams) {
  auto context = Context();
  auto stream = stub_->WorkerStream(context.get());
  ASSERT_EQ(Exchange(*stream, PollWorkflow(1ms)).code(), 0);  // open and idle
  server_->Shutdown(std::chrono::hours(1));
  v1::WorkerStreamResponse response;
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), StatusCode::UNAVAILABLE) << st.error_message();
  EXPECT_NE(st.error_message().find("keeld is stopping"), std::string::npos) << st.error_message();
  // Whatever the worker sent since its last answer was not processed: it may send it again.
  EXPECT_EQ(context->GetServerTrailingMetadata().count(remote::kUnprocessedKey), 1u);
}

// A pooled stream that keeld ended as it stopped: a call on it reports that it was not
// sent (keeld's "keel-unprocessed" end), so the worker makes it as a call of its own (and
// loses no completion).
TEST_F(WorkerStreamTest, ACallOnAStreamKeeldEndedWasNotSent) {
  remote::WorkerStreamClient client(*stub_, [](grpc::ClientContext&) {}, /*look_after=*/1h);
  bool sent = false;
  ASSERT_TRUE(client.Call(PollWorkflow(1ms), 30s, &sent).ok());  // the stream is now pooled
  server_->Shutdown(std::chrono::hours(1));
  v1::WorkerStreamRequest completion;
  completion.mutable_respond_activity_task_completed()->set_task_token("any");
  auto gone = client.Call(completion, 30s, &sent);
  EXPECT_EQ(gone.status().code(), keel::StatusCode::kUnavailable) << gone.status().ToString();
  EXPECT_NE(gone.status().message().find("keeld is stopping"), std::string::npos) << gone.status().ToString();
  EXPECT_FALSE(sent);
}

// A pooled stream that ended while idle is dropped before a call, unused: the call goes
// on a new stream (which here cannot open: keeld is gone).
TEST_F(WorkerStreamTest, AStreamThatEndedWhileIdleIsDropped) {
  remote::WorkerStreamClient client(*stub_, [](grpc::ClientContext&) {}, /*look_after=*/Duration::zero());
  bool sent = false;
  ASSERT_TRUE(client.Call(PollWorkflow(1ms), 30s, &sent).ok());
  server_->Shutdown(std::chrono::hours(1));
  ASSERT_TRUE(client.AwaitIdleEnds(Clock::System().Now() + 30s));
  v1::WorkerStreamRequest completion;
  completion.mutable_respond_activity_task_completed()->set_task_token("any");
  auto gone = client.Call(completion, 30s, &sent);
  EXPECT_EQ(gone.status().code(), keel::StatusCode::kUnavailable) << gone.status().ToString();
  EXPECT_EQ(gone.status().message().find("keeld is stopping"), std::string::npos) << gone.status().ToString();
  EXPECT_FALSE(sent);
}

// CancelPolls ends a worker's poll under way at once, and its later ones, without keeld
// (a worker shutting down while keeld may be unreachable).
TEST_F(WorkerStreamTest, CancelPollsEndsAPollUnderWayAndLaterOnes) {
  remote::WorkerStreamClient client(*stub_, [](grpc::ClientContext&) {});
  std::promise<Result<v1::WorkerStreamResponse>> polled;
  std::thread poller([&] {
    bool sent = false;
    polled.set_value(client.Call(PollWorkflow(1h, "idle"), 1h, &sent, "stream-worker"));
  });
  client.CancelPolls("stream-worker");
  auto ended = polled.get_future().get();
  poller.join();
  EXPECT_FALSE(ended.ok());
  bool sent = true;
  auto later = client.Call(PollWorkflow(1h, "idle"), 1h, &sent, "stream-worker");
  EXPECT_EQ(later.status().code(), keel::StatusCode::kCancelled);
  EXPECT_FALSE(sent);
  // Another worker's polls are not touched.
  EXPECT_TRUE(client.Call(PollWorkflow(1ms), 30s, &sent, "another-worker").ok());
}

// The worker's side: a call that runs out of time drops its stream and says so; the next
// call opens another.
TEST_F(WorkerStreamTest, AClientCallThatRunsOutOfTimeDropsItsStream) {
  remote::WorkerStreamClient client(*stub_, [](grpc::ClientContext&) {});
  bool sent = false;
  // keeld would answer after its poll timeout. (Another queue: the task started below
  // must not go to this poll while keeld has yet to see it end.)
  v1::WorkerStreamRequest waits = PollWorkflow(1h, "idle");
  auto late = client.Call(waits, 50ms, &sent);
  EXPECT_EQ(late.status().code(), keel::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(sent);
  Start("w4");
  auto task = client.Call(PollWorkflow(), 30s, &sent);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_FALSE(task->poll_workflow_task_queue().task_token().empty());
}

// Prepare opens streams ahead into the pool, up to the number asked for; calls take them
// instead of opening their own. (One after another, so these three reuse one stream.)
TEST_F(WorkerStreamTest, PreparedStreamsAreTakenByTheFirstCalls) {
  remote::WorkerStreamClient client(*stub_, [](grpc::ClientContext&) {}, /*look_after=*/1h);
  client.Prepare(3);
  EXPECT_EQ(client.opened_streams(), 3u);
  EXPECT_EQ(client.idle_streams(), 3u);
  bool sent = false;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.Call(PollWorkflow(1ms), 30s, &sent).ok());
  client.Prepare(2);  // the pool holds 3 already
  EXPECT_EQ(client.opened_streams(), 3u);
  EXPECT_EQ(client.idle_streams(), 3u);
}

// Streams open on the connections in turn, but not on one that is failing (it would fail
// the stream at once): here the first connection's channel cannot connect at all.
TEST_F(WorkerStreamTest, NoStreamOpensOnAFailingConnection) {
  auto dead = grpc::CreateChannel("unix:" + dir_.File("no-keeld.sock"), grpc::InsecureChannelCredentials());
  auto dead_stub = v1::WorkflowService::NewStub(dead);
  const Time deadline = Clock::System().Now() + 30s;
  for (auto state = dead->GetState(true); state != GRPC_CHANNEL_TRANSIENT_FAILURE; state = dead->GetState(true)) {
    ASSERT_TRUE(dead->WaitForStateChange(state, deadline)) << "the channel did not fail";
  }
  remote::WorkerStreamClient client({{dead_stub.get(), dead.get()}, {stub_.get()}}, [](grpc::ClientContext&) {});
  for (size_t streams = 1; streams <= 2; ++streams) {
    client.Prepare(streams);  // one more stream, which the call below takes (the first is the dead one's turn)
    bool sent = false;
    ASSERT_TRUE(client.Call(PollWorkflow(1ms), 30s, &sent).ok());
    EXPECT_TRUE(sent);
  }
  EXPECT_EQ(client.opened_streams(), 2u);
}

// A pooled stream that is still open is used again, also after the look for an end that
// a stream idle for look_after gets.
TEST_F(WorkerStreamTest, AnOpenPooledStreamIsUsedAgain) {
  for (const Duration look_after : {Duration::zero(), Duration(1h)}) {
    remote::WorkerStreamClient client(*stub_, [](grpc::ClientContext&) {}, look_after);
    bool sent = false;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.Call(PollWorkflow(1ms), 30s, &sent).ok());
    EXPECT_EQ(client.opened_streams(), 1u);
    EXPECT_EQ(client.idle_streams(), 1u);
  }
}

// A stream left idle for close_after is closed when another goes back to the pool: the
// least recently used first.
TEST_F(WorkerStreamTest, AStreamIdleTooLongIsClosed) {
  for (const Duration close_after : {Duration::zero(), Duration(1h)}) {
    SCOPED_TRACE(close_after.count());
    remote::WorkerStreamClient client(*stub_, [](grpc::ClientContext&) {}, 50ms, close_after);
    const std::string queue = close_after == Duration::zero() ? "trim-a" : "trim-b";
    bool sent = false;
    ASSERT_TRUE(client.Call(PollWorkflow(1ms, "other"), 30s, &sent).ok());
    ASSERT_EQ(client.idle_streams(), 1u);
    std::promise<bool> polled;
    std::thread poller([&] {  // a poll that waits takes the pooled stream...
      bool sent = false;
      polled.set_value(client.Call(PollWorkflow(1h, queue), 1h, &sent).ok());
    });
    while (client.idle_streams() != 0) std::this_thread::yield();  // (it takes it at once)
    ASSERT_TRUE(client.Call(PollWorkflow(1ms, "other"), 30s, &sent).ok());  // ... so this opens another
    EXPECT_EQ(client.idle_streams(), 1u);
    v1::StartWorkflowExecutionRequest start;
    start.set_workflow_id("w-" + queue);
    start.set_workflow_type("t");
    start.set_task_queue(queue);
    ASSERT_TRUE(Call(Rpc("StartWorkflowExecution"), start).ok());
    EXPECT_TRUE(polled.get_future().get());
    poller.join();
    // The poll's stream went back last; the other one had been idle since before it.
    EXPECT_EQ(client.idle_streams(), close_after == Duration::zero() ? 1u : 2u);
  }
}

// An answer that is an error comes back as that status; the stream stays in the pool.
TEST_F(WorkerStreamTest, AClientCallGetsTheEnginesError) {
  remote::WorkerStreamClient client(*stub_, [](grpc::ClientContext&) {});
  bool sent = false;
  v1::WorkerStreamRequest stale;
  stale.mutable_respond_workflow_task_completed()->set_task_token("not a token");
  auto refused = client.Call(stale, 30s, &sent);
  EXPECT_TRUE(sent);
  EXPECT_EQ(refused.status().code(), keel::StatusCode::kInvalidArgument) << refused.status().ToString();
  auto empty = client.Call(PollWorkflow(1ms), 30s, &sent);
  EXPECT_TRUE(empty.ok()) << empty.status().ToString();
}

// A stream opened to a keeld that is gone: the call never left, so the caller may make it
// by other means (the Frontend then makes a call of its own, which waits for keeld).
TEST_F(WorkerStreamTest, AClientCallToAStoppedKeeldWasNotSent) {
  remote::WorkerStreamClient client(*stub_, [](grpc::ClientContext&) {});
  server_->Shutdown(std::chrono::seconds(1));
  bool sent = true;
  auto gone = client.Call(PollWorkflow(1ms), 30s, &sent);
  EXPECT_FALSE(gone.ok());
  EXPECT_FALSE(sent);
}

}  // namespace
}  // namespace keel::testing
