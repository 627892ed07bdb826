#include "tools/file_tools.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace keel::tools {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

void WriteText(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A sandbox inside a temp dir, with a secret next to it that no call may reach.
class FileToolsTest : public ::testing::Test {
 protected:
  FileToolsTest()
      : root_(fs::path(dir_.path()) / "sandbox"), outside_(fs::path(dir_.path()) / "outside") {
    fs::create_directories(root_);
    WriteText(outside_ / "secret.txt", "the secret");
    WriteText(root_ / "notes" / "a.txt", "hello");
    read_ = NewReadFileTool({.root = root_.string(), .max_read_bytes = 64});
    write_ = NewWriteFileTool({.root = root_.string(), .max_write_bytes = 64});
  }

  ToolResult Read(const std::string& path) { return read_->Invoke({{"path", path}}); }
  ToolResult Write(const std::string& path, const std::string& content) {
    return write_->Invoke({{"path", path}, {"content", content}});
  }

  testing::TempDir dir_;
  fs::path root_;
  fs::path outside_;
  std::shared_ptr<Tool> read_;
  std::shared_ptr<Tool> write_;
};

TEST_F(FileToolsTest, ReadsAndWritesInsideTheSandbox) {
  EXPECT_EQ(Read("notes/a.txt").ToText(), "hello");
  EXPECT_EQ(Read("./notes//a.txt").ToText(), "hello");
  ToolResult w = Write("drafts/new/b.md", "# B\n");
  EXPECT_FALSE(w.is_error) << w.ToText();
  EXPECT_EQ(ReadText(root_ / "drafts" / "new" / "b.md"), "# B\n");
  EXPECT_FALSE(Write("notes/a.txt", "bye").is_error);  // replaces
  EXPECT_EQ(Read("notes/a.txt").ToText(), "bye");
}

TEST_F(FileToolsTest, RefusesDotDot) {
  for (const std::string p : {"../outside/secret.txt", "notes/../../outside/secret.txt", ".."}) {
    ToolResult r = Read(p);
    EXPECT_TRUE(r.is_error) << p;
    EXPECT_THAT(r.ToText(), HasSubstr("'..' is not allowed")) << p;
  }
  EXPECT_TRUE(Write("../outside/x.txt", "x").is_error);
  EXPECT_FALSE(fs::exists(outside_ / "x.txt"));
}

TEST_F(FileToolsTest, RefusesAbsolutePaths) {
  ToolResult r = Read((outside_ / "secret.txt").string());
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.ToText(), HasSubstr("absolute paths are not allowed"));
  EXPECT_TRUE(Write((outside_ / "y.txt").string(), "y").is_error);
  EXPECT_FALSE(fs::exists(outside_ / "y.txt"));
}

TEST_F(FileToolsTest, RefusesASymlinkToAFileOutside) {
  fs::create_symlink(outside_ / "secret.txt", root_ / "link.txt");
  ToolResult r = Read("link.txt");
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.ToText(), HasSubstr("symbolic links are not followed"));
  EXPECT_TRUE(Write("link.txt", "overwritten").is_error);
  EXPECT_EQ(ReadText(outside_ / "secret.txt"), "the secret");
}

TEST_F(FileToolsTest, RefusesAPathThroughASymlinkedDirectory) {
  fs::create_directory_symlink(outside_, root_ / "escape");
  EXPECT_TRUE(Read("escape/secret.txt").is_error);
  ToolResult w = Write("escape/planted.txt", "x");
  EXPECT_TRUE(w.is_error);
  EXPECT_THAT(w.ToText(), HasSubstr("symbolic links are not followed"));
  EXPECT_FALSE(fs::exists(outside_ / "planted.txt"));
  // Also when the link is deeper and the write would create folders below it.
  fs::create_directory_symlink(outside_, root_ / "notes" / "deeper");
  EXPECT_TRUE(Write("notes/deeper/sub/planted.txt", "x").is_error);
  EXPECT_FALSE(fs::exists(outside_ / "sub"));
}

TEST_F(FileToolsTest, RefusesSymlinksEvenWhenTheyPointInside) {
  fs::create_symlink(root_ / "notes" / "a.txt", root_ / "alias.txt");
  EXPECT_TRUE(Read("alias.txt").is_error);
}

TEST_F(FileToolsTest, RefusesHardLinks) {
  ASSERT_EQ(::link((outside_ / "secret.txt").c_str(), (root_ / "hard.txt").c_str()), 0);
  ToolResult r = Read("hard.txt");
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.ToText(), HasSubstr("hard links"));
  EXPECT_TRUE(Write("hard.txt", "x").is_error);
  EXPECT_EQ(ReadText(outside_ / "secret.txt"), "the secret");
}

TEST_F(FileToolsTest, EnforcesSizeLimits) {
  WriteText(root_ / "big.txt", std::string(65, 'x'));
  ToolResult r = Read("big.txt");
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.ToText(), HasSubstr("larger than the limit of 64 bytes"));
  ToolResult w = Write("big2.txt", std::string(65, 'y'));
  EXPECT_TRUE(w.is_error);
  EXPECT_FALSE(fs::exists(root_ / "big2.txt"));
}

TEST_F(FileToolsTest, ReportsMissingFilesDirectoriesAndSpecialFiles) {
  EXPECT_THAT(Read("nope.txt").ToText(), HasSubstr("no such file"));
  EXPECT_THAT(Read("notes").ToText(), HasSubstr("is a directory"));
  EXPECT_THAT(Read(".").ToText(), HasSubstr("the sandbox directory itself"));
  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0644), 0);
  EXPECT_THAT(Read("fifo").ToText(), HasSubstr("not a regular file"));  // and does not block
  EXPECT_TRUE(Write("fifo", "x").is_error);
}

TEST_F(FileToolsTest, BinaryFilesAreRefusedAndInvalidUtf8IsReplaced) {
  WriteText(root_ / "bin", std::string("\x7f"
                                       "ELF\0\0\0",
                                       7));
  EXPECT_THAT(Read("bin").ToText(), HasSubstr("a binary file"));
  WriteText(root_ / "latin1.txt", "caf\xe9 au lait");
  EXPECT_EQ(Read("latin1.txt").ToText(), "caf\xEF\xBF\xBD au lait");
}

TEST_F(FileToolsTest, TheRootMustExist) {
  EXPECT_THROW(NewReadFileTool({.root = (root_ / "missing").string()}), std::invalid_argument);
}

}  // namespace
}  // namespace keel::tools
