// Random: injected randomness for ids (run ids, lease ids) and retry jitter. SeededRandom
// is reproducible; SystemRandom seeds itself once from the OS (the only place that
// reads std::random_device). Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace keel {

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t Next() = 0;

  // A random version-4 UUID in canonical text form.
  std::string Uuid();

  // The process-wide SystemRandom.
  static Random& System();
};

// splitmix64: tiny, fast and fully specified, so a seed means the same sequence on
// every platform and compiler.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  uint64_t Next() override;

 private:
  std::mutex mu_;
  uint64_t state_;
};

class SystemRandom final : public Random {
 public:
  SystemRandom();
  uint64_t Next() override { return inner_.Next(); }

 private:
  SeededRandom inner_;
};

// One step of splitmix64 on `state` (exposed for deterministic workflow randomness).
uint64_t SplitMix64(uint64_t& state);

// 64-bit FNV-1a: a stable string hash (std::hash is not stable across builds).
uint64_t StableHash(const std::string& s);

// Formats 128 random bits as a version-4 UUID.
std::string FormatUuid(uint64_t hi, uint64_t lo);

}  // namespace keel
