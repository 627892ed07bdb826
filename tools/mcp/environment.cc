#include "tools/mcp/environment.h"

#include <algorithm>
#include <cctype>

namespace keel::tools::mcp {

namespace {

// Enough for a server to run (find programs, a home for caches, locale and time zone,
// temporary files, extra CA certificates) and nothing that could hold a credential.
constexpr std::string_view kSafeNames[] = {
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "TZ",
    "LANG",
    "LANGUAGE",
    "TMPDIR",
    "TMP",
    "TEMP",
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
};
constexpr std::string_view kSafePrefixes[] = {"LC_"};

constexpr std::string_view kSecretWords[] = {
    "API_KEY", "APIKEY",     "ACCESS_KEY", "PRIVATE_KEY", "SECRET", "TOKEN",   "PASSWORD",
    "PASSWD",  "PASSPHRASE", "CREDENTIAL", "AUTH",        "COOKIE", "SESSION",
};

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return out;
}

bool Matches(std::string_view name, std::string_view pattern) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return name.substr(0, pattern.size()) == pattern;
  }
  return name == pattern;
}

bool Inherited(std::string_view name, const std::vector<std::string>& pass_env) {
  if (LooksSecret(name)) return false;
  for (auto safe : kSafeNames) {
    if (name == safe) return true;
  }
  for (auto prefix : kSafePrefixes) {
    if (name.substr(0, prefix.size()) == prefix) return true;
  }
  for (const auto& pattern : pass_env) {
    if (Matches(name, pattern)) return true;
  }
  return false;
}

}  // namespace

bool LooksSecret(std::string_view name) {
  std::string upper = Upper(name);
  for (auto word : kSecretWords) {
    if (upper.find(word) != std::string::npos) return true;
  }
  // STRIPE_KEY, KEY, ...: a trailing KEY is a key.
  return upper == "KEY" || (upper.size() > 4 && upper.compare(upper.size() - 4, 4, "_KEY") == 0);
}

std::vector<std::string> ServerEnvironment(const char* const* parent,
                                           const std::vector<std::string>& pass_env,
                                           const std::map<std::string, std::string>& explicit_env) {
  std::map<std::string, std::string> env;
  for (const char* const* p = parent; p != nullptr && *p != nullptr; ++p) {
    std::string_view entry(*p);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string_view name = entry.substr(0, eq);
    if (Inherited(name, pass_env)) env[std::string(name)] = std::string(entry.substr(eq + 1));
  }
  for (const auto& [name, value] : explicit_env) env[name] = value;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

}  // namespace keel::tools::mcp
