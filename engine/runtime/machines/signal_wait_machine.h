// SignalWaitMachine: one ctx.WaitSignal that found no buffered signal. It issues no
// command; it waits for the driver to deliver the next signal of its name.
//
//  state   | input              | next | effect
//  Waiting | signal delivered   | Done | future <- input
//  Waiting | Cancel()           | Done | stop waiting (a later signal is buffered); future <- CanceledError
#pragma once

#include <memory>
#include <string>

#include "engine/future.h"
#include "engine/payload.h"

namespace keel::internal {

class RunDriver;

class SignalWaitMachine final {
 public:
  SignalWaitMachine(RunDriver& driver, std::string name, std::shared_ptr<PayloadSink> sink)
      : driver_(driver), name_(std::move(name)), sink_(std::move(sink)) {}

  void Deliver(const Payloads& input);
  void Cancel();
  bool done() const { return done_; }

 private:
  RunDriver& driver_;
  std::string name_;
  std::shared_ptr<PayloadSink> sink_;
  bool done_ = false;
};

}  // namespace keel::internal
