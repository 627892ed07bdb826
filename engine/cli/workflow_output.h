// How `keel workflow` shows things: RFC 3339 times, payloads as JSON values, the list
// table, describe's key: value text, and the JSON documents of --json. Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/client.h"
#include "engine/payload.h"
#include "keel/v1/common.pb.h"

namespace keel::cli::workflow {

// "2026-11-22T04:12:48.123Z"
std::string FormatTime(Time t);
// "running", "completed", ... (the --status spellings); throws UsageError for others.
WorkflowStatus ParseStatus(const std::string& text);

// One payload is its JSON value, none is null, several are an array. A payload that is
// not JSON shows as its preview string.
nlohmann::json PayloadsToJson(const Payloads& payloads);
// A failure and its causes: "activity failed: compose: boom".
std::string FailureText(const v1::Failure& failure);

nlohmann::json SummaryToJson(const WorkflowSummary& s);
nlohmann::json DescriptionToJson(const WorkflowDescription& d);
std::string DescriptionText(const WorkflowDescription& d);
std::string ListTable(const std::vector<WorkflowSummary>& runs);

// Prints one JSON document (indented) on stdout.
void PrintJson(const nlohmann::json& j);

}  // namespace keel::cli::workflow
