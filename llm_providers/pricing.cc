#include "llm_providers/pricing.h"

#include <algorithm>

namespace keel::llm {

const ModelPrice* PriceTable::Find(std::string_view model) const {
  if (auto it = prices_.find(model); it != prices_.end()) return &it->second;
  const ModelPrice* best = nullptr;
  size_t best_len = 0;
  for (const auto& [key, price] : prices_) {
    if (key.size() < model.size() && key.size() > best_len && model.substr(0, key.size()) == key &&
        model[key.size()] == '-') {
      best = &price;
      best_len = key.size();
    }
  }
  return best;
}

Cost PriceTable::CostOf(std::string_view model, const Usage& usage) const {
  const ModelPrice* p = Find(model);
  if (p == nullptr) return {.usd = 0, .unknown_price = true};
  const int64_t cached = std::max<int64_t>(0, usage.cached_input_tokens);
  const int64_t written = std::max<int64_t>(0, usage.cache_write_tokens);
  const int64_t fresh = std::max<int64_t>(0, usage.input_tokens - cached - written);
  const int64_t reasoning = std::clamp<int64_t>(usage.reasoning_tokens, 0, usage.output_tokens);
  const int64_t visible = std::max<int64_t>(0, usage.output_tokens - reasoning);
  const double micro_usd = fresh * p->input + cached * p->cached_input.value_or(p->input) +
                           written * p->cache_write.value_or(p->input) + visible * p->output +
                           reasoning * p->reasoning.value_or(p->output);
  return {.usd = micro_usd / 1e6, .unknown_price = false};
}

const PriceTable& DefaultPriceTable() {
  // EDIT ME. USD per million tokens as published on the providers' pricing pages
  // (platform.openai.com/docs/pricing, platform.claude.com/docs/en/about-claude/pricing),
  // checked 2026-11. Models missing here cost 0 with Cost::unknown_price set; add them
  // with PriceTable::Set or pass your own table in the provider options.
  static const PriceTable table({
      // OpenAI (cached input = prompt-cache hits; reasoning billed as output).
      {"gpt-5", {.input = 1.25, .output = 10.00, .cached_input = 0.125}},
      {"gpt-5-mini", {.input = 0.25, .output = 2.00, .cached_input = 0.025}},
      {"gpt-5-nano", {.input = 0.05, .output = 0.40, .cached_input = 0.005}},
      {"gpt-4.1", {.input = 2.00, .output = 8.00, .cached_input = 0.50}},
      {"gpt-4.1-mini", {.input = 0.40, .output = 1.60, .cached_input = 0.10}},
      {"gpt-4.1-nano", {.input = 0.10, .output = 0.40, .cached_input = 0.025}},
      {"gpt-4o", {.input = 2.50, .output = 10.00, .cached_input = 1.25}},
      {"gpt-4o-mini", {.input = 0.15, .output = 0.60, .cached_input = 0.075}},
      {"o3", {.input = 2.00, .output = 8.00, .cached_input = 0.50}},
      {"o4-mini", {.input = 1.10, .output = 4.40, .cached_input = 0.275}},
      // Anthropic (cache writes at the 5-minute rate).
      {"claude-opus-4-6",
       {.input = 5.00, .output = 25.00, .cached_input = 0.50, .cache_write = 6.25}},
      {"claude-opus-4-5",
       {.input = 5.00, .output = 25.00, .cached_input = 0.50, .cache_write = 6.25}},
      {"claude-opus-4-1",
       {.input = 15.00, .output = 75.00, .cached_input = 1.50, .cache_write = 18.75}},
      {"claude-opus-4",
       {.input = 15.00, .output = 75.00, .cached_input = 1.50, .cache_write = 18.75}},
      {"claude-sonnet-4-6",
       {.input = 3.00, .output = 15.00, .cached_input = 0.30, .cache_write = 3.75}},
      {"claude-sonnet-4-5",
       {.input = 3.00, .output = 15.00, .cached_input = 0.30, .cache_write = 3.75}},
      {"claude-sonnet-4",
       {.input = 3.00, .output = 15.00, .cached_input = 0.30, .cache_write = 3.75}},
      {"claude-haiku-4-5",
       {.input = 1.00, .output = 5.00, .cached_input = 0.10, .cache_write = 1.25}},
      {"claude-3-5-haiku",
       {.input = 0.80, .output = 4.00, .cached_input = 0.08, .cache_write = 1.00}},
  });
  return table;
}

}  // namespace keel::llm
