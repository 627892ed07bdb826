// Source rules a reviewer would otherwise check by hand (STYLE.md rules 5 and 9):
// only engine/clock.cc reads the host clock, only engine/random.cc reads
// std::random_device, nothing sleeps (tests synchronise on events; a deliberate sleep is
// marked "// sync-ok"), and only the SQLite wrapper includes <sqlite3.h>.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Rule {
  const char* what;
  std::regex pattern;
  std::vector<std::string> allowed;  // path prefixes where the pattern is fine
};

std::vector<std::string> Violations(const Rule& rule) {
  std::vector<std::string> out;
  const fs::path root(KEEL_SOURCE_DIR);
  for (const char* dir : {"engine", "examples", "tests", "agents", "tools", "llm_providers", "human_review"}) {
    if (!fs::exists(root / dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      const auto ext = entry.path().extension();
      if (!entry.is_regular_file() || (ext != ".cc" && ext != ".h")) continue;
      const std::string rel = fs::relative(entry.path(), root).string();
      if (rel == "tests/support/lint_test.cc") continue;
      bool allowed = false;
      for (const auto& prefix : rule.allowed) allowed |= rel.rfind(prefix, 0) == 0;
      if (allowed) continue;
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        if (line.find("// sync-ok") != std::string::npos) continue;
        const auto comment = line.find("//");
        const std::string code = comment == std::string::npos ? line : line.substr(0, comment);
        if (std::regex_search(code, rule.pattern)) out.push_back(rel + ":" + std::to_string(n) + ": " + line);
      }
    }
  }
  return out;
}

void ExpectClean(const Rule& rule) {
  auto v = Violations(rule);
  std::string all;
  for (const auto& s : v) all += "  " + s + "\n";
  EXPECT_TRUE(v.empty()) << rule.what << ":\n" << all;
}

TEST(LintTest, OnlyTheClockReadsTheHostClock) {
  ExpectClean({"read time through keel::Clock (inject ManualClock in tests)",
               std::regex(R"(\b(system_clock|steady_clock|high_resolution_clock)::now\b|\bgettimeofday\b|\bclock_gettime\b|\btime\((nullptr|NULL|0)\))"),
               {"engine/clock.cc"}});
}

TEST(LintTest, OnlyRandomReadsTheOperatingSystemsRandomness) {
  ExpectClean({"use an injected keel::Random", std::regex(R"(\brandom_device\b)"), {"engine/random.cc"}});
}

TEST(LintTest, NothingSleeps) {
  ExpectClean({"synchronise on events or use ManualClock; mark a deliberate sleep with // sync-ok",
               std::regex(R"(\bsleep_for\b|\bsleep_until\b|\busleep\s*\(|(^|[^_\w.])sleep\s*\()"),  // sync-ok: the rule itself
               {}});
}

TEST(LintTest, OnlyTheSqliteWrapperIncludesSqlite) {
  ExpectClean({"go through engine/store (only engine/store/sqlite/ includes <sqlite3.h>)",
               std::regex(R"(#\s*include\s*[<"]sqlite3\.h[>"])"),
               {"engine/store/sqlite/"}});
}

TEST(LintTest, TheRulesCatchViolations) {
  // The patterns themselves: a rule that matches nothing would pass vacuously.
  EXPECT_TRUE(std::regex_search("auto t = std::chrono::steady_clock::now();",
                                std::regex(R"(\b(system_clock|steady_clock|high_resolution_clock)::now\b)")));
  EXPECT_TRUE(std::regex_search("  std::this_thread::sleep_for(1s);", std::regex(R"(\bsleep_for\b)")));  // sync-ok
  EXPECT_TRUE(std::regex_search("  sleep(1);", std::regex(R"((^|[^_\w.])sleep\s*\()")));  // sync-ok
  EXPECT_FALSE(std::regex_search("  ctx.Sleep(1s);", std::regex(R"((^|[^_\w.])sleep\s*\()")));
}

}  // namespace
