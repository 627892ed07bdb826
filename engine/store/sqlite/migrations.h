// The schema migrations engine/store/migrations/NNNN_*.sql, embedded into keel_store at
// build time (engine/store/CMakeLists.txt generates the definition). Immutable data:
// safe from any thread.
#pragma once

#include <span>
#include <string_view>

namespace keel::store::sqlite {

struct Migration {
  int version;            // NNNN: the schema version (PRAGMA user_version) once applied
  std::string_view name;  // the file name, for error messages
  std::string_view sql;
};

// Every migration, in version order; versions are 1, 2, ... without gaps.
std::span<const Migration> Migrations();

}  // namespace keel::store::sqlite
