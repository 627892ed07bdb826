#include "engine/testing/test_environment.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "engine/random.h"

namespace keel::testing {

TestEnvironment::TestEnvironment(const Registry& registry, TestEnvironmentOptions options)
    : registry_(&registry), options_(std::move(options)) {
  if (options_.db_path.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "keel-env-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    temp_dir_ = tmpl;
    db_path_ = temp_dir_ + "/keel.db";
  } else {
    db_path_ = options_.db_path;
  }
  random_ = std::make_unique<SeededRandom>(options_.seed);
  skipping_ = options_.time_skipping;
  Open();
  skipper_ = std::thread([this] { SkipLoop(); });
}

TestEnvironment::~TestEnvironment() {
  {
    std::lock_guard<std::mutex> g(skip_mu_);
    stop_skipper_ = true;
  }
  skip_cv_.notify_all();
  skipper_.join();
  Close();
  if (!temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
  }
}

void TestEnvironment::Open() {
  EngineOptions eo;
  eo.db_path = db_path_;
  eo.clock = &clock_;
  eo.random = random_.get();
  eo.group_commit = options_.group_commit;
  eo.durability = options_.durability;
  auto engine = Engine::Open(eo);
  if (!engine.ok()) throw std::runtime_error("TestEnvironment: " + engine.status().ToString());
  engine_ = std::move(engine).value();
  engine_->SetActivityListener([this] {
    {
      std::lock_guard<std::mutex> g(skip_mu_);
      ++activity_;
    }
    skip_cv_.notify_all();
  });
  client_ = std::make_unique<Client>(*engine_);
  WorkerOptions wo = options_.worker;
  wo.clock = &clock_;
  worker_ = std::make_unique<Worker>(*engine_, *registry_, wo);
  if (options_.start_worker) worker_->Start();
}

void TestEnvironment::Close() {
  {
    // The skipper must not touch the engine while it goes away.
    std::lock_guard<std::mutex> g(skip_mu_);
    if (engine_) engine_->SetActivityListener(nullptr);
    closed_for_restart_ = true;
  }
  if (worker_) worker_->Stop();
  worker_.reset();
  client_.reset();
  engine_.reset();
}

void TestEnvironment::Restart() {
  Close();
  Open();
  {
    std::lock_guard<std::mutex> g(skip_mu_);
    closed_for_restart_ = false;
    ++activity_;
  }
  skip_cv_.notify_all();
}

void TestEnvironment::SetTimeSkipping(bool on) {
  {
    std::lock_guard<std::mutex> g(skip_mu_);
    skipping_ = on;
    ++activity_;
  }
  skip_cv_.notify_all();
}

// Event-driven: wakes on every engine activity notification, and jumps only when the
// engine is quiescent (every workflow blocked on a timer, a signal or nothing).
void TestEnvironment::SkipLoop() {
  std::unique_lock<std::mutex> lock(skip_mu_);
  uint64_t seen = 0;
  while (true) {
    skip_cv_.wait(lock, [&] { return stop_skipper_ || activity_ != seen; });
    if (stop_skipper_) return;
    seen = activity_;
    if (!skipping_ || closed_for_restart_ || !engine_ || !engine_->Quiescent()) continue;
    auto next = engine_->NextTimerTime();
    if (!next || *next <= clock_.Now()) continue;
    lock.unlock();
    ++skips_;
    clock_.AdvanceTo(*next);
    lock.lock();
  }
}

void TestEnvironment::Deploy(const Registry& registry) {
  if (worker_) worker_->Stop();
  registry_ = &registry;
  WorkerOptions wo = options_.worker;
  wo.clock = &clock_;
  worker_ = std::make_unique<Worker>(*engine_, *registry_, wo);
  worker_->Start();
}

v1::HistoryEvent TestEnvironment::WaitForEvent(const std::string& workflow_id,
                                               const std::function<bool(const v1::HistoryEvent&)>& match) {
  int64_t next = 1;
  v1::GetWorkflowExecutionHistoryRequest req;
  req.mutable_workflow_execution()->set_workflow_id(workflow_id);
  while (true) {
    req.set_first_event_id(next);
    req.set_wait_new_event(true);
    auto resp = engine_->GetWorkflowExecutionHistory(req);
    if (!resp.ok()) throw std::runtime_error("WaitForEvent: " + resp.status().ToString());
    for (const auto& e : resp->history().events()) {
      if (match(e)) return e;
      next = e.event_id() + 1;
    }
    if (resp->history().events_size() == 0) {
      v1::DescribeWorkflowExecutionRequest d;
      *d.mutable_workflow_execution() = req.workflow_execution();
      auto desc = engine_->DescribeWorkflowExecution(d);
      if (desc.ok() && desc->info().status() != v1::WORKFLOW_EXECUTION_STATUS_RUNNING) {
        throw std::runtime_error("WaitForEvent: workflow " + workflow_id + " closed without the awaited event");
      }
    }
  }
}

}  // namespace keel::testing
