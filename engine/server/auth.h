// Authentication and authorization for keeld. A tokens file maps bearer tokens to a
// principal and its roles; each RPC needs one of a set of roles. Tokens are never logged
// or echoed in errors: only principal names are. Immutable after Load; thread-safe.
//
// Tokens file: one `TOKEN PRINCIPAL ROLE[,ROLE...]` per line; `#` starts a comment.
// Roles: admin (everything), client (start, signal, cancel, terminate, and reading),
// worker (poll and respond, and reading), reviewer:<group> (reading; reviews later).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"

namespace keel::server {

struct Principal {
  std::string name;
  std::set<std::string> roles;  // "admin", "client", "worker", "reviewer:<group>"
};

// What an RPC needs. kClientOrWorker opens a WorkerStream, whose messages then each need
// kClient (a start) or kWorker (polls and completions).
enum class Access { kClient, kWorker, kRead, kClientOrWorker };

class TokenAuth {
 public:
  // No tokens file: authentication is off (keeld then listens on loopback only).
  TokenAuth() = default;
  static Result<TokenAuth> Load(const std::string& path);

  bool enabled() const { return enabled_; }
  // The principal for an "authorization" metadata value ("Bearer <token>"), or
  // UNAUTHENTICATED / PERMISSION_DENIED naming what is missing (never the token).
  Result<const Principal*> Check(std::string_view authorization, Access access, std::string_view method) const;
  // OK when `principal` may make `method`, else PERMISSION_DENIED naming the principal,
  // its roles and the roles needed.
  static Status Permit(const Principal& principal, Access access, std::string_view method);

 private:
  bool enabled_ = false;
  // Searched in full with a constant-time comparison, so that response times do not tell
  // a guesser how much of a token was right.
  std::vector<std::pair<std::string, Principal>> tokens_;
};

}  // namespace keel::server
