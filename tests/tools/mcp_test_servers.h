// Commands that start the MCP servers the tests talk to: the reference servers that
// scripts/setup installs with npm into tests/mcp_servers/ (nothing is downloaded at build
// or test time), and tests/tools/fake_mcp_server.mjs for the cases they cannot show.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace keel::tools::testing {

inline std::string ServerScript(const std::string& package) {
  std::string path = std::string(KEEL_MCP_SERVERS_DIR) + "/node_modules/@modelcontextprotocol/" +
                     package + "/dist/index.js";
  if (!std::filesystem::exists(path)) {
    ADD_FAILURE() << path << " is missing: run scripts/setup (npm ci in tests/mcp_servers)";
  }
  return path;
}

inline std::vector<std::string> EverythingServer() {
  return {"node", ServerScript("server-everything"), "stdio"};
}

inline std::vector<std::string> FilesystemServer(const std::string& dir) {
  return {"node", ServerScript("server-filesystem"), dir};
}

inline std::vector<std::string> FakeServer(const std::vector<std::string>& flags = {}) {
  std::vector<std::string> argv = {"node", KEEL_FAKE_MCP_SERVER};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return argv;
}

}  // namespace keel::tools::testing
