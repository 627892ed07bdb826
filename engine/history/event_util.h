// Small facts about history events: their names, which ones record a command, which ones
// a workflow task must deliver to workflow code.
#pragma once

#include <string_view>

#include "keel/v1/command.pb.h"
#include "keel/v1/history.pb.h"

namespace keel {

// "ActivityTaskScheduled", "TimerFired", ...
std::string_view EventTypeName(const v1::HistoryEvent& event);
std::string_view CommandTypeName(const v1::Command& command);

// Events written in response to a command (ActivityTaskScheduled, TimerStarted, ...):
// replay matches them, in order, against the commands the code produces.
bool IsCommandEvent(const v1::HistoryEvent& event);

// Events that end a run.
bool IsCloseEvent(const v1::HistoryEvent& event);

// The initiated event id a child-workflow or external-request event refers to (0 for
// other events).
int64_t InitiatedEventId(const v1::HistoryEvent& event);

}  // namespace keel
