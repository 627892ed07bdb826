#include "engine/cli/workflow_output.h"

#include <time.h>

#include <algorithm>
#include <cstdio>

#include "engine/cli/cli_args.h"

namespace keel::cli::workflow {

namespace {

using nlohmann::json;

constexpr WorkflowStatus kStatuses[] = {
    WorkflowStatus::kRunning,  WorkflowStatus::kCompleted,  WorkflowStatus::kFailed,
    WorkflowStatus::kCanceled, WorkflowStatus::kTerminated, WorkflowStatus::kContinuedAsNew,
    WorkflowStatus::kTimedOut,
};

json OptionalTime(const std::optional<Time>& t) { return t ? json(FormatTime(*t)) : json(nullptr); }

std::string StatusText(const WorkflowDescription& d) {
  std::string s(WorkflowStatusName(d.status));
  if (d.cancel_requested && d.status == WorkflowStatus::kRunning) s += " (cancel requested)";
  return s;
}

// "  key: value" lines for a map of JSON values, or "  (none)".
std::string JsonMapLines(const std::map<std::string, json>& values) {
  if (values.empty()) return "  (none)\n";
  std::string out;
  for (const auto& [k, v] : values) out += "  " + k + ": " + v.dump() + "\n";
  return out;
}

}  // namespace

std::string FormatTime(Time t) {
  auto us = ToMicros(t);
  time_t seconds = static_cast<time_t>(us / 1000000);
  long millis = static_cast<long>(us % 1000000 / 1000);
  if (us < 0 && us % 1000000 != 0) {  // floor, so that times before 1970 stay ordered
    --seconds;
    millis += 1000;
  }
  struct tm utc {};
  gmtime_r(&seconds, &utc);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
  return buf;
}

WorkflowStatus ParseStatus(const std::string& text) {
  std::string names;
  for (auto s : kStatuses) {
    if (WorkflowStatusName(s) == text) return s;
    names += (names.empty() ? "" : ", ") + std::string(WorkflowStatusName(s));
  }
  throw UsageError("--status: unknown status '" + text + "' (one of " + names + ")");
}

json PayloadsToJson(const Payloads& payloads) {
  auto one = [](const Payload& p) -> json {
    try {
      return PayloadToJson(p);
    } catch (const PayloadError&) {
      return PayloadPreview(p);
    }
  };
  if (payloads.empty()) return nullptr;
  if (payloads.size() == 1) return one(payloads.front());
  json all = json::array();
  for (const auto& p : payloads) all.push_back(one(p));
  return all;
}

std::string FailureText(const v1::Failure& failure) {
  std::string s = failure.message();
  if (failure.has_cause()) s += ": " + FailureText(failure.cause());
  return s;
}

json SummaryToJson(const WorkflowSummary& s) {
  return {
      {"workflow_id", s.workflow_id},
      {"run_id", s.run_id},
      {"workflow_type", s.workflow_type},
      {"task_queue", s.task_queue},
      {"status", std::string(WorkflowStatusName(s.status))},
      {"start_time", FormatTime(s.start_time)},
      {"close_time", OptionalTime(s.close_time)},
      {"history_length", s.history_length},
  };
}

json DescriptionToJson(const WorkflowDescription& d) {
  json j = SummaryToJson(d);
  j["cancel_requested"] = d.cancel_requested;
  j["search_attributes"] = json::object();
  for (const auto& [k, v] : d.search_attributes) j["search_attributes"][k] = v;
  j["memo"] = json::object();
  for (const auto& [k, v] : d.memo) j["memo"][k] = v;
  j["pending_activities"] = json::array();
  for (const auto& a : d.pending_activities) {
    j["pending_activities"].push_back({
        {"activity_id", a.activity_id},
        {"activity_type", a.activity_type},
        {"state", a.state},
        {"attempt", a.attempt},
        {"last_failure", a.last_failure.empty() ? json(nullptr) : json(a.last_failure)},
        {"next_attempt_time", OptionalTime(a.next_attempt_time)},
        {"held_until", OptionalTime(a.held_until)},
    });
  }
  j["pending_timers"] = json::array();
  for (const auto& [id, fire] : d.pending_timers) {
    j["pending_timers"].push_back({{"timer_id", id}, {"fire_time", FormatTime(fire)}});
  }
  j["pending_workflow_task"] = nullptr;
  if (d.workflow_task) {
    const auto& t = *d.workflow_task;
    j["pending_workflow_task"] = {
        {"state", t.state},
        {"attempt", t.attempt},
        {"last_failure", t.last_failure.empty() ? json(nullptr) : json(t.last_failure)},
        {"next_attempt_time", OptionalTime(t.next_attempt_time)},
        {"note", t.note.empty() ? json(nullptr) : json(t.note)},
    };
  }
  return j;
}

std::string DescriptionText(const WorkflowDescription& d) {
  std::string out;
  auto line = [&](const std::string& key, const std::string& value) {
    out += key + ":" + std::string(16 - std::min<size_t>(15, key.size()), ' ') + value + "\n";
  };
  line("workflow id", d.workflow_id);
  line("run id", d.run_id);
  line("type", d.workflow_type);
  line("task queue", d.task_queue);
  line("status", StatusText(d));
  line("start time", FormatTime(d.start_time));
  line("close time", d.close_time ? FormatTime(*d.close_time) : "-");
  line("history length", std::to_string(d.history_length));

  out += "search attributes:\n" + JsonMapLines(d.search_attributes);
  out += "memo:\n" + JsonMapLines(d.memo);

  out += "pending activities:\n";
  if (d.pending_activities.empty()) out += "  (none)\n";
  for (const auto& a : d.pending_activities) {
    out += "  " + a.activity_type + " (id " + a.activity_id + "): " + a.state + ", attempt " +
           std::to_string(a.attempt) + "\n";
    if (!a.last_failure.empty()) out += "    last failure: " + OneLine(a.last_failure) + "\n";
    if (a.next_attempt_time) out += "    next attempt: " + FormatTime(*a.next_attempt_time) + "\n";
    if (a.held_until) {
      out += "    held until: " + FormatTime(*a.held_until) +
             " (an attempt may still run on a worker across keeld's restart)\n";
    }
  }
  out += "pending timers:\n";
  if (d.pending_timers.empty()) out += "  (none)\n";
  for (const auto& [id, fire] : d.pending_timers)
    out += "  timer " + id + " fires at " + FormatTime(fire) + "\n";

  out += "pending workflow task:";
  if (!d.workflow_task) {
    out += " (none)\n";
    return out;
  }
  const auto& t = *d.workflow_task;
  out += " " + t.state + ", attempt " + std::to_string(t.attempt) + "\n";
  // A task that keeps failing (unknown workflow type, non-determinism) says why here.
  if (!t.last_failure.empty()) out += "  last failure: " + OneLine(t.last_failure) + "\n";
  if (t.next_attempt_time) out += "  next attempt: " + FormatTime(*t.next_attempt_time) + "\n";
  if (!t.note.empty()) out += "  note: " + OneLine(t.note) + "\n";
  return out;
}

std::string ListTable(const std::vector<WorkflowSummary>& runs) {
  std::vector<std::vector<std::string>> rows = {
      {"WORKFLOW ID", "RUN ID", "TYPE", "STATUS", "START TIME", "CLOSE TIME"}};
  for (const auto& r : runs) {
    rows.push_back({r.workflow_id, r.run_id, r.workflow_type,
                    std::string(WorkflowStatusName(r.status)), FormatTime(r.start_time),
                    r.close_time ? FormatTime(*r.close_time) : "-"});
  }
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

void PrintJson(const json& j) {
  std::string text = j.dump(2, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

}  // namespace keel::cli::workflow
