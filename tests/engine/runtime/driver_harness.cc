#include "tests/engine/runtime/driver_harness.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <gtest/gtest.h>

#include <map>

#include "engine/history/convert.h"
#include "engine/history/event_util.h"
#include "engine/runtime/run_driver.h"

namespace keel::runtime_test {

WorkflowInfo InfoOf(const History& h) {
  WorkflowInfo info;
  info.namespace_name = "default";
  info.workflow_id = h.WorkflowId();
  info.run_id = h.RunId();
  info.workflow_type = h.WorkflowType();
  return info;
}

namespace {

DriveResult Feed(const Registry& registry, const History& h, const std::vector<int>& batch_ends) {
  internal::RunDriver driver(registry, InfoOf(h));
  DriveResult out;
  std::vector<v1::Command> commands;
  int begin = 0;
  for (int end : batch_ends) {
    internal::RunDriver::Events batch;
    for (int i = begin; i < end; ++i) *batch.Add() = h.event(i);
    begin = end;
    commands.clear();
    out.status = driver.Advance(batch, &commands);
    out.divergence_event_id = driver.divergence_event_id();
    if (!out.status.ok()) break;
  }
  if (out.status.ok() && h.size() > 0 && h.event(h.size() - 1).has_workflow_task_started()) {
    out.commands = Describe(commands);
  }
  return out;
}

}  // namespace

DriveResult DriveAll(const Registry& registry, const History& h) {
  return Feed(registry, h, {h.size()});
}

DriveResult DriveInBatches(const Registry& registry, const History& h) {
  std::vector<int> ends;
  for (int i = 0; i < h.size(); ++i) {
    if (!h.event(i).has_workflow_task_started()) continue;
    const bool failed = i + 1 < h.size() && (h.event(i + 1).has_workflow_task_failed() ||
                                             h.event(i + 1).has_workflow_task_timed_out());
    if (!failed) ends.push_back(i + 1);
  }
  if (ends.empty() || ends.back() != h.size()) ends.push_back(h.size());
  return Feed(registry, h, ends);
}

std::string ResultJson(const v1::Command& c) {
  const auto& r = c.complete_workflow_execution().result();
  return r.payloads_size() == 0 ? "" : r.payloads(0).data();
}

std::string Describe(const v1::Command& c) {
  std::string s(CommandTypeName(c));
  switch (c.attributes_case()) {
    case v1::Command::kScheduleActivityTask:
      return s + " " + c.schedule_activity_task().activity_type() + "#" +
             c.schedule_activity_task().activity_id();
    case v1::Command::kRequestCancelActivityTask:
      return s + " @" + std::to_string(c.request_cancel_activity_task().scheduled_event_id());
    case v1::Command::kStartTimer:
      return s + " " + c.start_timer().timer_id();
    case v1::Command::kCancelTimer:
      return s + " " + c.cancel_timer().timer_id();
    case v1::Command::kRecordMarker: {
      const auto& d = c.record_marker().details();
      if (c.record_marker().marker_name() == "Version") {
        std::string id = d.count("patch_id") && d.at("patch_id").payloads_size() > 0
                             ? FromPayload<std::string>(FromProto(d.at("patch_id").payloads(0)))
                             : "?";
        bool deprecated = d.count("deprecated") && d.at("deprecated").payloads_size() > 0 &&
                          FromPayload<bool>(FromProto(d.at("deprecated").payloads(0)));
        return s + " Version(" + id + (deprecated ? ", deprecated)" : ")");
      }
      std::string id =
          d.count("id") && d.at("id").payloads_size() > 0 ? d.at("id").payloads(0).data() : "?";
      std::string data = d.count("data") && d.at("data").payloads_size() > 0
                             ? d.at("data").payloads(0).data()
                             : "?";
      return s + " " + c.record_marker().marker_name() + "#" + id + "=" + data;
    }
    case v1::Command::kCompleteWorkflowExecution:
      return s + " " + ResultJson(c);
    case v1::Command::kStartChildWorkflowExecution:
      return s + " " + c.start_child_workflow_execution().workflow_type() + "#" +
             c.start_child_workflow_execution().workflow_id();
    case v1::Command::kSignalExternalWorkflowExecution:
      return s + " " + c.signal_external_workflow_execution().execution().workflow_id() + ":" +
             c.signal_external_workflow_execution().signal_name();
    case v1::Command::kRequestCancelExternalWorkflowExecution:
      return s + " " + c.request_cancel_external_workflow_execution().execution().workflow_id() +
             (c.request_cancel_external_workflow_execution().child_workflow_only() ? " (child)" : "");
    case v1::Command::kContinueAsNewWorkflowExecution: {
      std::string out = s;
      for (const auto& p : c.continue_as_new_workflow_execution().input().payloads()) {
        out += " " + p.data();
      }
      return out;
    }
    case v1::Command::kUpsertWorkflowSearchAttributes: {
      std::string out = s;
      // A protobuf map iterates in no fixed order: sort by name.
      std::map<std::string, std::string> attributes;
      for (const auto& [k, v] : c.upsert_workflow_search_attributes().search_attributes()) {
        attributes[k] = v.data();
      }
      for (const auto& [k, v] : attributes) out += " " + k + "=" + v;
      return out;
    }
    case v1::Command::kFailWorkflowExecution: {
      const auto& f = c.fail_workflow_execution().failure();
      return s + " " + f.application_failure_info().type() + ": " + f.message();
    }
    default:
      return s;
  }
}

std::vector<std::string> Describe(const std::vector<v1::Command>& commands) {
  std::vector<std::string> out;
  for (const auto& c : commands) out.push_back(Describe(c));
  return out;
}

void MakeActivityTimedOut(History& h, int64_t event_id) {
  v1::HistoryEvent* e = h.mutable_proto().mutable_events(static_cast<int>(event_id - 1));
  const v1::ActivityTaskFailedEventAttributes failed = e->activity_task_failed();
  auto* t = e->mutable_activity_task_timed_out();
  t->set_scheduled_event_id(failed.scheduled_event_id());
  t->set_started_event_id(failed.started_event_id());
  t->set_retry_state(v1::RETRY_STATE_TIMEOUT);
  t->mutable_failure()->set_message("activity timed out (start-to-close)");
  t->mutable_failure()->mutable_timeout_failure_info()->set_timeout_type(
      v1::TIMEOUT_TYPE_START_TO_CLOSE);
}

ActivityOptions Opts() {
  ActivityOptions o;
  o.start_to_close = std::chrono::seconds(30);
  return o;
}

Payloads Str(const std::string& s) { return {ToPayload(s)}; }

std::string Done(const std::string& s) { return "CompleteWorkflowExecution \"" + s + "\""; }

std::string DoneJson(const std::string& json) { return "CompleteWorkflowExecution " + json; }

History Live(keel::testing::HistoryBuilder& b) {
  b.WorkflowTaskScheduled().WorkflowTaskStarted();
  return b.Build();
}

void ExpectLiveCommands(const Registry& registry, const History& h,
                        const std::vector<std::string>& want) {
  for (bool batches : {false, true}) {
    SCOPED_TRACE(batches ? "batch by batch" : "all events at once");
    DriveResult got = batches ? DriveInBatches(registry, h) : DriveAll(registry, h);
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
    EXPECT_EQ(got.commands, want);
  }
}

void PrintTo(const MachineRow& row, std::ostream* os) { *os << row.name; }

namespace {

void CheckRow(const DriveResult& got, const MachineRow& row) {
  EXPECT_EQ(got.status.code(), row.code) << got.status.ToString();
  if (row.code == StatusCode::kOk) {
    EXPECT_THAT(got.commands, ::testing::ElementsAreArray(row.commands));
  } else {
    EXPECT_EQ(got.divergence_event_id, row.event_id);
    EXPECT_THAT(got.status.message(), ::testing::HasSubstr(row.message));
  }
}

}  // namespace

void WalkRow(const Registry& registry, const MachineRow& row) {
  SCOPED_TRACE(row.edges);
  History h = row.history();
  {
    SCOPED_TRACE("all events at once");
    CheckRow(DriveAll(registry, h), row);
  }
  {
    SCOPED_TRACE("batch by batch");
    CheckRow(DriveInBatches(registry, h), row);
  }
}

void ExpectEveryEdgeHasARow(const std::vector<MachineRow>& rows, const std::vector<std::string>& edges,
                            const std::string& prefix) {
  for (const auto& edge : edges) {
    bool found = false;
    for (const auto& row : rows) {
      const std::string walked = row.edges;
      found |= walked.rfind(prefix, 0) == 0 && walked.find(edge) != std::string::npos;
    }
    EXPECT_TRUE(found) << "no " << prefix << "row walks " << edge;
  }
}

}  // namespace keel::runtime_test
