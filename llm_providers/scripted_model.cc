#include "llm_providers/scripted_model.h"

#include "llm_providers/provider_errors.h"

namespace keel::llm {

ScriptedModel::ScriptedModel(std::vector<ChatResponse> responses) {
  for (auto& r : responses) Push(std::move(r));
}

void ScriptedModel::Push(ChatResponse response) {
  if (response.provider.empty()) response.provider = "scripted";
  if (response.model.empty()) response.model = "scripted";
  response.message.role = Role::kAssistant;
  if (response.finish_reason == FinishReason::kUnknown) {
    response.finish_reason =
        response.message.tool_calls.empty() ? FinishReason::kStop : FinishReason::kToolCalls;
  }
  std::lock_guard<std::mutex> lock(mu_);
  queue_.emplace_back(std::move(response));
}

void ScriptedModel::PushText(std::string text) {
  Push({.message = Message::Assistant(std::move(text))});
}

void ScriptedModel::PushToolCall(std::string tool, nlohmann::json arguments, std::string id) {
  if (id.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    id = "scripted_call_" + std::to_string(++calls_pushed_);
  }
  Push({.message = Message::Assistant(
            "",
            {{.id = std::move(id), .name = std::move(tool), .arguments = std::move(arguments)}})});
}

void ScriptedModel::PushError(ApplicationError error) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.emplace_back(std::move(error));
}

ChatResponse ScriptedModel::Complete(const ChatRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(request);
  if (queue_.empty()) {
    throw ApplicationError(
        kScriptExhausted,
        "scripted model: no response left for request " + std::to_string(requests_.size()),
        {.non_retryable = true});
  }
  auto next = std::move(queue_.front());
  queue_.pop_front();
  if (auto* error = std::get_if<ApplicationError>(&next)) throw *error;
  return std::get<ChatResponse>(std::move(next));
}

std::vector<ChatRequest> ScriptedModel::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t ScriptedModel::Remaining() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace keel::llm
