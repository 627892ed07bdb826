#include "tools/mcp/connection.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/log.h"
#include "tools/internal/utf8.h"
#include "tools/mcp/pipe_io.h"

namespace keel::tools::mcp {

namespace {

// How long a dying server gets to exit and flush stderr once its stdout has ended, so
// the error can say how it ended.
constexpr auto kDeathGrace = std::chrono::seconds(2);
// How often a waiting request asks its is_cancelled callback.
constexpr auto kCancelPoll = std::chrono::milliseconds(500);
// Answers to the server's own requests (ping) must not block the reader for long.
constexpr auto kReplyTimeout = std::chrono::seconds(5);

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

Connection::Connection(std::unique_ptr<Subprocess> process, ConnectionOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : Clock::System()),
      process_(std::move(process)) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
    wake_read_.Reset(fds[0]);
    wake_write_.Reset(fds[1]);
  }
  reader_ = std::thread([this] { ReadLoop(); });
}

Connection::~Connection() { Close(Duration::zero()); }

bool Connection::Alive() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !dead_;
}

Status Connection::DeathStatus() const {
  std::lock_guard<std::mutex> lock(mu_);
  return death_;
}

Status Connection::Send(const Json& message, Time deadline) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return WriteAll(process_->stdin_fd(), Frame(message), deadline, clock_);
}

Status Connection::Notify(std::string_view method, const Json& params, Time deadline) {
  Status s = Send(MakeNotification(method, params), deadline);
  if (s.ok()) return s;
  return Status(s.code(), "MCP server '" + options_.name + "': " + s.message());
}

Result<Json> Connection::Request(std::string_view method, const Json& params, Time deadline,
                                 const std::function<bool()>& cancelled) {
  Waiter waiter;
  int64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (dead_) return death_;
    id = next_id_++;
    waiting_[id] = &waiter;
  }
  const std::string what = "MCP server '" + options_.name + "' ";
  auto cancel = [&](const char* reason) {
    Status ignored = Notify("notifications/cancelled", Json{{"requestId", id}, {"reason", reason}},
                            clock_.Now() + kReplyTimeout);
    (void)ignored;
  };

  Status sent = Send(MakeRequest(id, method, params), deadline);
  std::unique_lock<std::mutex> lock(mu_);
  if (!sent.ok()) {
    if (sent.code() == StatusCode::kUnavailable) {
      // The server is going away: wait for the reader to learn how it ended.
      clock_.WaitUntil(lock, cv_, clock_.Now() + kDeathGrace + std::chrono::seconds(1),
                       [&] { return dead_; });
    }
    waiting_.erase(id);
    if (dead_) return death_;
    return Status(sent.code(),
                  what + "could not be sent " + std::string(method) + ": " + sent.message());
  }
  for (;;) {
    Time until = cancelled ? std::min(deadline, clock_.Now() + kCancelPoll) : deadline;
    clock_.WaitUntil(lock, cv_, until, [&] { return waiter.response.has_value() || dead_; });
    if (waiter.response) {
      waiting_.erase(id);
      return std::move(*waiter.response);
    }
    if (dead_) {
      waiting_.erase(id);
      return death_;
    }
    if (clock_.Now() >= deadline) {
      waiting_.erase(id);
      lock.unlock();
      cancel("timed out");
      return DeadlineExceeded(what + "did not answer " + std::string(method) + " in time");
    }
    if (cancelled) {
      lock.unlock();
      bool stop = cancelled();
      lock.lock();
      if (stop && !waiter.response) {
        waiting_.erase(id);
        lock.unlock();
        cancel("cancelled");
        return Cancelled(std::string(method) + " cancelled");
      }
    }
  }
}

void Connection::ReadLoop() {
  char buf[65536];
  int err_fd = process_->stderr_fd();  // -1 once stderr has ended (poll skips it)
  for (;;) {
    pollfd fds[3] = {
        {process_->stdout_fd(), POLLIN, 0}, {err_fd, POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return Die(std::string("poll failed: ") + std::strerror(errno));
    }
    if (fds[2].revents != 0) return;  // Close() is in charge
    if (fds[1].revents != 0 && !ReadStderr()) err_fd = -1;
    if (fds[0].revents == 0) continue;
    ssize_t n = ::read(process_->stdout_fd(), buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    stdout_buffer_.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = stdout_buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
      HandleLine(std::string_view(stdout_buffer_).substr(start, nl - start));
    }
    stdout_buffer_.erase(0, start);
    if (stdout_buffer_.size() > options_.max_message_bytes) {
      process_->Signal(SIGKILL);
      return Die("sent a message larger than " + std::to_string(options_.max_message_bytes) +
                 " bytes");
    }
  }
  // stdout ended. Let the server finish exiting and flushing stderr, then say how it ended.
  Time grace = clock_.Now() + kDeathGrace;
  while (err_fd >= 0 && clock_.Now() < grace) {
    pollfd fds[2] = {{err_fd, POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    ::poll(fds, 2, 100);
    if (fds[1].revents != 0) break;
    if (fds[0].revents != 0 && !ReadStderr()) err_fd = -1;
  }
  if (process_->WaitUntil(grace, clock_)) {
    Die(Subprocess::DescribeExit(*process_->ExitStatus()));
  } else {
    Die("closed its stdout");
  }
}

bool Connection::ReadStderr() {
  char buf[8192];
  ssize_t n = ::read(process_->stderr_fd(), buf, sizeof(buf));
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  if (n == 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  stderr_tail_.append(buf, static_cast<size_t>(n));
  if (stderr_tail_.size() > options_.stderr_tail_bytes) {
    stderr_tail_.erase(0, stderr_tail_.size() - options_.stderr_tail_bytes);
  }
  return true;
}

void Connection::HandleLine(std::string_view line) {
  if (Trim(line).empty()) return;
  Json message = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  switch (Classify(message)) {
    case MessageKind::kResponse: {
      if (!message["id"].is_number_integer()) return;
      std::lock_guard<std::mutex> lock(mu_);
      auto it = waiting_.find(message["id"].get<int64_t>());
      if (it == waiting_.end()) return;  // answered after its caller gave up
      it->second->response = std::move(message);
      cv_.notify_all();
      return;
    }
    case MessageKind::kRequest: {
      // Keel offers no client features (roots, sampling, elicitation); it answers pings.
      const std::string method = message["method"].get<std::string>();
      Json reply = method == "ping"
                       ? MakeResult(message["id"], Json::object())
                       : MakeError(message["id"], kMethodNotFound,
                                   "Keel's MCP client does not support '" + method + "'");
      Status ignored = Send(reply, clock_.Now() + kReplyTimeout);
      (void)ignored;
      return;
    }
    case MessageKind::kNotification:
      Log().debug("MCP server '{}': {}", options_.name, message["method"].get<std::string>());
      return;
    case MessageKind::kInvalid: {
      // Not JSON-RPC: servers must not print to stdout. Keep it for the error message.
      std::lock_guard<std::mutex> lock(mu_);
      stderr_tail_ += "[stdout] " + std::string(line.substr(0, 200)) + "\n";
      return;
    }
  }
}

std::string Connection::StderrTail() const {
  // The last few non-empty lines, on one line.
  std::vector<std::string> lines;
  size_t end = stderr_tail_.size();
  while (end > 0 && lines.size() < 3) {
    size_t start = stderr_tail_.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::string line = Trim(std::string_view(stderr_tail_).substr(start, end - start));
    if (!line.empty()) lines.insert(lines.begin(), line);
    end = start == 0 ? 0 : start - 1;
  }
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : " | ") + l;
  if (out.size() > 500) out = "..." + out.substr(out.size() - 500);
  return internal::ValidUtf8(out);
}

void Connection::Die(const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (dead_) return;
  dead_ = true;
  std::string tail = StderrTail();
  std::string message = "MCP server '" + options_.name + "' " + (closing_ ? "was shut down" : why);
  if (!tail.empty()) message += "; stderr: " + tail;
  death_ = Unavailable(message);
  cv_.notify_all();
}

void Connection::Close(Duration grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return;
    closing_ = true;
  }
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    process_->CloseStdin();
  }
  if (!process_->WaitUntil(clock_.Now() + grace, clock_)) {
    process_->Signal(SIGTERM);
    if (!process_->WaitUntil(clock_.Now() + grace, clock_)) {
      process_->Signal(SIGKILL);
      process_->WaitUntil(Time::max(), clock_);
    }
  }
  if (wake_write_.valid()) {
    char byte = 1;
    ssize_t ignored = ::write(wake_write_.get(), &byte, 1);
    (void)ignored;
  }
  if (reader_.joinable()) reader_.join();
  Die("was shut down");
}

}  // namespace keel::tools::mcp
