// The worker's cache of live runs (sticky state between workflow tasks): at most `max`
// drivers, least recently used evicted first. A driver is taken out while its task runs,
// so only one thread touches it. Thread-safe.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "engine/runtime/run_driver.h"
#include "engine/worker.h"

namespace keel {

class Worker::RunCache {
 public:
  explicit RunCache(size_t max) : max_(max) {}

  std::unique_ptr<internal::RunDriver> Take(const std::string& run_id) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = index_.find(run_id);
    if (it == index_.end()) return nullptr;
    auto driver = std::move(it->second->second);
    lru_.erase(it->second);
    index_.erase(it);
    return driver;
  }

  bool Contains(const std::string& run_id) {
    std::lock_guard<std::mutex> g(mu_);
    return index_.count(run_id) > 0;
  }

  void Put(const std::string& run_id, std::unique_ptr<internal::RunDriver> driver) {
    std::unique_ptr<internal::RunDriver> evicted;  // destroyed outside the lock
    std::unique_ptr<internal::RunDriver> replaced;
    std::lock_guard<std::mutex> g(mu_);
    if (max_ == 0) return;
    if (auto it = index_.find(run_id); it != index_.end()) {  // a newer driver wins
      replaced = std::move(it->second->second);
      lru_.erase(it->second);
      index_.erase(it);
    }
    lru_.emplace_front(run_id, std::move(driver));
    index_[run_id] = lru_.begin();
    if (lru_.size() > max_) {
      evicted = std::move(lru_.back().second);
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }

 private:
  using Entry = std::pair<std::string, std::unique_ptr<internal::RunDriver>>;
  std::mutex mu_;
  size_t max_;
  std::list<Entry> lru_;
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace keel
