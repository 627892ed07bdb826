// The environment an MCP server starts with: a short safe list of variables from Keel's
// own environment, the names the user asked to pass through, then the variables the user
// set explicitly. Secret-looking names are never inherited, so API keys given to Keel do
// not reach third-party servers. Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace keel::tools::mcp {

// True for names such as OPENAI_API_KEY, GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, DB_PASSWORD.
bool LooksSecret(std::string_view name);

// "NAME=value" entries, sorted by name. `parent` is an environ-style array (null-
// terminated); `pass_env` holds names or "PREFIX_*" patterns; `explicit_env` is set last,
// as given.
std::vector<std::string> ServerEnvironment(const char* const* parent,
                                           const std::vector<std::string>& pass_env,
                                           const std::map<std::string, std::string>& explicit_env);

}  // namespace keel::tools::mcp
