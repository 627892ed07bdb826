#include "tools/file_tools.h"

#include <stdexcept>

#include "engine/errors.h"
#include "tools/builtin/sandbox.h"
#include "tools/internal/utf8.h"

namespace keel::tools {

namespace {

const char kPathDescription[] =
    "A path relative to the sandbox directory, e.g. \"notes/today.md\" (no leading '/', no '..').";

internal::Sandbox OpenSandbox(const FileToolsOptions& options) {
  auto sandbox = internal::Sandbox::Open(options.root);
  if (!sandbox.ok()) throw std::invalid_argument(sandbox.status().message());
  return std::move(sandbox).value();
}

// A failing file system (disk full, I/O error) is an infrastructure failure worth a
// retry; everything else is the model's to correct.
ToolResult ErrorResult(const Status& status, const char* verb) {
  if (status.code() == StatusCode::kUnavailable) {
    throw ApplicationError("FileSystemError", status.message());
  }
  return ToolResult::Error(std::string("cannot ") + verb + " " + status.message());
}

class ReadFileTool final : public Tool {
 public:
  explicit ReadFileTool(const FileToolsOptions& options)
      : Tool(ToolSpec{
            .name = "read_file",
            .description = "Reads a text file from the sandbox directory and returns its content.",
            .input_schema =
                Json{{"type", "object"},
                     {"properties",
                      {{"path", {{"type", "string"}, {"description", kPathDescription}}}}},
                     {"required", {"path"}},
                     {"additionalProperties", false}},
            .annotations = {.read_only_hint = true,
                            .destructive_hint = false,
                            .idempotent_hint = true,
                            .open_world_hint = false}}),
        sandbox_(OpenSandbox(options)),
        max_bytes_(options.max_read_bytes) {}

 protected:
  ToolResult Run(const Json& args, const ToolContext&) const override {
    const std::string path = args.at("path").get<std::string>();
    Result<std::string> data = sandbox_.ReadFile(path, max_bytes_);
    if (!data.ok()) return ErrorResult(data.status(), "read");
    if (internal::LooksBinary(*data)) {
      return ToolResult::Error("cannot read '" + path + "': a binary file (" +
                               std::to_string(data->size()) +
                               " bytes); only text files can be read");
    }
    return ToolResult::Text(internal::ValidUtf8(*data));
  }

 private:
  internal::Sandbox sandbox_;
  size_t max_bytes_;
};

class WriteFileTool final : public Tool {
 public:
  explicit WriteFileTool(const FileToolsOptions& options)
      : Tool(ToolSpec{
            .name = "write_file",
            .description = "Writes a text file in the sandbox directory, replacing it if it exists "
                           "and creating missing folders.",
            .input_schema =
                Json{{"type", "object"},
                     {"properties",
                      {{"path", {{"type", "string"}, {"description", kPathDescription}}},
                       {"content", {{"type", "string"}, {"description", "The whole new text."}}}}},
                     {"required", {"path", "content"}},
                     {"additionalProperties", false}},
            .annotations = {.read_only_hint = false,
                            .destructive_hint = true,
                            .idempotent_hint = true,
                            .open_world_hint = false}}),
        sandbox_(OpenSandbox(options)),
        options_(options) {}

 protected:
  ToolResult Run(const Json& args, const ToolContext&) const override {
    const std::string path = args.at("path").get<std::string>();
    const std::string& content = args.at("content").get_ref<const std::string&>();
    if (content.size() > options_.max_write_bytes) {
      return ToolResult::Error("cannot write '" + path + "': " + std::to_string(content.size()) +
                               " bytes is over the limit of " +
                               std::to_string(options_.max_write_bytes));
    }
    Status written = sandbox_.WriteFile(path, content, options_.create_directories);
    if (!written.ok()) return ErrorResult(written, "write");
    return ToolResult::Text("wrote " + std::to_string(content.size()) + " bytes to " + path);
  }

 private:
  internal::Sandbox sandbox_;
  FileToolsOptions options_;
};

}  // namespace

std::shared_ptr<Tool> NewReadFileTool(FileToolsOptions options) {
  return std::make_shared<ReadFileTool>(options);
}
std::shared_ptr<Tool> NewWriteFileTool(FileToolsOptions options) {
  return std::make_shared<WriteFileTool>(options);
}

}  // namespace keel::tools
