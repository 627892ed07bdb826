#include "tests/llm_providers/fake_server.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace keel::llm::testing {

namespace {
std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
}  // namespace

std::string RecordedRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

FakeServer::FakeServer() : server_(std::make_unique<httplib::Server>()) {
  // A proxy configured on the machine must not see loopback test traffic.
  setenv("no_proxy", "127.0.0.1,localhost", 1);
  setenv("NO_PROXY", "127.0.0.1,localhost", 1);
  auto handle = [this](const httplib::Request& req, httplib::Response& res) {
    RecordedRequest r{.method = req.method, .path = req.path, .body = req.body};
    for (const auto& [k, v] : req.headers) r.headers[Lower(k)] = v;
    Reply reply = Next(r);
    if (reply.stall) {
      std::unique_lock<std::mutex> lock(mu_);
      released_cv_.wait(lock, [this] { return released_; });
      return;
    }
    res.status = reply.status;
    for (const auto& [k, v] : reply.headers) res.set_header(k, v);
    res.set_content(reply.body, "application/json");
  };
  // One request per connection: stop() would otherwise wait out idle keep-alive clients.
  server_->set_keep_alive_max_count(1);
  server_->Post(".*", handle);
  server_->Get(".*", handle);
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("fake server: cannot bind 127.0.0.1");
  // The socket listens from here on: a client may connect before the thread runs.
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_ = true;
  });
}

FakeServer::~FakeServer() { Stop(); }

void FakeServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (released_) return;  // stopped already
    released_ = true;
  }
  released_cv_.notify_all();
  // httplib's stop() does nothing until the accept loop runs: wait for it (a few
  // instructions after the thread starts), unless listening already ended.
  while (!server_->is_running() && !listen_returned_) std::this_thread::yield();
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string FakeServer::Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FakeServer::Push(Reply reply) {
  std::lock_guard<std::mutex> lock(mu_);
  replies_.push_back(std::move(reply));
}

void FakeServer::SetHandler(std::function<Reply(const RecordedRequest&)> handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

Reply FakeServer::Next(const RecordedRequest& request) {
  std::function<Reply(const RecordedRequest&)> handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    handler = handler_;
    if (!handler) {
      if (replies_.empty()) return {500, R"({"error":{"message":"no scripted reply"}})"};
      Reply next = std::move(replies_.front());
      replies_.pop_front();
      return next;
    }
  }
  return handler(request);
}

std::vector<RecordedRequest> FakeServer::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

RecordedRequest FakeServer::LastRequest() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (requests_.empty()) throw std::runtime_error("fake server: no request received");
  return requests_.back();
}

}  // namespace keel::llm::testing
