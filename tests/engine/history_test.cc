// History export/import: lossless JSON round trip, clear errors for bad files, timeline.
#include "engine/history.h"

#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

#include "engine/testing/history_builder.h"

namespace keel {
namespace {

using namespace std::chrono_literals;
using testing::HistoryBuilder;

History Sample() {
  return HistoryBuilder("greet")
      .Started({ToPayload(std::string("ann"))})
      .WorkflowTask()
      .ActivityScheduled("hello", {ToPayload(std::string("ann"))})
      .AdvanceTime(2s)
      .ActivityStarted("1")
      .ActivityCompleted("1", {ToPayload(std::string("hi ann"))})
      .WorkflowTask()
      .TimerStarted("1", 24h * 30)
      .AdvanceTime(24h * 30)
      .TimerFired("1")
      .WorkflowTask()
      .Completed({ToPayload(std::string("done"))})
      .Build();
}

TEST(HistoryTest, JsonRoundTripIsLossless) {
  History h = Sample();
  auto back = History::FromJson(h.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(h.proto(), back->proto()));
  EXPECT_EQ(back->ToJson(), h.ToJson());
}

TEST(HistoryTest, JsonUsesProtoFieldNames) {
  std::string json = Sample().ToJson();
  EXPECT_NE(json.find("\"workflow_execution_started\""), std::string::npos);
  EXPECT_NE(json.find("\"event_id\""), std::string::npos);
}

TEST(HistoryTest, FileRoundTrip) {
  History h = Sample();
  std::string path = ::testing::TempDir() + "/history.json";
  ASSERT_TRUE(h.WriteJsonFile(path).ok());
  auto back = History::FromJsonFile(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), h.size());
}

TEST(HistoryTest, MalformedJsonIsAClearError) {
  auto r = History::FromJson("{not json");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("not a Keel history"), std::string::npos);
  EXPECT_EQ(History::FromJson(R"({"unknown_field": 1})").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(History::FromJsonFile("/nonexistent/h.json").status().code(), StatusCode::kNotFound);
}

TEST(HistoryTest, EventIdsMustBeDenseAndStartWithStarted) {
  v1::History h = Sample().proto();
  h.mutable_events(3)->set_event_id(99);
  auto r = History::FromJson(History(h).ToJson());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("position 4 holds event_id 99"), std::string::npos);

  v1::History no_start = Sample().proto();
  no_start.mutable_events()->DeleteSubrange(0, 1);
  for (int i = 0; i < no_start.events_size(); ++i) no_start.mutable_events(i)->set_event_id(i + 1);
  EXPECT_NE(History::FromJson(History(no_start).ToJson()).status().message().find("must begin with"),
            std::string::npos);
  EXPECT_NE(History::FromJson(R"({"events": []})").status().message().find("no events"), std::string::npos);
}

TEST(HistoryTest, TimelineShowsStepsWithoutWorkflowTaskNoise) {
  std::string t = Sample().Timeline();
  EXPECT_NE(t.find("WorkflowExecutionStarted     greet(\"ann\")"), std::string::npos) << t;
  EXPECT_NE(t.find("ActivityTaskCompleted        result \"hi ann\""), std::string::npos) << t;
  EXPECT_NE(t.find("TimerStarted                 timer 1 for 30d00h"), std::string::npos) << t;
  EXPECT_NE(t.find("+30d00h"), std::string::npos) << t;
  EXPECT_EQ(t.find("WorkflowTaskStarted"), std::string::npos);
}

}  // namespace
}  // namespace keel
