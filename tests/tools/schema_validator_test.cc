#include "tools/schema_validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace keel::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const nlohmann::json kSchema = nlohmann::json::parse(R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "city": {"type": "string"},
    "days": {"type": "integer", "minimum": 1},
    "tags": {"type": "array", "items": {"type": "string"}}
  },
  "required": ["city"],
  "additionalProperties": false
})");

std::shared_ptr<const SchemaValidator> Compiled() {
  auto v = SchemaValidator::Compile(kSchema);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return *v;
}

TEST(SchemaValidatorTest, AcceptsValidArguments) {
  EXPECT_TRUE(Compiled()->Validate({{"city", "Paris"}, {"days", 3}, {"tags", {"a", "b"}}}).ok());
  EXPECT_TRUE(Compiled()->Validate({{"city", "Paris"}}).ok());
}

TEST(SchemaValidatorTest, ReportsAMissingRequiredField) {
  Status s = Compiled()->Validate({{"days", 3}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("Missing required property 'city'"));
}

TEST(SchemaValidatorTest, ReportsAWrongTypeWithItsPathAndWhatWasFound) {
  Status s = Compiled()->Validate({{"city", 5}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("/city: wrong type: got integer 5"));
  // Only the violation, not every enclosing object valijson also reports.
  EXPECT_THAT(s.message(), Not(HasSubstr("Failed to validate")));
}

TEST(SchemaValidatorTest, ReportsAnExtraFieldWhenAdditionalPropertiesIsFalse) {
  Status s = Compiled()->Validate({{"city", "Paris"}, {"country", "FR"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("'country'"));
}

TEST(SchemaValidatorTest, ReportsEveryViolationWithNestedPaths) {
  Status s = Compiled()->Validate({{"city", "Paris"}, {"days", 0}, {"tags", {"a", 2}}});
  EXPECT_THAT(s.message(), HasSubstr("/days: "));
  EXPECT_THAT(s.message(), HasSubstr("/tags/1: wrong type: got integer 2"));
}

TEST(SchemaValidatorTest, StringsAreNotNumbers) {
  EXPECT_FALSE(Compiled()->Validate({{"city", "Paris"}, {"days", "3"}}).ok());
}

TEST(SchemaValidatorTest, ResolvesLocalReferencesOfLaterDrafts) {
  auto v = SchemaValidator::Compile(nlohmann::json::parse(R"({
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {"Unit": {"enum": ["celsius", "fahrenheit"]}},
    "properties": {"unit": {"$ref": "#/$defs/Unit"}}
  })"));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE((*v)->Validate({{"unit", "celsius"}}).ok());
  EXPECT_FALSE((*v)->Validate({{"unit", "kelvin"}}).ok());
}

TEST(SchemaValidatorTest, RefusesSchemasItCannotUse) {
  EXPECT_EQ(SchemaValidator::Compile({{"type", "objectx"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SchemaValidator::Compile(5).status().code(), StatusCode::kInvalidArgument);
  auto remote = SchemaValidator::Compile(
      {{"type", "object"}, {"properties", {{"a", {{"$ref", "https://example.com/a.json"}}}}}});
  EXPECT_EQ(remote.status().code(), StatusCode::kInvalidArgument);
}

TEST(SchemaValidatorTest, ABadPatternIsTheSchemasFaultNotTheValues) {
  auto v = SchemaValidator::Compile(
      {{"type", "object"}, {"properties", {{"a", {{"type", "string"}, {"pattern", "(["}}}}}});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)->Validate({{"a", "x"}}).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace keel::tools
