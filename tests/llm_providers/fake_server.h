// FakeServer: an HTTP server on 127.0.0.1 with an ephemeral port, started by a test to
// play a model provider. It answers from a queue of scripted replies (or a handler) and
// records every request, so a test checks the exact JSON and headers a provider sent. A
// stalled reply blocks until the server is destroyed (no sleeps). Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace httplib {
class Server;
}

namespace keel::llm::testing {

struct RecordedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  nlohmann::json Json() const { return nlohmann::json::parse(body); }
  std::string Header(const std::string& lower_name) const;
};

struct Reply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool stall = false;  // never answer (until the server is destroyed)

  static Reply Json(const nlohmann::json& body, int status = 200) { return {status, body.dump()}; }
};

class FakeServer {
 public:
  FakeServer();
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  std::string Url() const;  // "http://127.0.0.1:PORT"
  int port() const { return port_; }

  // Replies in order; with none left: HTTP 500 "no scripted reply".
  void Push(Reply reply);
  // Computes replies instead of the queue.
  void SetHandler(std::function<Reply(const RecordedRequest&)> handler);

  std::vector<RecordedRequest> Requests() const;
  RecordedRequest LastRequest() const;

  // Releases stalled replies, stops listening and joins the server thread.
  void Stop();

 private:
  Reply Next(const RecordedRequest& request);

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> listen_returned_{false};
  mutable std::mutex mu_;
  std::condition_variable released_cv_;
  bool released_ = false;
  std::deque<Reply> replies_;
  std::function<Reply(const RecordedRequest&)> handler_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace keel::llm::testing
