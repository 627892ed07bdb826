#include "tools/mcp/environment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace keel::tools::mcp {
namespace {

using ::testing::ElementsAre;

TEST(EnvironmentTest, SecretLookingNamesAreRecognised) {
  for (const char* name :
       {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN", "GH_TOKEN", "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID", "DB_PASSWORD", "my_secret", "STRIPE_KEY", "NPM_AUTH", "KEY",
        "HF_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS"}) {
    EXPECT_TRUE(LooksSecret(name)) << name;
  }
  for (const char* name : {"PATH", "HOME", "LANG", "KEYBOARD_LAYOUT", "MONKEY_MODE"}) {
    EXPECT_FALSE(LooksSecret(name)) << name;
  }
}

TEST(EnvironmentTest, OnlyTheSafeListAndRequestedNamesAreInherited) {
  const char* parent[] = {"PATH=/usr/bin",      "HOME=/home/ada",
                          "LC_ALL=C.UTF-8",     "OPENAI_API_KEY=sk-live",
                          "GITHUB_TOKEN=ghp_x", "DATABASE_URL=postgres://u:p@h/db",
                          "MYAPP_MODE=fast",    "MYAPP_TOKEN=t0k",
                          "MYAPP_API_KEY=k",    "NODE_OPTIONS=--require /tmp/x.js",
                          "no_equals_sign",     nullptr};
  EXPECT_THAT(ServerEnvironment(parent, {}, {}),
              ElementsAre("HOME=/home/ada", "LC_ALL=C.UTF-8", "PATH=/usr/bin"));
  // A pattern does not let secrets through; explicit values are set as given.
  EXPECT_THAT(ServerEnvironment(parent, {"MYAPP_*", "GITHUB_TOKEN"},
                                {{"SERVER_TOKEN", "given"}, {"PATH", "/opt"}}),
              ElementsAre("HOME=/home/ada", "LC_ALL=C.UTF-8", "MYAPP_MODE=fast", "PATH=/opt",
                          "SERVER_TOKEN=given"));
}

}  // namespace
}  // namespace keel::tools::mcp
