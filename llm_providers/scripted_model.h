// ScriptedModel: a provider for tests. It answers from a queue of responses (or errors,
// thrown in turn) and records every request it got, so a test can script a conversation
// and then check exactly what the code under test sent. Thread-safe.
#pragma once

#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "engine/errors.h"
#include "llm_providers/provider.h"

namespace keel::llm {

class ScriptedModel final : public LlmProvider {
 public:
  ScriptedModel() = default;
  explicit ScriptedModel(std::vector<ChatResponse> responses);

  // Queue a response. Empty provider/model become "scripted"; an unknown finish reason
  // becomes kToolCalls or kStop from the message.
  void Push(ChatResponse response);
  void PushText(std::string text);
  void PushToolCall(std::string tool, nlohmann::json arguments, std::string id = "");
  // Complete() will throw this error when its turn comes.
  void PushError(ApplicationError error);

  // The next queued response (or error). Throws ApplicationError "ScriptExhausted"
  // (non-retryable) when the queue is empty.
  ChatResponse Complete(const ChatRequest& request) override;
  std::string Name() const override { return "scripted"; }
  std::string DefaultModel() const override { return "scripted"; }

  std::vector<ChatRequest> Requests() const;
  size_t Remaining() const;

 private:
  mutable std::mutex mu_;
  std::deque<std::variant<ChatResponse, ApplicationError>> queue_;
  std::vector<ChatRequest> requests_;
  int calls_pushed_ = 0;  // numbers the ids of PushToolCall
};

}  // namespace keel::llm
