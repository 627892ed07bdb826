#include "engine/history.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <google/protobuf/util/json_util.h>

#include "engine/history/convert.h"
#include "engine/history/event_util.h"

namespace keel {

namespace {

Status Validate(const v1::History& h) {
  if (h.events_size() == 0) return InvalidArgument("history has no events");
  if (!h.events(0).has_workflow_execution_started()) {
    return InvalidArgument("history must begin with WorkflowExecutionStarted, but event 1 is " +
                           std::string(EventTypeName(h.events(0))));
  }
  for (int i = 0; i < h.events_size(); ++i) {
    const auto& e = h.events(i);
    if (e.event_id() != i + 1) {
      return InvalidArgument("history event ids must be 1, 2, 3, ...: position " +
                             std::to_string(i + 1) + " holds event_id " +
                             std::to_string(e.event_id()));
    }
    if (e.attributes_case() == v1::HistoryEvent::ATTRIBUTES_NOT_SET) {
      return InvalidArgument("history event " + std::to_string(e.event_id()) +
                             " has no attributes (unknown event type?)");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<History> History::FromJson(const std::string& json) {
  v1::History proto;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(json, &proto, options);
  if (!st.ok()) {
    return InvalidArgument("not a Keel history JSON: " + std::string(st.message()));
  }
  KEEL_RETURN_IF_ERROR(Validate(proto));
  if (proto.workflow_type().empty()) {
    proto.set_workflow_type(proto.events(0).workflow_execution_started().workflow_type());
  }
  return History(std::move(proto));
}

Result<History> History::FromJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read history file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto h = FromJson(ss.str());
  if (!h.ok()) return h.status().WithContext(path);
  return h;
}

std::string History::ToJson() const {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(proto_, &out, options);
  return out;
}

Status History::WriteJsonFile(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return FailedPrecondition("cannot write " + path);
  out << ToJson();
  out.close();
  if (!out) return Internal("writing " + path + " failed");
  return Status::Ok();
}

namespace {

std::string Preview(const v1::Payloads& p) {
  if (p.payloads_size() == 0) return "";
  std::string s;
  for (int i = 0; i < p.payloads_size(); ++i) {
    if (i) s += ", ";
    s += PayloadPreview(FromProto(p.payloads(i)), 60);
  }
  return s;
}

// "0.004s", "1.019s", "12m30s", "5h02m", "30d00h": short, and exact enough to read.
std::string Seconds(Duration d) {
  double s = std::chrono::duration_cast<std::chrono::duration<double>>(d).count();
  long long whole = static_cast<long long>(s);
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof(buf), "%.3fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", whole / 60, whole % 60);
  } else if (s < 86400) {
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", whole / 3600, whole % 3600 / 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%lldd%02lldh", whole / 86400, whole % 86400 / 3600);
  }
  return buf;
}

std::string Details(const v1::HistoryEvent& e) {
  using E = v1::HistoryEvent;
  switch (e.attributes_case()) {
    case E::kWorkflowExecutionStarted: {
      const auto& a = e.workflow_execution_started();
      return a.workflow_type() + "(" + Preview(a.input()) + ") on " + a.task_queue();
    }
    case E::kWorkflowExecutionCompleted:
      return "result " + Preview(e.workflow_execution_completed().result());
    case E::kWorkflowExecutionFailed:
      return e.workflow_execution_failed().failure().message();
    case E::kWorkflowExecutionTerminated:
      return e.workflow_execution_terminated().reason();
    case E::kWorkflowExecutionSignaled: {
      const auto& a = e.workflow_execution_signaled();
      return a.signal_name() + "(" + Preview(a.input()) + ")";
    }
    case E::kWorkflowTaskFailed:
      return e.workflow_task_failed().failure().message();
    case E::kActivityTaskScheduled: {
      const auto& a = e.activity_task_scheduled();
      return a.activity_type() + "(" + Preview(a.input()) + ") id " + a.activity_id();
    }
    case E::kActivityTaskStarted:
      return "attempt " + std::to_string(e.activity_task_started().attempt());
    case E::kActivityTaskCompleted:
      return "result " + Preview(e.activity_task_completed().result());
    case E::kActivityTaskFailed:
      return e.activity_task_failed().failure().message();
    case E::kActivityTaskTimedOut:
      return e.activity_task_timed_out().failure().message();
    case E::kTimerStarted:
      return "timer " + e.timer_started().timer_id() + " for " +
             Seconds(FromProtoDuration(e.timer_started().start_to_fire_timeout()));
    case E::kTimerFired:
      return "timer " + e.timer_fired().timer_id();
    case E::kTimerCanceled:
      return "timer " + e.timer_canceled().timer_id();
    case E::kMarkerRecorded:
      return e.marker_recorded().marker_name();
    default:
      return "";
  }
}

bool IsWorkflowTaskEvent(const v1::HistoryEvent& e) {
  return e.has_workflow_task_scheduled() || e.has_workflow_task_started() ||
         e.has_workflow_task_completed();
}

}  // namespace

std::string History::Timeline() const {
  std::string out;
  if (proto_.events_size() == 0) return out;
  Time start = FromProtoTime(proto_.events(0).event_time());
  for (const auto& e : proto_.events()) {
    if (IsWorkflowTaskEvent(e)) continue;
    Duration since = FromProtoTime(e.event_time()) - start;
    char head[96];
    std::snprintf(head, sizeof(head), "%4lld  +%-10s %-28s ", static_cast<long long>(e.event_id()),
                  Seconds(since).c_str(), std::string(EventTypeName(e)).c_str());
    out += head;
    out += Details(e);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  }
  return out;
}

}  // namespace keel
