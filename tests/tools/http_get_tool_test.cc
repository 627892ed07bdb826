#include "tools/http_get_tool.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/errors.h"

namespace keel::tools {
namespace {

using ::testing::HasSubstr;

// A Transport that answers from a table and records what it was asked.
class FakeTransport final : public http::Transport {
 public:
  std::map<std::string, Result<http::Response>> answers;
  std::vector<http::Request> requests;

  Result<http::Response> Send(const http::Request& request) override {
    requests.push_back(request);
    auto it = answers.find(request.url);
    if (it == answers.end()) return Unavailable("no route to " + request.url);
    return it->second;
  }
};

http::Response Page(int status, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  return http::Response{.status = status, .headers = std::move(headers), .body = std::move(body)};
}

class HttpGetFakeTest : public ::testing::Test {
 protected:
  std::shared_ptr<Tool> NewTool(std::vector<std::string> allowed) {
    return NewHttpGetTool(
        {.allowed_hosts = std::move(allowed), .max_redirects = 2, .transport = transport_});
  }
  ToolResult Get(const std::shared_ptr<Tool>& tool, const std::string& url,
                 const ToolContext& ctx = {}) {
    return tool->Invoke({{"url", url}}, ctx);
  }
  std::shared_ptr<FakeTransport> transport_ = std::make_shared<FakeTransport>();
};

TEST_F(HttpGetFakeTest, FetchesFromAnAllowedHost) {
  transport_->answers.emplace("https://api.example.com/v1?q=1",
                              Page(200, "{\"ok\":true}", {{"content-type", "application/json"}}));
  ToolResult r = Get(NewTool({"api.example.com"}), "https://API.example.com/v1?q=1#top");
  EXPECT_FALSE(r.is_error) << r.ToText();
  EXPECT_EQ(r.ToText(), "{\"ok\":true}");
  EXPECT_EQ((*r.structured)["status"], 200);
  EXPECT_EQ((*r.structured)["content_type"], "application/json");
  ASSERT_EQ(transport_->requests.size(), 1u);
  EXPECT_EQ(transport_->requests[0].method, "GET");
  EXPECT_EQ(transport_->requests[0].max_response_bytes, 1u << 20);
}

TEST_F(HttpGetFakeTest, NeverContactsAHostOffTheList) {
  auto tool = NewTool({"api.example.com", "*.docs.org"});
  for (const char* url :
       {"https://evil.com/", "https://api.example.com.evil.com/", "https://docs.org/",
        "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd"}) {
    ToolResult r = Get(tool, url);
    EXPECT_TRUE(r.is_error) << url;
  }
  EXPECT_THAT(Get(tool, "https://evil.com/").ToText(),
              HasSubstr("host 'evil.com' is not on the allow-list"));
  EXPECT_TRUE(transport_->requests.empty());
  EXPECT_TRUE(Get(NewTool({}), "https://api.example.com/").is_error);
}

TEST_F(HttpGetFakeTest, FollowsRedirectsOnlyToAllowedHosts) {
  transport_->answers.emplace("https://a.example.com/old", Page(301, "", {{"location", "/new"}}));
  transport_->answers.emplace("https://a.example.com/new",
                              Page(302, "", {{"location", "https://b.example.com/x"}}));
  transport_->answers.emplace("https://b.example.com/x", Page(200, "landed"));
  transport_->answers.emplace("https://a.example.com/away",
                              Page(302, "", {{"location", "https://evil.com/"}}));
  transport_->answers.emplace("https://a.example.com/down",
                              Page(302, "", {{"location", "http://a.example.com/"}}));
  auto tool = NewTool({"*.example.com"});
  ToolResult r = Get(tool, "https://a.example.com/old");
  EXPECT_EQ(r.ToText(), "landed");
  EXPECT_EQ((*r.structured)["url"], "https://b.example.com/x");

  EXPECT_THAT(Get(tool, "https://a.example.com/away").ToText(),
              HasSubstr("'evil.com' is not on the allow-list"));
  EXPECT_THAT(Get(tool, "https://a.example.com/down").ToText(), HasSubstr("from https to http"));
  for (const auto& req : transport_->requests) EXPECT_THAT(req.url, HasSubstr("example.com"));
}

TEST_F(HttpGetFakeTest, StopsAfterTooManyRedirects) {
  transport_->answers.emplace("https://a.example.com/loop", Page(302, "", {{"location", "/loop"}}));
  ToolResult r = Get(NewTool({"a.example.com"}), "https://a.example.com/loop");
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.ToText(), HasSubstr("more than 2 redirects"));
  EXPECT_EQ(transport_->requests.size(), 3u);
}

TEST_F(HttpGetFakeTest, ClientErrorsAreResultsAndServerErrorsAreRetryable) {
  transport_->answers.emplace("https://a.example.com/missing", Page(404, "not here"));
  transport_->answers.emplace("https://a.example.com/busy",
                              Page(503, "later", {{"retry-after", "7"}}));
  transport_->answers.emplace("https://a.example.com/huge",
                              ResourceExhausted("GET ...: response larger than"));
  transport_->answers.emplace("https://a.example.com/slow", DeadlineExceeded("GET ...: timed out"));
  auto tool = NewTool({"a.example.com"});
  ToolResult missing = Get(tool, "https://a.example.com/missing");
  EXPECT_TRUE(missing.is_error);
  EXPECT_THAT(missing.ToText(), HasSubstr("HTTP 404\nnot here"));
  EXPECT_THAT(Get(tool, "https://a.example.com/huge").ToText(), HasSubstr("response larger than"));
  try {
    Get(tool, "https://a.example.com/busy");
    FAIL() << "expected an ApplicationError";
  } catch (const ApplicationError& e) {
    EXPECT_EQ(e.Type(), "HttpGetUnavailable");
    EXPECT_FALSE(e.NonRetryable());
    EXPECT_EQ(e.NextRetryDelay(), std::chrono::seconds(7));
  }
  try {
    Get(tool, "https://a.example.com/slow");
    FAIL() << "expected an ApplicationError";
  } catch (const ApplicationError& e) {
    EXPECT_EQ(e.Type(), "HttpGetTimeout");
  }
  try {
    Get(tool, "https://a.example.com/refused");  // the fake has no route: kUnavailable
    FAIL() << "expected an ApplicationError";
  } catch (const ApplicationError& e) {
    EXPECT_EQ(e.Type(), "HttpGetUnavailable");
  }
}

TEST_F(HttpGetFakeTest, TheCallsDeadlineShortensTheTimeout) {
  ManualClock clock;
  transport_->answers.emplace("https://a.example.com/", Page(200, "x"));
  auto tool = NewHttpGetTool(
      {.allowed_hosts = {"a.example.com"}, .transport = transport_, .clock = &clock});
  Get(tool, "https://a.example.com/", {.deadline = clock.Now() + std::chrono::seconds(3)});
  ASSERT_EQ(transport_->requests.size(), 1u);
  EXPECT_EQ(transport_->requests[0].timeout, std::chrono::seconds(3));
  EXPECT_THROW(Get(tool, "https://a.example.com/", {.deadline = clock.Now()}), ApplicationError);
  EXPECT_THROW(Get(tool, "https://a.example.com/", {.is_cancelled = [] { return true; }}),
               CanceledError);
}

TEST_F(HttpGetFakeTest, BinaryBodiesAreSummarised) {
  transport_->answers.emplace(
      "https://a.example.com/logo.png",
      Page(200, std::string("\x89PNG\r\n\x1a\n\0\0", 10), {{"content-type", "image/png"}}));
  EXPECT_EQ(Get(NewTool({"a.example.com"}), "https://a.example.com/logo.png").ToText(),
            "[binary content: image/png, 10 bytes]");
}

// The same tool over libcurl against a real HTTP server on 127.0.0.1.
class HttpGetServerTest : public ::testing::Test {
 protected:
  HttpGetServerTest() {
    server_.Get("/hello", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello from the test server", "text/plain");
    });
    server_.Get("/moved", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/hello");
    });
    server_.Get("/offsite", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("http://169.254.169.254/latest/meta-data/");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(100000, 'x'), "text/plain");
    });
    server_.Get("/stall", [this](const httplib::Request&, httplib::Response& res) {
      // Answers only when the test is over: the client's timeout must fire first.
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return released_; });
      res.set_content("too late", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost (and join would hang).
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~HttpGetServerTest() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
    server_.stop();
    thread_.join();
  }

  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::shared_ptr<Tool> NewTool(HttpGetOptions options = {}) {
    options.allowed_hosts = {"127.0.0.1"};
    return NewHttpGetTool(std::move(options));
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

TEST_F(HttpGetServerTest, FetchesAPageAndFollowsALocalRedirect) {
  auto tool = NewTool();
  ToolResult r = tool->Invoke({{"url", Url("/hello")}});
  EXPECT_FALSE(r.is_error) << r.ToText();
  EXPECT_EQ(r.ToText(), "hello from the test server");
  ToolResult moved = tool->Invoke({{"url", Url("/moved")}});
  EXPECT_EQ(moved.ToText(), "hello from the test server");
  EXPECT_EQ((*moved.structured)["url"], Url("/hello"));
}

TEST_F(HttpGetServerTest, RefusesARedirectToAHostOffTheList) {
  ToolResult r = NewTool()->Invoke({{"url", Url("/offsite")}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.ToText(), HasSubstr("'169.254.169.254' is not on the allow-list"));
}

TEST_F(HttpGetServerTest, RefusesABodyOverTheSizeLimit) {
  ToolResult r = NewTool({.max_response_bytes = 1000})->Invoke({{"url", Url("/big")}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.ToText(), HasSubstr("larger than 1000 bytes"));
}

TEST_F(HttpGetServerTest, TimesOutWithARetryableError) {
  auto tool = NewTool({.timeout = std::chrono::milliseconds(300)});
  try {
    tool->Invoke({{"url", Url("/stall")}});
    FAIL() << "expected a timeout";
  } catch (const ApplicationError& e) {
    EXPECT_EQ(e.Type(), "HttpGetTimeout");
    EXPECT_FALSE(e.NonRetryable());
  }
}

// A port nobody listens on: bound, then closed without listen().
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(HttpGetServerTest, AConnectionRefusedIsRetryable) {
  try {
    std::string url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/hello";
    ToolResult r = NewTool()->Invoke({{"url", url}});
    FAIL() << "expected a connection failure, got " << r.ToText();
  } catch (const ApplicationError& e) {
    EXPECT_EQ(e.Type(), "HttpGetUnavailable");
  }
}

}  // namespace
}  // namespace keel::tools
