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
    case Access::kClientOrWorker: return p.roles.count("client") > 0 || p.roles.count("worker") > 0;
  }
  return false;
}

// Equal contents, in a time that depends only on the lengths.
bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

const char* Needs(Access access) {
  switch (access) {
    case Access::kClient: return "client or admin";
    case Access::kWorker: return "worker or admin";
    case Access::kRead: return "any role";
    case Access::kClientOrWorker: return "client, worker or admin";
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
    for (const auto& [known, _] : auth.tokens_) {
      if (known == token) return InvalidArgument(where + ": the same token appears twice");
    }
    auth.tokens_.emplace_back(token, std::move(p));
  }
  if (auth.tokens_.empty()) return InvalidArgument(path + " holds no tokens");
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
  const std::string_view given = authorization.substr(kBearer.size());
  const Principal* principal = nullptr;
  for (const auto& [token, p] : tokens_) {
    if (ConstantTimeEqual(token, given)) principal = &p;
  }
  if (principal == nullptr) return Status(StatusCode::kUnauthenticated, "unknown token");
  KEEL_RETURN_IF_ERROR(Permit(*principal, access, method));
  return principal;
}

Status TokenAuth::Permit(const Principal& principal, Access access, std::string_view method) {
  if (Allows(principal, access)) return Status::Ok();
  std::string roles;
  for (const auto& r : principal.roles) roles += (roles.empty() ? "" : ",") + r;
  return Status(StatusCode::kPermissionDenied, "principal '" + principal.name + "' (roles: " + roles +
                                                   ") may not call " + std::string(method) + " (needs " +
                                                   Needs(access) + ")");
}

}  // namespace keel::server
