// The built-in "read_file" and "write_file" tools, confined to a sandbox directory.
// Paths are relative to the sandbox; absolute paths, ".." and symbolic links (anywhere
// in the path, even ones that point inside) are refused, as are files with other hard
// links. Each path is walked component by component with openat(O_NOFOLLOW), so a link
// swapped in during a call cannot lead out. Errors are error results. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "tools/tool.h"

namespace keel::tools {

struct FileToolsOptions {
  std::string root;                 // the sandbox directory; must exist
  size_t max_read_bytes = 1 << 20;  // larger files are refused, not truncated
  size_t max_write_bytes = 1 << 20;
  bool create_directories = true;  // write_file creates missing parent folders
};

// {"path": "notes/today.md"} -> the file's text. Throws std::invalid_argument when the
// root is not a directory.
std::shared_ptr<Tool> NewReadFileTool(FileToolsOptions options);
// {"path": "notes/today.md", "content": "..."} -> replaces (or creates) the file.
std::shared_ptr<Tool> NewWriteFileTool(FileToolsOptions options);

}  // namespace keel::tools
