// LogLines: collects the "keel" logger's lines while it lives, so a test can wait for a
// line (an event the code only reports in its log) and count lines.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/sinks/base_sink.h>

#include "engine/log.h"

namespace keel::testing {

class LogLines {
 public:
  LogLines() : sink_(std::make_shared<Sink>()) { Log().sinks().push_back(sink_); }
  ~LogLines() {
    auto& sinks = Log().sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  LogLines(const LogLines&) = delete;
  LogLines& operator=(const LogLines&) = delete;

  // Waits until `count` lines contain `text` (a line is "LEVEL message", e.g. "warning
  // ..."); false if `within` passed first (a test that fails, rather than hangs).
  bool WaitFor(const std::string& text, int count = 1,
               std::chrono::steady_clock::duration within = std::chrono::minutes(1)) {
    std::unique_lock<std::mutex> lock(sink_->mu);
    return sink_->cv.wait_for(lock, within, [&] { return CountLocked(text) >= count; });
  }
  int Count(const std::string& text) {
    std::lock_guard<std::mutex> g(sink_->mu);
    return CountLocked(text);
  }

 private:
  struct Sink : spdlog::sinks::base_sink<std::mutex> {
    std::mutex mu;  // guards lines
    std::condition_variable cv;
    std::vector<std::string> lines;

   protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      std::lock_guard<std::mutex> g(mu);
      auto level = spdlog::level::to_string_view(msg.level);
      lines.emplace_back(level.data(), level.size());
      lines.back() += " " + std::string(msg.payload.data(), msg.payload.size());
      cv.notify_all();
    }
    void flush_() override {}
  };
  int CountLocked(const std::string& text) const {
    int n = 0;
    for (const auto& l : sink_->lines) n += l.find(text) != std::string::npos;
    return n;
  }

  std::shared_ptr<Sink> sink_;
};

}  // namespace keel::testing
