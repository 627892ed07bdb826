#include "tests/crash_server/client_driver.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "engine/grpc_frontend.h"
#include "engine/status.h"
#include "tests/crash_server/server_workload.h"

namespace keel::testing::crash_server {

namespace {

bool Retryable(int code) {
  return code == static_cast<int>(StatusCode::kUnavailable) ||
         code == static_cast<int>(StatusCode::kDeadlineExceeded);
}

}  // namespace

ClientDriver::ClientDriver(const std::string& address, EventQueue& events) : events_(events) {
  ConnectOptions options;
  options.address = address;
  // keeld runs with --poll-timeout 5: a result wait ends well before this.
  options.call_timeout = std::chrono::seconds(10);
  options.poll_timeout = std::chrono::seconds(20);
  auto frontend = ConnectToServer(options);
  if (!frontend.ok()) throw std::runtime_error(frontend.status().ToString());
  frontend_ = std::move(frontend).value();
  client_ = std::make_unique<Client>(*frontend_, ClientOptions{.identity = "crash-server-test"});
}

ClientDriver::~ClientDriver() {
  Stop();
  for (auto& t : threads_) t.join();
}

void ClientDriver::Start() {
  threads_.emplace_back([this] { StartAndAwait(); });
  for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { SendSignals(); });
}

void ClientDriver::Signal(int i, int k) {
  {
    std::lock_guard<std::mutex> g(mu_);
    signals_.emplace_back(i, k);
  }
  cv_.notify_all();
}

void ClientDriver::Stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

bool ClientDriver::Stopping() {
  std::lock_guard<std::mutex> g(mu_);
  return stopping_;
}

bool ClientDriver::Retry(const std::function<void(int attempt)>& call) {
  for (int attempt = 0;; ++attempt) {
    if (Stopping()) return false;
    try {
      call(attempt);
      return true;
    } catch (const ClientError& e) {
      if (!Retryable(e.Code())) throw;
    }
    ++retries_;
    // keeld is down or restarting: wait a little (less than a restart takes), or until
    // stopped.
    const auto backoff = std::chrono::milliseconds(20) * (1 << std::min(attempt, 4));
    std::unique_lock<std::mutex> lock(mu_);
    Clock::System().WaitUntil(lock, cv_, Clock::System().Now() + backoff, [this] { return stopping_; });
  }
}

void ClientDriver::StartAndAwait() {
  int i = 0;
  try {
    for (i = 0; i < kWorkflowCount; ++i) {
      const StartWorkflowOptions options{.id = WorkflowId(i),
                                         .id_reuse_policy = IdReusePolicy::kRejectDuplicate,
                                         .request_id = StartRequestId(i),
                                         .task_timeout = std::chrono::seconds(2)};
      if (!Retry([&](int) { client_->StartWorkflow(kWorkflowType, options, i); })) return;
    }
    for (i = 0; i < kWorkflowCount; ++i) {
      std::vector<std::string> signals;
      if (!Retry([&](int) { signals = client_->GetResult<std::vector<std::string>>(WorkflowId(i)); })) return;
      events_.Push({Event::Kind::kResult, i, 0, nlohmann::json(signals).dump()});
    }
  } catch (const std::exception& e) {
    events_.Push({Event::Kind::kError, i, 0, WorkflowId(i) + ": " + e.what()});
  }
}

void ClientDriver::SendSignals() {
  while (true) {
    std::pair<int, int> next;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !signals_.empty(); });
      if (stopping_) return;
      next = signals_.front();
      signals_.pop_front();
    }
    const auto [i, k] = next;
    try {
      const Payloads input = ToPayloads(SignalPayload(i, k));
      bool sent = Retry([&](int attempt) {
        try {
          client_->SignalPayloads(WorkflowId(i), "", kSignalName, input, SignalRequestId(i, k));
        } catch (const ClientError& e) {
          // An earlier attempt was recorded, and the workflow went on to complete: the
          // test checks its history for the signal.
          if (attempt == 0 || e.Code() != static_cast<int>(StatusCode::kNotFound)) throw;
          ++signals_after_close_;
        }
      });
      if (!sent) return;
    } catch (const std::exception& e) {
      events_.Push({Event::Kind::kError, i, 0, WorkflowId(i) + " signal " + std::to_string(k) + ": " + e.what()});
      return;
    }
  }
}

}  // namespace keel::testing::crash_server
