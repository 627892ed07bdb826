#include "engine/runtime/machines/signal_wait_machine.h"

#include "engine/errors.h"
#include "engine/runtime/run_driver.h"

namespace keel::internal {

void SignalWaitMachine::Deliver(const Payloads& input) {
  if (done_) return;
  done_ = true;
  sink_->SetPayloads(input);
}

void SignalWaitMachine::Cancel() {
  if (done_) return;
  done_ = true;
  driver_.RemoveSignalWaiter(name_, this);
  sink_->SetError(std::make_exception_ptr(CanceledError("signal wait canceled")));
}

}  // namespace keel::internal
