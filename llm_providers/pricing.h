// PriceTable: USD per million tokens for each model id, and the cost of one call's Usage.
// DefaultPriceTable() holds a few current models of each provider; it is data to edit
// (pricing.cc says when it was checked), not a promise. Unknown and local models cost 0
// with Cost::unknown_price set. A table is a value; the default one is immutable.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "llm_providers/chat.h"

namespace keel::llm {

// USD per 1,000,000 tokens. Unset optional prices fall back: cached_input and
// cache_write to input, reasoning to output.
struct ModelPrice {
  double input = 0;
  double output = 0;
  std::optional<double> cached_input;  // prompt-cache reads
  std::optional<double> cache_write;   // prompt-cache writes (Anthropic)
  std::optional<double> reasoning;     // reasoning tokens (billed as output by OpenAI)

  bool operator==(const ModelPrice&) const = default;
};

class PriceTable {
 public:
  PriceTable() = default;
  explicit PriceTable(std::map<std::string, ModelPrice, std::less<>> prices)
      : prices_(std::move(prices)) {}

  void Set(std::string model, ModelPrice price) { prices_[std::move(model)] = price; }

  // The exact id, else the longest entry that is a prefix of it ending at a '-' (so
  // "gpt-4o-2024-08-06" finds "gpt-4o" and "gpt-4o-mini-2024-07-18" finds "gpt-4o-mini").
  const ModelPrice* Find(std::string_view model) const;

  Cost CostOf(std::string_view model, const Usage& usage) const;

  const std::map<std::string, ModelPrice, std::less<>>& prices() const { return prices_; }

 private:
  std::map<std::string, ModelPrice, std::less<>> prices_;
};

// The built-in table (see pricing.cc for the date and the sources).
const PriceTable& DefaultPriceTable();

}  // namespace keel::llm
