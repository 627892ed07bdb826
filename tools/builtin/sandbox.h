// Sandbox: file access confined to one directory tree. Every path is resolved from the
// root one component at a time with openat(O_NOFOLLOW | O_DIRECTORY), so neither "..",
// an absolute path nor a symbolic link (planted before or during the call) can lead
// outside. Holds only the root's canonical path; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "engine/status.h"

namespace keel::tools::internal {

class Sandbox {
 public:
  // kInvalidArgument when `root` is not an existing directory.
  static Result<Sandbox> Open(const std::string& root);

  const std::string& root() const { return root_; }

  // Errors: kPermissionDenied (escape attempts: absolute, "..", a symbolic link, a file
  // with other hard links), kNotFound, kInvalidArgument (not a regular file, a directory
  // in the way, over the limit), kUnavailable (the file system failed: EIO, ENOSPC, ...).
  Result<std::string> ReadFile(std::string_view path, size_t max_bytes) const;
  Status WriteFile(std::string_view path, std::string_view content, bool create_directories) const;

 private:
  explicit Sandbox(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace keel::tools::internal
