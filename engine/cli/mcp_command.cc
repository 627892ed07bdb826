// keel mcp: list and call the tools of an MCP server started over stdio.
//   keel mcp tools [OPTIONS] -- COMMAND [ARGS...]
//   keel mcp call [OPTIONS] TOOL ARGS_JSON -- COMMAND [ARGS...]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/errors.h"
#include "tools/mcp_client.h"
#include "tools/mcp_tool.h"

namespace keel::cli {

namespace {

using tools::Json;

constexpr char kUsage[] =
    "usage: keel mcp tools [OPTIONS] -- COMMAND [ARGS...]\n"
    "       keel mcp call [OPTIONS] TOOL ARGS_JSON -- COMMAND [ARGS...]\n"
    "\n"
    "Starts the MCP server COMMAND over stdio, then lists its tools with their input\n"
    "schemas and annotations ('tools'), or calls TOOL with the JSON object ARGS_JSON\n"
    "('call'; the arguments are checked against the tool's schema first).\n"
    "\n"
    "options:\n"
    "  --json              print JSON (the tools/list entries, or the call's result)\n"
    "  --env NAME=VALUE    set a variable for the server (repeatable)\n"
    "  --pass-env NAME     pass a variable of this environment, NAME or PREFIX_* (repeatable);\n"
    "                      secret-looking names (*API_KEY*, *TOKEN*, ...) never pass\n"
    "  --timeout SECONDS   for the handshake and for each request (default 60)\n"
    "  --cwd DIR           the server's working directory\n"
    "\n"
    "The server gets a scrubbed environment: PATH, HOME, locale and a few more, nothing else.\n"
    "\n"
    "examples:\n"
    "  keel mcp tools -- npx -y @modelcontextprotocol/server-everything\n"
    "  keel mcp call echo '{\"message\":\"hi\"}' -- npx -y "
    "@modelcontextprotocol/server-everything\n";

struct Invocation {
  std::string subcommand;
  bool json = false;
  std::vector<std::string> positional;
  tools::McpServerConfig server;
  tools::McpClientOptions options{.restart_on_failure = false};
};

// One line: an error message on stderr must not span lines.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "keel mcp: %s\n", OneLine(message).c_str());
  return 1;
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "keel mcp: %s (see keel mcp --help)\n", OneLine(message).c_str());
  return 2;
}

// Returns "" on success, else the usage error.
std::string Parse(int argc, char** argv, Invocation& inv) {
  if (argc < 2) return "missing subcommand: tools or call";
  inv.subcommand = argv[1];
  if (inv.subcommand != "tools" && inv.subcommand != "call")
    return "unknown subcommand '" + inv.subcommand + "'";
  int i = 2;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--") {
      ++i;
      break;
    } else if (arg == "--json") {
      inv.json = true;
    } else if (arg == "--env") {
      if (!value(v) || v.find('=') == std::string::npos || v.front() == '=')
        return "--env needs NAME=VALUE";
      inv.server.env[v.substr(0, v.find('='))] = v.substr(v.find('=') + 1);
    } else if (arg == "--pass-env") {
      if (!value(v)) return "--pass-env needs a NAME";
      inv.server.pass_env.push_back(v);
    } else if (arg == "--cwd") {
      if (!value(v)) return "--cwd needs a directory";
      inv.server.working_directory = v;
    } else if (arg == "--timeout") {
      char* end = nullptr;
      double seconds = value(v) ? std::strtod(v.c_str(), &end) : 0;
      // The upper bound also keeps the conversion to a Duration from overflowing.
      if (end == nullptr || *end != '\0' || !(seconds > 0 && seconds <= 86400))
        return "--timeout needs a number of seconds above 0 and at most 86400";
      auto d = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
      inv.options.request_timeout = d;
      inv.options.initialize_timeout = d;
    } else if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      return "unknown option '" + arg + "'";
    } else {
      inv.positional.push_back(arg);
    }
  }
  for (; i < argc; ++i) inv.server.command.push_back(argv[i]);
  if (inv.server.command.empty()) return "missing the server command after --";
  size_t wanted = inv.subcommand == "tools" ? 0 : 2;
  if (inv.positional.size() != wanted) {
    return inv.subcommand == "tools" ? "unexpected argument '" + inv.positional[0] + "'"
                                     : "call needs TOOL and ARGS_JSON before --";
  }
  return "";
}

std::string Hints(const tools::ToolAnnotations& a) {
  std::string out;
  auto add = [&](const std::optional<bool>& hint, const char* label) {
    if (hint.value_or(false)) out += std::string(out.empty() ? "" : ", ") + label;
  };
  add(a.read_only_hint, "read-only");
  add(a.destructive_hint, "destructive");
  add(a.idempotent_hint, "idempotent");
  add(a.open_world_hint, "open-world");
  return out.empty() ? "" : " [" + out + "]";
}

int ListTools(const Invocation& inv, tools::McpClient& client) {
  auto specs = client.ListTools();
  if (!specs.ok()) return Fail(specs.status().message());
  if (inv.json) {
    Json out{{"server", client.ServerInfo()},
             {"protocolVersion", client.ProtocolVersion()},
             {"tools", *specs}};
    std::printf("%s\n", out.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
    return 0;
  }
  Json info = client.ServerInfo();
  std::printf("%s %s (MCP %s): %zu tools\n", info.value("name", "?").c_str(),
              info.value("version", "?").c_str(), client.ProtocolVersion().c_str(), specs->size());
  for (const auto& spec : *specs) {
    std::printf("\n%s%s\n", spec.name.c_str(), Hints(spec.annotations).c_str());
    std::string description = spec.description;
    for (size_t pos = 0; (pos = description.find('\n', pos)) != std::string::npos; pos += 3) {
      description.replace(pos, 1, "\n  ");
    }
    if (!description.empty()) std::printf("  %s\n", description.c_str());
    Json schema = spec.input_schema;
    if (schema.is_object()) schema.erase("$schema");
    std::printf("  input: %s\n",
                schema.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
  }
  return 0;
}

int CallTool(const Invocation& inv, std::shared_ptr<tools::McpClient> client) {
  const std::string& name = inv.positional[0];
  Json args = Json::parse(inv.positional[1], nullptr, /*allow_exceptions=*/false);
  auto loaded = tools::LoadMcpTools(client, {.only = {name}});
  if (!loaded.ok()) return Fail(loaded.status().message());
  tools::ToolResult result;
  try {
    result = loaded->front()->Invoke(args);
  } catch (const Error& e) {
    return Fail(e.what());
  }
  if (inv.json) {
    std::printf("%s\n", Json(result).dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  } else if (!result.is_error) {
    std::printf("%s\n", result.ToText().c_str());
  }
  if (result.is_error) return Fail(name + " returned an error: " + result.ToText());
  return 0;
}

}  // namespace

int McpCommand(int argc, char** argv) {
  for (int i = 1; i < argc && std::string(argv[i]) != "--"; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help" || arg == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  Invocation inv;
  std::string usage_error = Parse(argc, argv, inv);
  if (!usage_error.empty()) return UsageError(usage_error);
  if (inv.subcommand == "call") {
    Json args = Json::parse(inv.positional[1], nullptr, /*allow_exceptions=*/false);
    if (!args.is_object())
      return UsageError("ARGS_JSON must be a JSON object, e.g. '{\"message\":\"hi\"}'");
  }
  auto client = tools::McpClient::Start(inv.server, inv.options);
  if (!client.ok()) return Fail(client.status().message());
  int rc = inv.subcommand == "tools" ? ListTools(inv, **client) : CallTool(inv, *client);
  (*client)->Close();
  return rc;
}

}  // namespace keel::cli
