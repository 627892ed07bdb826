// Replay's core check: does a command the code produced now match the command event the
// history recorded? Kind plus identity (activity type and id, timer id, marker name and
// sequence); arguments and durations may change between deploys.
#pragma once

#include <string>

#include "keel/v1/command.pb.h"
#include "keel/v1/history.pb.h"

namespace keel::internal {

bool CommandMatchesEvent(const v1::Command& command, const v1::HistoryEvent& event);

// "ScheduleActivityTask(type 'greet', id '1')", "ActivityTaskScheduled(type 'greet', id '1')"
std::string DescribeCommand(const v1::Command& command);
std::string DescribeEvent(const v1::HistoryEvent& event);

}  // namespace keel::internal
