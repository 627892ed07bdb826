// WorkflowContext's non-template members: thin forwards to the run's driver. A
// disconnected context passes detached = true: its operations ignore cancellation.
#include <spdlog/sinks/null_sink.h>

#include "engine/log.h"
#include "engine/random.h"
#include "engine/runtime/run_driver.h"
#include "engine/workflow.h"

namespace keel {

const WorkflowInfo& WorkflowContext::Info() const { return driver_.info(); }
Time WorkflowContext::Now() const { return driver_.now(); }
uint64_t WorkflowContext::Random() { return driver_.NextRandom(); }

std::string WorkflowContext::Uuid() {
  uint64_t hi = driver_.NextRandom();
  uint64_t lo = driver_.NextRandom();
  return FormatUuid(hi, lo);
}

bool WorkflowContext::IsReplaying() const { return driver_.replaying(); }
bool WorkflowContext::IsCancelRequested() const { return driver_.cancel_requested(); }
WorkflowContext& WorkflowContext::Disconnected() { return driver_.disconnected_context(); }

spdlog::logger& WorkflowContext::Logger() {
  static auto silent = std::make_shared<spdlog::logger>("keel-replay", std::make_shared<spdlog::sinks::null_sink_mt>());
  return driver_.replaying() ? *silent : Log();
}

internal::Executor* WorkflowContext::executor() { return &driver_.scheduler(); }

void WorkflowContext::StartActivity(const std::string& type, const ActivityOptions& options, Payloads input,
                                    std::shared_ptr<internal::PayloadSink> sink) {
  driver_.StartActivity(type, options, std::move(input), std::move(sink), disconnected_);
}

void WorkflowContext::StartChild(const std::string& type, const ChildWorkflowOptions& options, Payloads input,
                                 std::shared_ptr<internal::PayloadSink> sink) {
  driver_.StartChild(type, options, std::move(input), std::move(sink), disconnected_);
}

Future<void> WorkflowContext::SignalExternalRaw(const std::string& workflow_id, const std::string& run_id,
                                                const std::string& name, Payloads input) {
  return Future<void>(driver_.SignalExternal(workflow_id, run_id, name, std::move(input), disconnected_));
}

Future<void> WorkflowContext::RequestCancelExternalWorkflow(const std::string& workflow_id,
                                                            const std::string& run_id) {
  return Future<void>(driver_.RequestCancelExternal(workflow_id, run_id, false, disconnected_));
}

Future<void> WorkflowContext::Sleep(Duration duration) {
  return Future<void>(driver_.StartTimer(duration, disconnected_));
}

void WorkflowContext::WaitSignalRaw(const std::string& name, std::shared_ptr<internal::PayloadSink> sink) {
  driver_.WaitSignal(name, std::move(sink), disconnected_);
}

void WorkflowContext::OnSignalRaw(const std::string& name, std::function<void(const Payloads&)> handler) {
  driver_.OnSignal(name, std::move(handler));
}

void WorkflowContext::OnQueryRaw(const std::string& name, std::function<Payloads(const Payloads&)> handler) {
  driver_.OnQuery(name, std::move(handler));
}

Future<void> WorkflowContext::WaitUntil(std::function<bool()> condition) {
  auto inner = driver_.WaitUntil(std::move(condition), std::nullopt, disconnected_);
  auto out = std::make_shared<internal::FutureState<void>>(executor());
  inner->OnReady([out, weak = std::weak_ptr<internal::FutureState<bool>>(inner)] {
    auto s = weak.lock();
    if (s && s->failed()) {
      out->Reject(s->error());
    } else {
      out->Resolve();
    }
  });
  std::weak_ptr<internal::FutureState<bool>> weak_inner = inner;
  out->SetCanceler([weak_inner] {
    if (auto s = weak_inner.lock()) s->Cancel();
  });
  return Future<void>(out);
}

Future<bool> WorkflowContext::WaitUntil(std::function<bool()> condition, Duration timeout) {
  return Future<bool>(driver_.WaitUntil(std::move(condition), timeout, disconnected_));
}

Payloads WorkflowContext::SideEffectRaw(const std::function<Payloads()>& fn) { return driver_.SideEffect(fn); }

bool WorkflowContext::Patched(const std::string& change_id) { return driver_.Patched(change_id, false); }
void WorkflowContext::DeprecatePatch(const std::string& change_id) { (void)driver_.Patched(change_id, true); }

void WorkflowContext::UpsertSearchAttributes(const std::map<std::string, nlohmann::json>& attributes) {
  driver_.UpsertSearchAttributes(attributes);
}

}  // namespace keel
