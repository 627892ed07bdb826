// The embedded BenchEnv: engine, worker and client in this process.
#include <memory>

#include "bench/bench_env.h"
#include "bench/stats.h"
#include "bench/temp_engine.h"
#include "bench/tuning.h"
#include "bench/workflows.h"

namespace keel::bench {

namespace {

class EmbeddedEnv final : public BenchEnv {
 public:
  explicit EmbeddedEnv(const BenchOptions& options)
      : engine_(options),
        registry_(BenchRegistry()),
        worker_(engine_.engine(), registry_, BenchWorkerOptions(options)),
        client_(engine_.engine()) {
    worker_.Start();
  }

  Client& client() override { return client_; }
  Worker::Stats StopWorker() override {
    worker_.Stop();
    return worker_.stats();
  }
  void AddPeakRss(nlohmann::ordered_json& result) override {
    result["peak_rss_mb"] = Round(PeakRssMb(), 1);
  }
  std::vector<Process> Processes() const override { return {{"", 0}}; }

 private:
  TempEngine engine_;
  Registry registry_;
  Worker worker_;
  Client client_;
};

}  // namespace

std::unique_ptr<BenchEnv> OpenEmbeddedEnv(const BenchOptions& options) {
  return std::make_unique<EmbeddedEnv>(options);
}

}  // namespace keel::bench
