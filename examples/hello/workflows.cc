#include "examples/hello/workflows.h"

#include <cctype>
#include <chrono>
#include <fstream>

#include "engine/workflow.h"

namespace hello {

using namespace std::chrono_literals;

namespace {

keel::Task<std::string> Hello(keel::WorkflowContext& ctx, std::string name) {
  keel::ActivityOptions options{.start_to_close = 10s, .retry = {.maximum_attempts = 3}};

  auto proper = co_await ctx.ExecuteActivity<std::string>("capitalize", options, name);
  ctx.Logger().info("step 1/3 done: capitalize -> {}", proper);
  auto greeting = co_await ctx.ExecuteActivity<std::string>("pick_greeting", options, proper);
  ctx.Logger().info("step 2/3 done: pick_greeting -> {}", greeting);
  auto text = co_await ctx.ExecuteActivity<std::string>("compose", options, greeting, proper);
  ctx.Logger().info("step 3/3 done: compose -> {}", text);

  co_await ctx.Sleep(1s);  // durable: survives a crash or restart
  ctx.Logger().info("slept 1s; waiting up to 1h for the 'proceed' signal");

  auto first = co_await keel::WhenAny(ctx.WaitSignal<std::string>("proceed"), ctx.Sleep(1h));
  if (first.index() == 0) {
    co_return text + " (" + std::get<0>(first) + ")";
  }
  co_return text + " (no reply within the hour)";
}

void Record(const std::string& ledger, const std::string& activity, const keel::ActivityContext& ctx) {
  if (ledger.empty()) return;
  std::ofstream(ledger, std::ios::app) << activity << " " << ctx.IdempotencyKey() << "\n";
}

}  // namespace

void Register(keel::Registry& registry, const std::string& ledger_path) {
  registry.RegisterWorkflow("hello", Hello);
  registry.RegisterActivity("capitalize", [ledger_path](keel::ActivityContext& ctx, std::string name) {
    Record(ledger_path, "capitalize", ctx);
    bool start = true;
    for (auto& c : name) {
      c = static_cast<char>(start ? std::toupper(c) : std::tolower(c));
      start = c == ' ';
    }
    return name;
  });
  registry.RegisterActivity("pick_greeting", [ledger_path](keel::ActivityContext& ctx, std::string name) {
    Record(ledger_path, "pick_greeting", ctx);
    return std::string(name.size() % 2 ? "Hello" : "Hi");
  });
  registry.RegisterActivity("compose", [ledger_path](keel::ActivityContext& ctx, std::string greeting,
                                                     std::string name) {
    Record(ledger_path, "compose", ctx);
    return greeting + ", " + name + "!";
  });
}

}  // namespace hello
