#include "engine/server/auth.h"

#include <fstream>
#include <sstream>

namespace keel::server {

namespace {

bool ValidRole(const std::string& role) {
  if (role == "admin" || role == "client" || role == "worker") return true;
  return role.rfind("reviewer:", 0) == 0 && role.size() > 9;
}

bool Allows(const Principal& p, Access access) {
  if (p.roles.count("admin")) return true;
  switch (access) {
    case Access::kClient: return p.roles.count("client") > 0;
    case Access::kWorker: return p.roles.count("worker") > 0;
    case Access::kRead: return !p.roles.empty();  // every role may read
  }
  return false;
}

const char* Needs(Access access) {
  switch (access) {
    case Access::kClient: return "client or admin";
    case Access::kWorker: return "worker or admin";
    case Access::kRead: return "any role";
  }
  return "?";
}

}  // namespace

Result<TokenAuth> TokenAuth::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return FailedPrecondition("cannot read tokens file " + path);
  TokenAuth auth;
  auth.enabled_ = true;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string token, principal, roles, extra;
    if (!(fields >> token)) continue;  // blank line
    const std::string where = path + ":" + std::to_string(n);
    if (!(fields >> principal >> roles) || (fields >> extra)) {
      return InvalidArgument(where + ": expected `TOKEN PRINCIPAL ROLE[,ROLE...]`");
    }
    if (token.size() < 16) return InvalidArgument(where + ": tokens must be at least 16 characters");
    Principal p;
    p.name = principal;
    std::istringstream list(roles);
    for (std::string role; std::getline(list, role, ',');) {
      if (!ValidRole(role)) {
        return InvalidArgument(where + ": unknown role '" + role + "' (admin, client, worker, reviewer:<group>)");
      }
      p.roles.insert(role);
    }
    if (!auth.by_token_.emplace(token, std::move(p)).second) {
      return InvalidArgument(where + ": the same token appears twice");
    }
  }
  if (auth.by_token_.empty()) return InvalidArgument(path + " holds no tokens");
  return auth;
}

Result<const Principal*> TokenAuth::Check(std::string_view authorization, Access access,
                                          std::string_view method) const {
  static const Principal kAnonymous{"anonymous", {"admin"}};
  if (!enabled_) return &kAnonymous;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.empty()) {
    return Status(StatusCode::kUnauthenticated, "missing \"authorization: Bearer <token>\" metadata");
  }
  if (authorization.rfind(kBearer, 0) != 0) {
    return Status(StatusCode::kUnauthenticated, "the authorization metadata must be \"Bearer <token>\"");
  }
  auto it = by_token_.find(authorization.substr(kBearer.size()));
  if (it == by_token_.end()) return Status(StatusCode::kUnauthenticated, "unknown token");
  if (!Allows(it->second, access)) {
    std::string roles;
    for (const auto& r : it->second.roles) roles += (roles.empty() ? "" : ",") + r;
    return Status(StatusCode::kPermissionDenied, "principal '" + it->second.name + "' (roles: " + roles +
                                                     ") may not call " + std::string(method) + " (needs " +
                                                     Needs(access) + ")");
  }
  return &it->second;
}

}  // namespace keel::server
