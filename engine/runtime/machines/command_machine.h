// CommandMachine: the base of the per-command-kind state machines (activity, timer,
// marker, completion). The driver matches each recorded command event against the
// oldest unmatched command and hands it to the command's machine.
#pragma once

#include <memory>

#include "keel/v1/history.pb.h"

namespace keel::internal {

class CommandMachine {
 public:
  virtual ~CommandMachine() = default;
  // The recorded event of this machine's oldest unmatched command (the driver has
  // checked its kind and id).
  virtual void OnCommandRecorded(const v1::HistoryEvent& e) = 0;
};

// A command that only has to be recorded: markers, completion, search attributes.
//
//  state   | input                  | next
//  Created | its event (recorded)   | Done
class OneShotMachine final : public CommandMachine {
 public:
  void OnCommandRecorded(const v1::HistoryEvent&) override { done_ = true; }
  bool done() const { return done_; }

 private:
  bool done_ = false;
};

}  // namespace keel::internal
