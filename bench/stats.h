// Measurement helpers for keel-bench: percentiles, the process's peak RSS, a stopwatch and
// a stderr progress line. bench/ is the one place besides engine/clock.cc that reads the
// host clock: it measures the engine, it never decides anything by the time. Stopwatch and
// the free functions are thread-compatible; Progress is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace keel::bench {

// The p-th percentile (0 < p <= 100) of `samples` by the nearest-rank method (the
// smallest sample with at least p% of the samples at or below it); 0 when empty.
double Percentile(std::vector<double> samples, double p);

double Mean(const std::vector<double>& samples);

// A process's peak resident set size (VmHWM of /proc/PID/status) in MiB: this process's
// when pid is 0; -1 when it cannot be read.
double PeakRssMb(int pid = 0);

// CPU time (user + system, all threads) a process has used so far, in seconds, from
// /proc/PID/stat: this process's when pid is 0; -1 when it cannot be read. Resolution is
// the kernel's clock tick (10 ms), so read it around runs of a second or more.
double CpuSeconds(int pid = 0);

// `value` rounded to `decimals` decimal places, so the JSON line stays readable.
double Round(double value, int decimals);

// Monotonic wall time since construction (or the last Restart).
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  void Restart() { start_ = std::chrono::steady_clock::now(); }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  double Millis() const { return Seconds() * 1000.0; }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Prints "<label>: <done>/<total> <unit> (<s> s)" to stderr about once a second while
// work is under way, and a warning when nothing has finished for 30 s (a likely hang).
class Progress {
 public:
  Progress(std::string label, int total, std::string unit);
  ~Progress();  // stops the printer thread
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Add(int k = 1) { done_.fetch_add(k, std::memory_order_relaxed); }
  int done() const { return done_.load(std::memory_order_relaxed); }

 private:
  void Loop();

  std::string label_;
  int total_;
  std::string unit_;
  std::atomic<int> done_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace keel::bench
