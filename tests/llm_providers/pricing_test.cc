// Cost accounting from the price table, cached and reasoning tokens priced separately.
#include "llm_providers/pricing.h"

#include <gtest/gtest.h>

namespace keel::llm {
namespace {

TEST(PricingTest, FindsExactIdsAndDatedSnapshotsByLongestPrefix) {
  const PriceTable& t = DefaultPriceTable();
  ASSERT_NE(t.Find("gpt-4o"), nullptr);
  EXPECT_EQ(t.Find("gpt-4o-2024-08-06"), t.Find("gpt-4o"));
  EXPECT_EQ(t.Find("gpt-4o-mini-2024-07-18"), t.Find("gpt-4o-mini"));
  EXPECT_NE(t.Find("gpt-4o-mini"), t.Find("gpt-4o"));
  EXPECT_EQ(t.Find("claude-sonnet-4-5-20250929"), t.Find("claude-sonnet-4-5"));
  EXPECT_EQ(t.Find("claude-opus-4-1-20250805"), t.Find("claude-opus-4-1"));
  EXPECT_EQ(t.Find("gpt-4ox"), nullptr);  // a prefix must end at '-'
  EXPECT_EQ(t.Find("llama3.2"), nullptr);
}

TEST(PricingTest, CostsInputOutputCachedAndReasoningTokensSeparately) {
  PriceTable t;
  t.Set("m",
        {.input = 2.0, .output = 8.0, .cached_input = 0.5, .cache_write = 3.0, .reasoning = 10.0});
  Usage u{.input_tokens = 1'000'000,
          .output_tokens = 500'000,
          .cached_input_tokens = 200'000,
          .cache_write_tokens = 100'000,
          .reasoning_tokens = 100'000};
  // fresh 700k x 2 + cached 200k x 0.5 + written 100k x 3 + visible 400k x 8 + reasoning 100k x 10
  Cost c = t.CostOf("m", u);
  EXPECT_FALSE(c.unknown_price);
  EXPECT_DOUBLE_EQ(c.usd, 6.0);
}

TEST(PricingTest, UnsetPricesFallBackToInputAndOutput) {
  PriceTable t;
  t.Set("m", {.input = 1.0, .output = 4.0});
  Cost c = t.CostOf("m", {.input_tokens = 1'000'000,
                          .output_tokens = 1'000'000,
                          .cached_input_tokens = 500'000,
                          .reasoning_tokens = 500'000});
  EXPECT_DOUBLE_EQ(c.usd, 5.0);
}

TEST(PricingTest, UnknownModelsCostNothingAndSaySo) {
  Cost c = DefaultPriceTable().CostOf("llama3.2", {.input_tokens = 1000, .output_tokens = 1000});
  EXPECT_EQ(c.usd, 0);
  EXPECT_TRUE(c.unknown_price);
}

TEST(PricingTest, DefaultTableHasModelsOfBothProviders) {
  const PriceTable& t = DefaultPriceTable();
  Cost c = t.CostOf("gpt-4o-mini", {.input_tokens = 1'000'000, .output_tokens = 1'000'000});
  EXPECT_DOUBLE_EQ(c.usd, 0.15 + 0.60);
  c = t.CostOf("claude-haiku-4-5", {.input_tokens = 1'000'000, .output_tokens = 1'000'000});
  EXPECT_DOUBLE_EQ(c.usd, 1.0 + 5.0);
}

}  // namespace
}  // namespace keel::llm
