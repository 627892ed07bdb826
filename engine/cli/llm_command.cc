// keel llm complete: one model call from the shell, to check a provider configuration
// (spec, key, base URL, tools, schema) before writing code. Prints the reply, tool calls,
// usage and cost (or the ChatResponse JSON); failures are one line on stderr.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/errors.h"
#include "llm_providers/chat.h"
#include "llm_providers/model_spec.h"

namespace keel::cli {

namespace {

using nlohmann::json;

constexpr char kUsage[] =
    "usage: keel llm complete [options] PROMPT\n"
    "\n"
    "Sends PROMPT to a model once and prints the reply, tool calls, usage and cost.\n"
    "PROMPT '-' reads the prompt from stdin.\n"
    "\n"
    "options:\n"
    "  --model SPEC       openai:MODEL, anthropic:MODEL, ollama:MODEL or offline\n"
    "                     (default: $KEEL_MODEL, else offline)\n"
    "  --base-url URL     the provider's base URL (e.g. http://127.0.0.1:8000/v1 for vLLM)\n"
    "  --system TEXT      a system prompt\n"
    "  --tools FILE       a JSON array of tools: {\"name\", \"description\", \"parameters\"}\n"
    "  --schema FILE      a JSON schema the reply must match (structured output)\n"
    "  --max-tokens N     the reply's token limit\n"
    "  --temperature T    sampling temperature\n"
    "  --timeout SECONDS  the whole request's limit (default 120)\n"
    "  --json             print the response as JSON (the ChatResponse model)\n"
    "\n"
    "Keys come from OPENAI_API_KEY / ANTHROPIC_API_KEY; base URLs from OPENAI_BASE_URL,\n"
    "ANTHROPIC_BASE_URL, OLLAMA_BASE_URL. Exit status: 0 ok, 1 the call failed, 2 bad usage.\n";

// A usage problem: exit 2.
struct UsageError {
  std::string message;
};

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

json ReadJsonFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError{flag + ": cannot read " + path};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw UsageError{flag + ": " + path + " is not valid JSON"};
  return j;
}

// Also accepts OpenAI's {"type":"function","function":{...}} and Anthropic's input_schema.
std::vector<llm::ToolDefinition> ParseTools(const json& j) {
  if (!j.is_array()) throw UsageError{"--tools: expected a JSON array of tools"};
  std::vector<llm::ToolDefinition> tools;
  for (json t : j) {
    if (t.is_object() && t.contains("function")) t = t.at("function");
    if (t.is_object() && t.contains("input_schema") && !t.contains("parameters")) {
      t["parameters"] = t.at("input_schema");
    }
    if (!t.is_object() || !t.contains("name") || !t.at("name").is_string()) {
      throw UsageError{"--tools: every tool needs a \"name\""};
    }
    try {
      tools.push_back(t.get<llm::ToolDefinition>());
    } catch (const json::exception& e) {
      throw UsageError{"--tools: " + std::string(e.what())};
    }
  }
  return tools;
}

// A bare schema, or {"name", "schema", "strict"}.
llm::OutputSchema ParseSchema(const json& j) {
  if (!j.is_object()) throw UsageError{"--schema: expected a JSON schema object"};
  if (j.contains("schema") && j.at("schema").is_object()) return j.get<llm::OutputSchema>();
  return {.schema = j};
}

constexpr double kMaxTimeoutSeconds = 86400;

// A finite number ("nan" and "inf" are not).
double ParseNumber(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw UsageError{flag + ": not a number: " + text};
}

struct Args {
  std::optional<std::string> model;
  std::string base_url;
  std::string system;
  std::string tools_file;
  std::string schema_file;
  std::optional<int> max_tokens;
  std::optional<double> temperature;
  std::optional<double> timeout_seconds;
  bool json = false;
  bool help = false;
  std::vector<std::string> prompt;
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    std::optional<std::string> inline_value;
    if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) {
      inline_value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
    }
    auto value = [&]() -> std::string {
      if (inline_value) return *inline_value;
      if (i + 1 >= argc) throw UsageError{arg + " needs a value"};
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      a.help = true;
    } else if (arg == "--json") {
      a.json = true;
    } else if (arg == "--model") {
      a.model = value();
    } else if (arg == "--base-url") {
      a.base_url = value();
    } else if (arg == "--system") {
      a.system = value();
    } else if (arg == "--tools") {
      a.tools_file = value();
    } else if (arg == "--schema") {
      a.schema_file = value();
    } else if (arg == "--max-tokens") {
      const std::string flag = arg;
      double n = ParseNumber(flag, value());
      if (n < 1 || n != static_cast<int>(n))
        throw UsageError{flag + ": expected a positive integer"};
      a.max_tokens = static_cast<int>(n);
    } else if (arg == "--temperature") {
      const std::string flag = arg;
      a.temperature = ParseNumber(flag, value());
    } else if (arg == "--timeout") {
      const std::string flag = arg;
      a.timeout_seconds = ParseNumber(flag, value());
      // Also keeps the conversion to a Duration from overflowing.
      if (*a.timeout_seconds <= 0 || *a.timeout_seconds > kMaxTimeoutSeconds)
        throw UsageError{flag + ": expected a number of seconds above 0 and at most 86400"};
    } else if (arg == "--") {
      for (++i; i < argc; ++i) a.prompt.push_back(argv[i]);
    } else if (arg.size() > 1 && arg[0] == '-') {
      throw UsageError{"unknown option " + arg};
    } else {
      a.prompt.push_back(arg);
    }
  }
  return a;
}

std::string FormatCost(const llm::ChatResponse& r) {
  if (r.cost.unknown_price) return "unknown (no price for model '" + r.model + "')";
  char buf[64];
  std::snprintf(buf, sizeof buf, "$%.6f", r.cost.usd);
  return buf;
}

void PrintHuman(const llm::ChatResponse& r) {
  const std::string text = r.Text();
  if (!text.empty()) std::printf("%s\n", text.c_str());
  for (const auto& call : r.ToolCalls()) {
    std::printf("tool call: %s %s (id %s)\n", call.name.c_str(), call.ArgumentsText().c_str(),
                call.id.c_str());
  }
  std::printf("\nmodel: %s (%s), finish: %s\n", r.model.c_str(), r.provider.c_str(),
              std::string(llm::FinishReasonName(r.finish_reason)).c_str());
  const auto& u = r.usage;
  std::string usage = "usage: " + std::to_string(u.input_tokens) + " input";
  if (u.cached_input_tokens) usage += " (" + std::to_string(u.cached_input_tokens) + " cached)";
  usage += ", " + std::to_string(u.output_tokens) + " output";
  if (u.reasoning_tokens) usage += " (" + std::to_string(u.reasoning_tokens) + " reasoning)";
  std::printf("%s tokens\ncost: %s\n", usage.c_str(), FormatCost(r).c_str());
}

int Complete(int argc, char** argv) {
  Args args = ParseArgs(argc, argv);
  if (args.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args.prompt.empty()) throw UsageError{"no PROMPT given"};
  std::string prompt;
  for (const auto& p : args.prompt) prompt += (prompt.empty() ? "" : " ") + p;
  if (prompt == "-")
    prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());

  llm::ChatRequest request;
  if (!args.system.empty()) request.messages.push_back(llm::Message::System(args.system));
  request.messages.push_back(llm::Message::User(prompt));
  if (!args.tools_file.empty())
    request.tools = ParseTools(ReadJsonFile("--tools", args.tools_file));
  if (!args.schema_file.empty())
    request.output_schema = ParseSchema(ReadJsonFile("--schema", args.schema_file));
  request.sampling.max_tokens = args.max_tokens;
  request.sampling.temperature = args.temperature;

  llm::ProviderOptions options{.base_url = args.base_url};
  if (args.timeout_seconds) {
    options.timeout =
        std::chrono::duration_cast<Duration>(std::chrono::duration<double>(*args.timeout_seconds));
  }
  const std::string spec = args.model ? *args.model : llm::ModelSpecFromEnv(options);
  auto parsed = llm::ParseModelSpec(spec);
  if (!parsed.ok()) throw UsageError{parsed.status().message()};
  auto provider = llm::NewProvider(spec, options);
  if (!provider.ok()) {
    std::fprintf(stderr, "keel llm: %s\n", OneLine(provider.status().message()).c_str());
    return 1;
  }

  llm::ChatResponse response;
  try {
    response = (*provider)->Complete(request);
  } catch (const ApplicationError& e) {
    std::fprintf(stderr, "keel llm: %s: %s\n", e.Type().c_str(), OneLine(e.what()).c_str());
    return 1;
  }
  if (args.json) {
    std::printf("%s\n", json(response).dump(2).c_str());
  } else {
    PrintHuman(response);
  }
  return 0;
}

}  // namespace

int LlmCommand(int argc, char** argv) {
  // argv[0] is "llm".
  if (argc < 2) {
    std::fputs("keel llm: missing subcommand: complete (see keel llm --help)\n", stderr);
    return 2;
  }
  if (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const std::string sub = argv[1];
  if (sub != "complete") {
    std::fprintf(stderr, "keel llm: unknown subcommand '%s' (see keel llm --help)\n", sub.c_str());
    return 2;
  }
  try {
    return Complete(argc - 2, argv + 2);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "keel llm: %s (see keel llm --help)\n", OneLine(e.message).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keel llm: %s\n", OneLine(e.what()).c_str());
    return 1;
  }
}

}  // namespace keel::cli
