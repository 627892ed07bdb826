// LlmProvider: one model call. Complete() makes exactly one attempt (no hidden retries:
// the engine retries the activity that calls it, so no attempt is billed unseen) and
// throws keel::ApplicationError on failure, typed as in provider_errors.h, with the
// server's Retry-After as the next retry delay. Implementations are thread-safe.
#pragma once

#include <string>

#include "llm_providers/chat.h"

namespace keel::llm {

class LlmProvider {
 public:
  virtual ~LlmProvider() = default;

  virtual ChatResponse Complete(const ChatRequest& request) = 0;

  // "openai", "anthropic", "ollama", "offline", "scripted", ...
  virtual std::string Name() const = 0;
  // The model used when a request leaves ChatRequest::model empty.
  virtual std::string DefaultModel() const = 0;
};

}  // namespace keel::llm
