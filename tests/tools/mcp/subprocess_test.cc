#include "tools/mcp/subprocess.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

namespace keel::tools::mcp {
namespace {

using ::testing::HasSubstr;

// Everything until EOF (the fds are non-blocking: wait for data with poll).
std::string ReadAll(int fd) {
  std::string out;
  char buf[256];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, -1);
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n == 0) return out;
    if (n > 0) out.append(buf, n);
  }
}

TEST(SubprocessTest, RunsWithTheGivenEnvironmentAndReportsItsExit) {
  auto p = Subprocess::Spawn({"sh", "-c", "echo \"$GREETING\"; echo oops >&2; exit 4"},
                             {"GREETING=hi"}, "");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(ReadAll((*p)->stdout_fd()), "hi\n");
  EXPECT_EQ(ReadAll((*p)->stderr_fd()), "oops\n");
  ASSERT_TRUE((*p)->WaitUntil(Time::max(), Clock::System()));
  EXPECT_EQ(Subprocess::DescribeExit(*(*p)->ExitStatus()), "exited with status 4");
}

TEST(SubprocessTest, SignalsReachTheWholeProcessGroup) {
  // The shell starts a grandchild that would hold stdout open forever; killing the
  // group ends both, so stdout closes.
  auto p = Subprocess::Spawn({"sh", "-c", "tail -f /dev/null & echo started; wait"}, {}, "");
  ASSERT_TRUE(p.ok());
  std::string started;
  while (started.find('\n') == std::string::npos) {
    pollfd pfd{(*p)->stdout_fd(), POLLIN, 0};
    ::poll(&pfd, 1, -1);
    char buf[64];
    ssize_t n = ::read((*p)->stdout_fd(), buf, sizeof(buf));
    ASSERT_GT(n, 0);
    started.append(buf, n);
  }
  EXPECT_EQ(started, "started\n");
  (*p)->Signal(SIGKILL);
  EXPECT_EQ(ReadAll((*p)->stdout_fd()), "");
  ASSERT_TRUE((*p)->WaitUntil(Time::max(), Clock::System()));
  EXPECT_THAT(Subprocess::DescribeExit(*(*p)->ExitStatus()), HasSubstr("killed by signal 9"));
}

TEST(SubprocessTest, TheChildGetsNoOtherFileDescriptors) {
  // fd 77: open without close-on-exec, as a careless library might leave one.
  ASSERT_EQ(::dup2(STDERR_FILENO, 77), 77);
  auto p = Subprocess::Spawn(
      {"sh", "-c", "if [ -e /proc/self/fd/77 ]; then echo leaked; else echo closed; fi"}, {}, "");
  ::close(77);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(ReadAll((*p)->stdout_fd()), "closed\n");
  EXPECT_TRUE((*p)->WaitUntil(Time::max(), Clock::System()));
}

TEST(SubprocessTest, AMissingProgramIsNotFound) {
  auto p = Subprocess::Spawn({"keel-no-such-program-xyz"}, {}, "");
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
}

TEST(SubprocessTest, WaitingStopsAtTheDeadline) {
  ManualClock clock;
  auto p = Subprocess::Spawn({"cat"}, {}, "");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE((*p)->WaitUntil(clock.Now(), clock));  // still running: cat waits for stdin
  (*p)->CloseStdin();
  EXPECT_TRUE((*p)->WaitUntil(Time::max(), clock));
  EXPECT_EQ(Subprocess::DescribeExit(*(*p)->ExitStatus()), "exited with status 0");
}

}  // namespace
}  // namespace keel::tools::mcp
